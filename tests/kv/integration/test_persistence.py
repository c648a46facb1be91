"""Restart persistence: SIGTERM / SHUTDOWN then restart on the same data;
expiry deadlines survive restarts. Against redis-server these run with
appendonly yes + appendfsync always."""

import shutil
import signal
import time
import unittest

from harness import RespError, ServerProcess, is_daxkv


class RestartTest(unittest.TestCase):
    def setUp(self):
        self.server = ServerProcess(persistent=True).start()

    def tearDown(self):
        self.server.cleanup()

    def test_sigterm_restart_keeps_everything(self):
        with self.server.client() as c:
            c.pipeline([("SET", "k:%d" % i, "v%d" % i) for i in range(3000)])
            c.cmd("SET", "bin", bytes(range(256)))
            c.cmd("INCRBY", "n", 41)
            c.cmd("APPEND", "s", "abc")
            c.cmd("SETRANGE", "s", 1, "X")
            c.cmd("DEL", "k:7")
            c.cmd("RENAME", "k:8", "renamed")
            c.cmd("MULTI")
            c.cmd("SET", "tx1", "a")
            c.cmd("SET", "tx2", "b")
            c.cmd("EXEC")
        self.assertEqual(self.server.restart(signal.SIGTERM).alive(), True)
        with self.server.client() as c:
            self.assertEqual(c.cmd("DBSIZE"), 3000 - 2 + 1 + 3 + 2)
            got = c.pipeline([("GET", "k:%d" % i) for i in range(3000)])
            for i, v in enumerate(got):
                want = None if i in (7, 8) else b"v%d" % i
                self.assertEqual(v, want, "k:%d" % i)
            self.assertEqual(c.cmd("GET", "bin"), bytes(range(256)))
            self.assertEqual(c.cmd("GET", "n"), b"41")
            self.assertEqual(c.cmd("GET", "s"), b"aXc")
            self.assertEqual(c.cmd("GET", "renamed"), b"v8")
            self.assertEqual(c.cmd("MGET", "tx1", "tx2"), [b"a", b"b"])
            if is_daxkv():  # a clean shutdown: the index snapshot is loaded
                self.assertIn(b"index_recovery:snapshot\r\n",
                              c.cmd("INFO", "daxkv"))
                # ... and the records it did not read are scrubbed after it.
                info = self.wait_for_scrub(c)
                self.assertEqual(info[b"scrub_pending_segments"], b"0")
                self.assertEqual(info[b"scrub_damaged_records"], b"0")
                self.assertGreater(int(info[b"scrub_verified_records"]), 1000)

    def wait_for_scrub(self, c):
        deadline = time.monotonic() + 30
        while True:
            info = dict(line.split(b":", 1) for line in
                        c.cmd("INFO", "daxkv").split(b"\r\n")
                        if b":" in line)
            if info[b"scrub_pending_segments"] == b"0" or \
                    time.monotonic() > deadline:
                return info
            time.sleep(0.05)

    def test_shutdown_command_then_restart(self):
        with self.server.client() as c:
            c.cmd("SET", "k", "v")
            c.send("SHUTDOWN")
            self.assertEqual(c.read_until_closed(timeout=30), b"")
        self.server.proc.wait(30)
        self.assertEqual(self.server.proc.returncode, 0)
        self.server.proc = None
        self.server.start()
        with self.server.client() as c:
            self.assertEqual(c.cmd("GET", "k"), b"v")

    def test_flushall_persists(self):
        with self.server.client() as c:
            c.cmd("MSET", "a", "1", "b", "2")
            c.cmd("FLUSHALL")
            c.cmd("SET", "c", "3")
        self.server.restart()
        with self.server.client() as c:
            self.assertEqual(c.cmd("KEYS", "*"), [b"c"])

    def test_expiry_survives_restart(self):
        at = int(time.time()) + 1000
        with self.server.client() as c:
            c.cmd("SET", "long", "v", "EXAT", at)
            c.cmd("SET", "short", "v", "PX", 300)
            c.cmd("SET", "gone", "v", "EX", 100)
            c.cmd("PERSIST", "gone")
            c.cmd("SET", "plain", "v")
        self.server.restart()
        time.sleep(0.5)
        with self.server.client() as c:
            self.assertEqual(c.cmd("EXPIRETIME", "long"), at)
            self.assertIsNone(c.cmd("GET", "short"))
            self.assertEqual(c.cmd("TTL", "gone"), -1)
            self.assertEqual(c.cmd("TTL", "plain"), -1)
            self.assertEqual(c.cmd("DBSIZE"), 3)

    def test_expired_while_down(self):
        with self.server.client() as c:
            c.cmd("SET", "soon", "v", "PX", 200)
            c.cmd("SET", "stay", "v")
        self.server.stop()
        time.sleep(0.4)
        self.server.start()
        with self.server.client() as c:
            self.assertIsNone(c.cmd("GET", "soon"))
            self.assertEqual(c.cmd("EXISTS", "soon", "stay"), 1)

    def test_kill9_after_ack(self):
        with self.server.client() as c:
            c.pipeline([("SET", "a:%d" % i, i) for i in range(1000)])
            self.assertEqual(c.cmd("SET", "last", "acked"), "OK")
        self.server.restart(signal.SIGKILL)
        with self.server.client() as c:
            self.assertEqual(c.cmd("GET", "last"), b"acked")
            self.assertEqual(c.cmd("GET", "a:999"), b"999")
            if is_daxkv():  # a crash: the pool is scanned
                self.assertIn(b"index_recovery:scan: ", c.cmd("INFO", "daxkv"))

    def test_kill9_keeps_ttls_and_deletes(self):
        at = int(time.time()) + 1000
        with self.server.client() as c:
            c.cmd("MSET", "d1", "1", "d2", "2", "keep", "3")
            c.cmd("SET", "ttl", "v", "EXAT", at)
            c.cmd("SET", "p", "v", "EX", 100)
            c.cmd("PERSIST", "p")
            self.assertEqual(c.cmd("DEL", "d1", "d2"), 2)
        self.server.restart(signal.SIGKILL)
        with self.server.client() as c:
            self.assertEqual(c.cmd("EXPIRETIME", "ttl"), at)
            self.assertEqual(c.cmd("TTL", "p"), -1)
            self.assertEqual(c.cmd("EXISTS", "d1", "d2", "keep"), 1)


