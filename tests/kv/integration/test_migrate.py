"""MIGRATE (issue 15, part 5), differential: every scenario runs twice, once
from the server under test and once from a reference redis-server, each
migrating to the same kinds of targets (redis-server and daxkv-server,
with and without requirepass, down, silent); the two reply logs must be
identical, and the test also asserts what Redis 7.0 answers, what the
targets hold (key by key, type-wise, with TTLs) and what the source kept.

The daxkv targets need a daxkv-server binary: the suite's with --target
daxkv, else DAXKV_IT_DAXKV_SERVER or build/bin/daxkv-server (the classes
are skipped without one)."""

import socket
import threading
import time
import unittest

from harness import RespError, ServerProcess, is_daxkv
from migrate_support import (
    BUSY, CONNECTING, KEYS, NOAUTH, PASS, READING, WRITING, WRONGPASS,
    MigrateBase, SilentServer, SlowOkServer, populate, raw_reply,
    start_targets, stop_targets, value_of)


def setUpModule():
    start_targets()


def tearDownModule():
    stop_targets()


class MigrateMoveTest(MigrateBase):
    def check_moved(self, name, src, want, ttls, db=0):
        """The target holds `want` (key -> value_of) with TTLs no longer
        than the source's; the source has none of them."""
        t = self.target(name)
        t.cmd("SELECT", db)
        for key, value in want.items():
            self.assertEqual(value_of(t, key), value, "%s on %s" % (key, name))
            pttl = t.cmd("PTTL", key)
            if ttls[key] < 0:
                self.assertEqual(pttl, -1, key)
            else:
                self.assertTrue(ttls[key] - 10000 < pttl <= ttls[key],
                                (key, pttl, ttls[key]))
            self.assertEqual(src.cmd("EXISTS", key), 0, key)

    def every_type(self, name):
        def scenario(src):
            populate(src)
            want = {k: value_of(src, k) for k in KEYS}
            ttls = {k: src.cmd("PTTL", k) for k in KEYS}
            log = [self.migrate(src, name, k) for k in KEYS[:4]]
            log.append(self.migrate(src, name, "", "KEYS", *KEYS[4:]))
            self.check_moved(name, src, want, ttls)
            return log
        self.assertEqual(self.sources(scenario), ["OK"] * 5)

    def test_every_type_with_ttl_to_redis(self):
        self.every_type("redis")

    def test_every_type_with_ttl_to_daxkv(self):
        self.every_type("daxkv")

    def test_payload_dump_equal_on_redis_target(self):
        """Small values: the target's DUMP is the source's, byte for byte."""
        def scenario(src):
            populate(src)
            # Not "set": a small set is a hash table in Redis 7.0, whose
            # order a RESTORE does not keep.
            small = ["str", "num", "hash", "list", "iset", "zset"]
            dumps = [src.cmd("DUMP", k) for k in small]
            log = [self.migrate(src, "redis", "", "KEYS", *small)]
            t = self.target("redis")
            log.append([t.cmd("DUMP", k) for k in small] == dumps)
            return log
        self.assertEqual(self.sources(scenario), ["OK", True])

    def test_copy_keeps_the_source(self):
        def scenario(src):
            populate(src)
            log = []
            for name in ("redis", "daxkv"):
                log.append(self.migrate(src, name, "hash", "COPY"))
                log.append(self.migrate(src, name, "", "COPY", "KEYS",
                                        "list", "zset"))
                t = self.target(name)
                for k in ("hash", "list", "zset"):
                    log.append(value_of(t, k) == value_of(src, k))
            log.append(src.cmd("EXISTS", "hash", "list", "zset"))
            return log
        self.assertEqual(self.sources(scenario),
                         ["OK", "OK", True, True, True] * 2 + [3])

    def test_replace_and_busykey(self):
        def scenario(src):
            log = []
            for name in ("redis", "daxkv"):
                t = self.target(name)
                t.cmd("SET", "k", "old")
                src.cmd("SET", "k", "new")
                log.append(self.migrate(src, name, "k"))
                log.append((src.cmd("GET", "k"), t.cmd("GET", "k")))
                log.append(self.migrate(src, name, "k", "REPLACE"))
                log.append((src.cmd("EXISTS", "k"), t.cmd("GET", "k")))
                # KEYS a b c with b busy: a and c move, b stays.
                t.cmd("SET", "b", "theirs")
                src.cmd("MSET", "a", "1", "b", "2", "c", "3")
                log.append(self.migrate(src, name, "", "KEYS", "a", "b", "c"))
                log.append(src.cmd("MGET", "a", "b", "c"))
                log.append(t.cmd("MGET", "a", "b", "c"))
            return log
        log = self.sources(scenario)
        self.assertEqual(log[:7], [
            RespError(BUSY), (b"new", b"old"), "OK", (0, b"new"),
            RespError(BUSY), [None, b"2", None], [b"1", b"theirs", b"3"]])
        self.assertEqual(log[7:], log[:7])

    def test_inside_multi_and_scripts(self):
        """In a block too, the keys the target took before its error are
        deleted; in a script MIGRATE runs as a command."""
        def scenario(src):
            src.cmd("MSET", "a", "1", "c", "3", "d", "4")
            self.target("daxkv").cmd("SET", "c", "theirs")
            port = self.targets["daxkv"].port
            log = [src.cmd("EVAL", "return redis.call('MIGRATE', "
                           "'127.0.0.1', ARGV[1], 'a', 0, 1000)", 0, port),
                   src.cmd("MULTI"),
                   self.migrate(src, "daxkv", "", "KEYS", "d", "c"),
                   src.cmd("INCR", "n"),
                   src.cmd("EXEC"),
                   src.cmd("MGET", "a", "c", "d"),
                   self.target("daxkv").cmd("MGET", "a", "c", "d")]
            return log
        self.assertEqual(self.sources(scenario), [
            "OK", "OK", "QUEUED", "QUEUED", [RespError(BUSY), 1],
            [None, b"3", None], [b"1", b"theirs", b"4"]])

    def test_keys_with_missing_and_nokey(self):
        def scenario(src):
            src.cmd("SET", "a", "1")
            src.cmd("SET", "gone", "x", "PX", 1)
            time.sleep(0.01)
            return [self.migrate(src, "daxkv", "nosuch"),
                    self.migrate(src, "daxkv", "", "KEYS", "x", "gone"),
                    self.migrate(src, "daxkv", "", "KEYS", "x", "a", "y"),
                    src.cmd("EXISTS", "a"),
                    self.target("daxkv").cmd("GET", "a"),
                    self.migrate(src, "daxkv", "", "KEYS")]
        self.assertEqual(self.sources(scenario),
                         ["NOKEY", "NOKEY", "OK", 0, b"1", "NOKEY"])

    def test_destination_db(self):
        def scenario(src):
            src.cmd("SET", "k", "v", "PX", 100000)
            log = [self.migrate(src, "redis", "k", "COPY", db=1)]
            t = self.target("redis")
            log.append(t.cmd("EXISTS", "k"))
            t.cmd("SELECT", 1)
            log.append(t.cmd("GET", "k"))
            log.append(0 < t.cmd("PTTL", "k") <= 100000)
            # A cached connection keeps its database: db 0 again.
            log.append(self.migrate(src, "redis", "k", db=0))
            log.append(self.target("redis").cmd("GET", "k"))
            src.cmd("SET", "k2", "v")
            log.append(self.migrate(src, "daxkv", "k2", db=1))
            log.append(self.migrate(src, "redis", "k2", db=16))
            log.append(src.cmd("GET", "k2"))
            return log
        self.assertEqual(self.sources(scenario), [
            "OK", 0, b"v", True, "OK", b"v",
            RespError("ERR Target instance replied with error: ERR DB index "
                      "is out of range"),
            RespError("ERR Target instance replied with error: ERR DB index "
                      "is out of range"), b"v"])

    def test_watch_sees_the_delete(self):
        def scenario(src):
            src.cmd("SET", "k", "v")
            src.cmd("WATCH", "k")
            other = (self.server if src is self.c else self.peer).client()
            with other:
                log = [self.migrate(other, "redis", "k")]
            src.cmd("MULTI")
            src.cmd("SET", "k", "mine")
            log.append(src.cmd("EXEC"))
            log.append(src.cmd("EXISTS", "k"))
            return log
        self.assertEqual(self.sources(scenario), ["OK", None, 0])


    def test_connection_cached_then_closed(self):
        """One cached connection per target, reused, closed after 10 s."""
        target = ServerProcess(target="redis",
                               server=self.targets["redis"].binary)
        target.start_or_cleanup()
        self.addCleanup(target.cleanup)
        t = target.client()
        self.addCleanup(t.close)
        count = lambda: len(t.cmd("CLIENT", "LIST").splitlines())
        log = []
        for key in ("a", "b"):
            for i, src in enumerate((self.c, self.ref)):
                src.cmd("SET", key, "v")
                log.append(self.migrate(src, target.port, key, db=i))
            log.append(count())
        time.sleep(12.5)
        log.append(count())
        self.assertEqual(log, ["OK", "OK", 3, "OK", "OK", 3, 1])


