"""Restart persistence: SIGTERM / SHUTDOWN then restart on the same data;
expiry deadlines survive restarts. Against redis-server these run with
appendonly yes + appendfsync always."""

import signal
import time
import unittest

from harness import ServerProcess


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


if __name__ == "__main__":
    unittest.main()