class MisconfTest(unittest.TestCase):
    """A server that cannot persist refuses writes with -MISCONF and still
    serves reads. Redis gets there by a failed BGSAVE (its data directory
    removed, with a save point set); daxkv by DEBUG SIMULATE-PERSIST-ERROR,
    which records a failed group commit (the engine's own errors take the
    same path: kv_test PersistenceErrorTest)."""

    def setUp(self):
        extra = [] if is_daxkv() else ["--save", "3600 1"]
        self.server = ServerProcess(extra_args=extra).start()

    def tearDown(self):
        self.server.cleanup()

    def break_persistence(self, c):
        if is_daxkv():
            self.assertEqual(
                c.cmd("DEBUG", "SIMULATE-PERSIST-ERROR", "media gone"), "OK")
            return
        shutil.rmtree(self.server.dir)
        self.assertEqual(c.cmd("BGSAVE"), "Background saving started")
        deadline = time.monotonic() + 30
        while b"rdb_last_bgsave_status:err" not in c.cmd("INFO",
                                                         "persistence"):
            self.assertLess(time.monotonic(), deadline, "BGSAVE did not fail")
            time.sleep(0.05)

    def assertMisconf(self, reply):
        self.assertIsInstance(reply, RespError)
        self.assertTrue(reply.text.startswith("MISCONF "), reply.text)

    def test_writes_refused_reads_served(self):
        with self.server.client() as c, self.server.client() as q:
            c.cmd("SET", "k", "v")
            self.assertEqual(q.cmd("MULTI"), "OK")
            self.assertEqual(q.cmd("SET", "k", "queued"), "QUEUED")
            self.break_persistence(c)
            for write in (("SET", "k", "v2"), ("DEL", "k"), ("INCR", "n"),
                          ("EXPIRE", "k", 10), ("FLUSHALL",),
                          ("MSET", "a", 1, "b", 2), ("PING",)):
                self.assertMisconf(c.cmd(*write))
            self.assertEqual(c.cmd("GET", "k"), b"v")
            self.assertEqual(c.cmd("DBSIZE"), 1)
            self.assertEqual(c.cmd("ECHO", "x"), b"x")
            reply = q.cmd("EXEC")  # queued before the failure
            self.assertIsInstance(reply, RespError)
            self.assertTrue(reply.text.startswith(
                "EXECABORT Transaction discarded because of: MISCONF "),
                reply.text)
            c.cmd("MULTI")
            self.assertMisconf(c.cmd("SET", "k", "v3"))
            self.assertEqual(c.cmd("EXEC"), RespError(
                "EXECABORT Transaction discarded because of previous "
                "errors."))
            c.cmd("MULTI")
            c.cmd("GET", "k")
            self.assertEqual(c.cmd("EXEC"), [b"v"])
            info = c.cmd("INFO", "persistence")
            self.assertIn(b"rdb_last_bgsave_status:err", info)


if __name__ == "__main__":
    unittest.main()