class MigrateAuthTest(MigrateBase):
    def test_auth_and_auth2(self):
        def scenario(src):
            log = []
            for name in ("redis_auth", "daxkv_auth"):
                src.cmd("SET", "k", "v")
                log.append(self.migrate(src, name, "k"))
                log.append(self.migrate(src, name, "k", "AUTH", "wrong"))
                log.append(self.migrate(src, name, "k", "AUTH2", "default",
                                        "wrong"))
                log.append(self.migrate(src, name, "k", "AUTH2", "nouser",
                                        PASS))
                log.append(src.cmd("EXISTS", "k"))
                log.append(self.migrate(src, name, "k", "AUTH", PASS))
                log.append(self.target(name).cmd("GET", "k"))
                src.cmd("SET", "k2", "v2")
                log.append(self.migrate(src, name, "k2", "AUTH2", "default",
                                        PASS))
                log.append(src.cmd("EXISTS", "k", "k2"))
            return log
        log = self.sources(scenario)
        self.assertEqual(log[:9], [
            RespError(NOAUTH), RespError(WRONGPASS), RespError(WRONGPASS),
            RespError(WRONGPASS), 1, "OK", b"v", "OK", 0])
        self.assertEqual(log[9:], log[:9])

    def test_cached_connection_stays_authenticated(self):
        """Redis caches the connection (10 s): after an AUTH, a MIGRATE
        without AUTH goes over the same, authenticated, connection."""
        def scenario(src):
            src.cmd("MSET", "a", "1", "b", "2")
            return [self.migrate(src, "daxkv_auth", "a", "AUTH", PASS),
                    self.migrate(src, "daxkv_auth", "b")]
        self.assertEqual(self.sources(scenario), ["OK", "OK"])


