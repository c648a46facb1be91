"""MULTI/EXEC/DISCARD/WATCH: queuing, errors, EXECABORT, optimistic locking."""

import time
import unittest

from harness import RespError, ServerTestCase


class MultiExecTest(ServerTestCase):
    def test_multi_exec(self):
        c = self.c
        self.assertEqual(c.cmd("MULTI"), "OK")
        self.assertEqual(c.cmd("SET", "a", "1"), "QUEUED")
        self.assertEqual(c.cmd("INCR", "a"), "QUEUED")
        self.assertEqual(c.cmd("GET", "a"), "QUEUED")
        self.assertEqual(c.cmd("EXEC"), ["OK", 2, b"2"])
        self.assertEqual(c.cmd("EXEC"), RespError("ERR EXEC without MULTI"))

    def test_empty_exec(self):
        c = self.c
        c.cmd("MULTI")
        self.assertEqual(c.cmd("EXEC"), [])

    def test_runtime_error_inside_exec(self):
        c = self.c
        c.cmd("SET", "s", "notanumber")
        c.cmd("MULTI")
        c.cmd("SET", "a", "1")
        c.cmd("INCR", "s")
        c.cmd("SET", "b", "2")
        reply = c.cmd("EXEC")
        self.assertEqual(reply[0], "OK")
        self.assertErr(reply[1], "ERR value is not an integer or out of range")
        self.assertEqual(reply[2], "OK")
        self.assertEqual(c.cmd("MGET", "a", "b"), [b"1", b"2"])

    def test_queue_error_aborts(self):
        c = self.c
        c.cmd("MULTI")
        c.cmd("SET", "a", "1")
        self.assertErr(c.cmd("NOSUCH"), "ERR unknown command 'NOSUCH', with "
                       "args beginning with: ")
        self.assertErr(c.cmd("GET"),
                       "ERR wrong number of arguments for 'get' command")
        self.assertErr(c.cmd("EXEC"), "EXECABORT Transaction discarded "
                       "because of previous errors.")
        self.assertEqual(c.cmd("EXISTS", "a"), 0)

    def test_discard_and_nesting(self):
        c = self.c
        self.assertErr(c.cmd("DISCARD"), "ERR DISCARD without MULTI")
        c.cmd("MULTI")
        self.assertErr(c.cmd("MULTI"), "ERR MULTI calls can not be nested")
        c.cmd("SET", "a", "1")
        self.assertErr(c.cmd("WATCH", "a"),
                       "ERR WATCH inside MULTI is not allowed")
        self.assertEqual(c.cmd("DISCARD"), "OK")
        self.assertEqual(c.cmd("EXISTS", "a"), 0)

    def test_watch_conflict(self):
        self.c.cmd("SET", "w", "1")
        self.assertIsNone(self.exec_after_other_writes(
            "w", ("SET", "w", "2"), ("SET", "w", "3")))
        self.assertEqual(self.c.cmd("GET", "w"), b"2")

    def test_watch_no_conflict_and_unwatch(self):
        c = self.c
        c.cmd("WATCH", "w")
        c.cmd("MULTI")
        c.cmd("SET", "w", "mine")
        self.assertEqual(c.cmd("EXEC"), ["OK"])
        c.cmd("WATCH", "w")
        with self.server.client() as other:
            other.cmd("SET", "w", "theirs")
        self.assertEqual(c.cmd("UNWATCH"), "OK")
        c.cmd("MULTI")
        c.cmd("SET", "w", "mine2")
        self.assertEqual(c.cmd("EXEC"), ["OK"])

    def test_watch_missing_key_created(self):
        self.assertIsNone(self.exec_after_other_writes(
            "nokey", ("SET", "nokey", "x"), ("SET", "nokey", "y")))

    def test_watch_deleted_key_is_touched(self):
        self.c.cmd("SET", "w", "1")
        self.assertIsNone(self.exec_after_other_writes("w", ("DEL", "w")))

    def test_watch_untouched_key_commits(self):
        self.c.cmd("SET", "w", "1")
        self.assertEqual(self.exec_after_other_writes(
            "w", ("SET", "other", "2"), ("INCR", "w")), [2])

    def test_redis_py_transaction(self):
        r = self.server.redis()
        r.set("counter", 10)

        def bump(pipe):
            value = int(pipe.get("counter"))
            pipe.multi()
            pipe.set("counter", value + 5)

        r.transaction(bump, "counter")
        self.assertEqual(r.get("counter"), b"15")
        r.close()


