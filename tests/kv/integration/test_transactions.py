"""MULTI/EXEC/DISCARD/WATCH: queuing, errors, EXECABORT, optimistic locking."""

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


if __name__ == "__main__":
    unittest.main()