class MigrateFailureTest(MigrateBase):
    def down_port(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    def test_target_down(self):
        port = self.down_port()

        def scenario(src):
            src.cmd("SET", "k", "v")
            return [self.migrate(src, port, "k"),
                    self.migrate(src, "-1", "k"),
                    src.cmd("GET", "k")]
        self.assertEqual(self.sources(scenario), [
            RespError(WRITING), RespError(CONNECTING), b"v"])

    def test_silent_target_times_out(self):
        silent = SilentServer()
        self.addCleanup(silent.close)

        def scenario(src):
            src.cmd("SET", "k", "v")
            start = time.monotonic()
            log = [self.migrate(src, silent.port, "k", timeout=300)]
            elapsed = time.monotonic() - start
            log.append(0.25 < elapsed < 3.0)
            log.append(src.cmd("GET", "k"))
            return log
        self.assertEqual(self.sources(scenario),
                         [RespError(READING), True, b"v"])

    def test_target_restarted_is_retried(self):
        """A cached connection the target closed: one retry on a new one."""
        def scenario(src):
            src.cmd("MSET", "a", "1", "b", "2")
            log = [self.migrate(src, "redis", "a")]
            t = self.target("redis")
            t.cmd("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
            log.append(self.migrate(src, "redis", "b"))
            log.append(self.target("redis").cmd("MGET", "a", "b"))
            return log
        self.assertEqual(self.sources(scenario), ["OK", "OK", [b"1", b"2"]])

    SYNTAX = [
        (["x", 0, 1000, "foo"], "ERR syntax error"),
        (["x", 0, 1000, "AUTH"], "ERR syntax error"),
        (["x", 0, 1000, "AUTH2", "u"], "ERR syntax error"),
        (["x", 0, 1000, "KEYS", "a"],
         "ERR When using MIGRATE KEYS option, the key argument must be set "
         "to the empty string"),
        (["x", 0, "abc"], "ERR value is not an integer or out of range"),
        (["x", "abc", 1000], "ERR value is not an integer or out of range"),
        (["x", "99999999999999999999", 1],
         "ERR value is not an integer or out of range"),
        (["x", 0, 1, "COPY", "foo"], "ERR syntax error"),
        (["x", 0], "ERR wrong number of arguments for 'migrate' command"),
        (["x", 0, 0], "NOKEY"),
        (["", 0, 0, "COPY", "REPLACE", "KEYS"], "NOKEY"),
    ]

    def test_argument_errors(self):
        def scenario(src):
            src.cmd("SET", "x", "v")
            return [src.cmd("MIGRATE", "127.0.0.1", self.down_port(), *args)
                    for args, _ in self.SYNTAX]
        log = self.sources(scenario)
        want = [RespError(w) if w != "NOKEY" else w for _, w in self.SYNTAX]
        want[9] = RespError(WRITING)  # x exists: the target is down
        self.assertEqual(log, want)

    def test_readonly_on_a_replica(self):
        def scenario(src):
            master = self.targets["redis"].port
            self.assertEqual(src.cmd("REPLICAOF", "127.0.0.1", master), "OK")
            try:
                deadline = time.monotonic() + 30
                while b"master_link_status:up" not in src.cmd(
                        "INFO", "replication"):
                    self.assertLess(time.monotonic(), deadline)
                    time.sleep(0.05)
                return [self.migrate(src, "daxkv", "k")]
            finally:
                src.cmd("REPLICAOF", "NO", "ONE")
        self.assertEqual(self.sources(scenario), [RespError(
            "READONLY You can't write against a read only replica.")])


class MigrateIntrospectionTest(MigrateBase):
    GETKEYS = [
        ["h", "p", "k", 0, 0],
        ["h", "p", "", 0, 0, "KEYS", "a", "b"],
        ["h", "p", "", 0, 0, "COPY", "keys", "a", "b"],
        ["h", "p", "", 0, 0],
        ["h", "p", "x", 0, 0, "AUTH", "keys", "a"],
        ["h", "p", "x", 0, 0, "AUTH2", "keys", "a", "b"],
        ["h", "p", "x", 0, 0, "KEYS"],
        ["h", "p", "x", 0],
        ["h", "p", "x", 0, 0, "foo", "bar", "KEYS", "c"],
        ["h", "p", "", 0, 0, "AUTH", "p", "KEYS", "c", "d"],
    ]

    def test_command_info_and_getkeys(self):
        self.both("COMMAND", "INFO", "migrate")
        for args in self.GETKEYS:
            self.both("COMMAND", "GETKEYS", "MIGRATE", *args)
        self.assertEqual(self.c.cmd("COMMAND", "GETKEYS", "MIGRATE",
                                    *self.GETKEYS[1]), [b"a", b"b"])
        for c in (self.c, self.ref):
            c.cmd("HELLO", 3)
        self.assertEqual(raw_reply(self.c, "COMMAND", "INFO", "migrate"),
                         raw_reply(self.ref, "COMMAND", "INFO", "migrate"))


class MigrateReplicationTest(MigrateBase):
    def test_delete_reaches_the_sources_replica(self):
        """The moved keys' DEL reaches a replica of the source."""
        def scenario(src):
            server = self.server if src is self.c else self.peer
            replica = ServerProcess(target="redis", server=self.peer.binary,
                                    extra_args=["--replicaof", "127.0.0.1",
                                                str(server.port)])
            replica.start_or_cleanup()
            self.addCleanup(replica.cleanup)
            r = replica.client()
            self.addCleanup(r.close)
            src.cmd("MSET", "a", "1", "b", "2", "c", "3")
            self.wait_for(lambda: r.cmd("DBSIZE") == 3)
            log = [self.migrate(src, "daxkv", "", "KEYS", "a", "b"),
                   self.migrate(src, "daxkv", "c", "COPY")]
            self.wait_for(lambda: r.cmd("DBSIZE") == 1)
            log.append(r.cmd("MGET", "a", "b", "c"))
            return log
        self.assertEqual(self.sources(scenario),
                         ["OK", "OK", [None, None, b"3"]])

    def wait_for(self, cond, timeout=30.0):
        deadline = time.monotonic() + timeout
        while not cond():
            self.assertLess(time.monotonic(), deadline, "timed out waiting")
            time.sleep(0.05)


@unittest.skipUnless(is_daxkv(), "daxkv's I/O threads (Redis has one)")
class MigrateThreadsTest(MigrateBase):
    def test_other_threads_keep_serving(self):
        """While a MIGRATE waits on a silent target, clients of the other
        I/O thread are served (the server runs --threads 2)."""
        silent = SilentServer()
        self.addCleanup(silent.close)
        self.c.cmd("SET", "k", "v")
        others = [self.server.client() for _ in range(3)]
        for o in others:
            self.addCleanup(o.close)
        done = []
        t = threading.Thread(target=lambda: done.append(
            self.migrate(self.c, silent.port, "k", timeout=2000)))
        t.start()
        time.sleep(0.3)
        fast = 0
        for o in others:
            o.sock.settimeout(1.0)
            try:
                start = time.monotonic()
                if o.cmd("GET", "k") == b"v" and time.monotonic() - start < 1:
                    fast += 1
            except OSError:
                pass
        t.join()
        self.assertGreaterEqual(fast, 1)
        self.assertEqual(done, [RespError(READING)])

    def test_key_written_meanwhile_is_kept(self):
        """A key written (on another I/O thread) while the target answers
        keeps its new value: the delete checks the key's version. (In
        Redis no write can come in between.) SET XX: a writer of the
        MIGRATE's own thread runs after it and must find nothing."""
        slow = SlowOkServer(0.8)
        self.addCleanup(slow.close)
        self.c.cmd("SET", "k", "old")
        done = []
        t = threading.Thread(target=lambda: done.append(
            self.migrate(self.c, slow.port, "k")))
        t.start()
        time.sleep(0.2)
        fast = 0
        for _ in range(3):
            w = self.server.client(timeout=0.15)
            self.addCleanup(w.close)
            try:
                fast += w.cmd("SET", "k", "new", "XX") == "OK"
            except OSError:
                pass  # the MIGRATE's thread: runs after it
        t.join()
        self.assertGreaterEqual(fast, 1)
        self.assertEqual(done, ["OK"])
        self.assertEqual(self.c.cmd("GET", "k"), b"new")


if __name__ == "__main__":
    unittest.main()