# (name, setup, other client's commands, EXEC aborted?) for WATCH k:
# Redis 7.0 aborts when any command wrote k since the WATCH, even back to
# the same state, and only then (a no-op on k does not count).
WATCH_CASES = [
    ("absent, SET then DEL", [], [("SET", "k", "1"), ("DEL", "k")], True),
    ("absent, DEL of absent", [], [("DEL", "k")], False),
    ("absent, GETDEL of absent", [], [("GETDEL", "k")], False),
    ("absent, FLUSHALL", [("SET", "x", "1")], [("FLUSHALL",)], False),
    ("present, FLUSHALL", [("SET", "k", "1")], [("FLUSHALL",)], True),
    ("present, SET same value", [("SET", "k", "1")], [("SET", "k", "1")],
     True),
    ("present, EXPIRE", [("SET", "k", "1")], [("EXPIRE", "k", 100)], True),
    ("present, PERSIST without TTL", [("SET", "k", "1")], [("PERSIST", "k")],
     False),
    ("TTL, PERSIST", [("SET", "k", "1", "EX", 100)], [("PERSIST", "k")],
     True),
    ("present, GETEX", [("SET", "k", "1")], [("GETEX", "k")], False),
    ("present, GETEX PERSIST without TTL", [("SET", "k", "1")],
     [("GETEX", "k", "PERSIST")], False),
    ("TTL, GETEX PERSIST", [("SET", "k", "1", "EX", 100)],
     [("GETEX", "k", "PERSIST")], True),
    ("present, SET NX fails", [("SET", "k", "1")], [("SET", "k", "2", "NX")],
     False),
    ("absent, SET XX fails", [], [("SET", "k", "2", "XX")], False),
    ("present, APPEND empty", [("SET", "k", "1")], [("APPEND", "k", "")],
     True),
    ("absent, APPEND empty", [], [("APPEND", "k", "")], True),
    ("present, SETRANGE empty", [("SET", "k", "1")],
     [("SETRANGE", "k", 0, "")], False),
    ("absent, EXEC of another client", [],
     [("MULTI",), ("SET", "k", "1"), ("EXEC",)], True),
    ("RENAME from k", [("SET", "k", "1")], [("RENAME", "k", "z")], True),
    ("RENAME to k", [("SET", "s", "1")], [("RENAME", "s", "k")], True),
    ("RENAMENX to existing k", [("SET", "s", "1"), ("SET", "k", "1")],
     [("RENAMENX", "s", "k")], False),
    ("RENAME k to itself", [("SET", "k", "1")], [("RENAME", "k", "k")],
     False),
    ("EXPIRE NX fails", [("SET", "k", "1", "EX", 100)],
     [("EXPIRE", "k", 5, "NX")], False),
    ("EXPIRE in the past", [("SET", "k", "1")], [("EXPIRE", "k", -1)], True),
    ("absent, EXPIRE", [], [("EXPIRE", "k", 100)], False),
    ("present, GETDEL", [("SET", "k", "1")], [("GETDEL", "k")], True),
    ("COPY onto k", [("SET", "k", "1"), ("SET", "s", "2")],
     [("COPY", "s", "k", "REPLACE")], True),
    ("COPY from k", [("SET", "k", "1")], [("COPY", "k", "dst")], False),
    ("MSETNX fails", [("SET", "q", "1")], [("MSETNX", "k", "1", "q", "2")],
     False),
    ("MSET of other keys", [("SET", "k", "1")], [("MSET", "a", "1", "b", "2")],
     False),
    ("MSET including k", [("SET", "k", "1")], [("MSET", "a", "1", "k", "2")],
     True),
    ("absent, INCR", [], [("INCR", "k")], True),
    ("INCRBY 0", [("SET", "k", "1")], [("INCRBY", "k", 0)], True),
    ("absent, SET EXAT in the past", [], [("SET", "k", "1", "EXAT", 1)],
     True),
    ("absent, GETSET", [], [("GETSET", "k", "1")], True),
]


class WatchSemanticsTest(ServerTestCase):
    def run_case(self, setup, other_cmds, mine=()):
        c = self.c
        for cmd in setup:
            c.cmd(*cmd)
        self.assertEqual(c.cmd("WATCH", "k"), "OK")
        with self.server.client() as other:
            for cmd in other_cmds:
                other.cmd(*cmd)
        for cmd in mine:
            c.cmd(*cmd)
        self.assertEqual(c.cmd("MULTI"), "OK")
        self.assertEqual(c.cmd("PING"), "QUEUED")
        return c.cmd("EXEC")

    def test_which_writes_abort_exec(self):
        for name, setup, other_cmds, aborts in WATCH_CASES:
            with self.subTest(name):
                self.assertEqual(self.c.cmd("FLUSHALL"), "OK")
                reply = self.run_case(setup, other_cmds)
                self.assertEqual(reply, None if aborts else ["PONG"], name)

    def test_own_write_aborts(self):
        self.assertIsNone(self.run_case([("SET", "k", "1")], [],
                                        mine=[("SET", "k", "2")]))

    def test_key_expired_before_watch(self):
        """Expired (not yet reclaimed) at WATCH: no change; a SET is one.
        (Expiry after the WATCH: test_edges.test_watched_key_expiring.)"""
        c = self.c
        self.assertEqual(c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", 0), "OK")
        try:
            c.cmd("SET", "k", "1", "PX", 50)
            time.sleep(0.15)
            self.assertEqual(self.run_case([], []), ["PONG"])
            c.cmd("SET", "k", "1", "PX", 50)
            time.sleep(0.15)
            self.assertIsNone(self.run_case([], [("SET", "k", "2")]))
        finally:
            c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", 1)

    def test_unwatch_and_discard_forget(self):
        c = self.c
        c.cmd("SET", "k", "1")
        c.cmd("WATCH", "k")
        c.cmd("UNWATCH")
        with self.server.client() as other:
            other.cmd("SET", "k", "2")
        c.cmd("MULTI")
        c.cmd("PING")
        self.assertEqual(c.cmd("EXEC"), ["PONG"])
        c.cmd("WATCH", "k")
        with self.server.client() as other:
            other.cmd("SET", "k", "3")
        c.cmd("MULTI")
        c.cmd("DISCARD")
        c.cmd("MULTI")
        c.cmd("PING")
        self.assertEqual(c.cmd("EXEC"), ["PONG"])


if __name__ == "__main__":
    unittest.main()
