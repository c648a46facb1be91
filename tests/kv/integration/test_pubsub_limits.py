"""Pub/sub clients as a class: the pubsub-class output limit (hard, soft
with seconds, CONFIG SET/GET client-output-buffer-limit) for subscribers
that do not read, the idle timeout that spares subscribers, and CLIENT
KILL TYPE pubsub|normal; against redis-server and daxkv-server."""

import socket
import time

from harness import ServerTestCase
from test_pubsub import wait_until


class OutputLimitTest(ServerTestCase):
    def slow_subscriber(self, limit, channel):
        """Sets the pubsub class limit, then subscribes a client with a tiny
        receive buffer that never reads."""
        self.assertEqual(self.c.cmd("CONFIG", "SET",
                                    "client-output-buffer-limit",
                                    "pubsub " + limit), "OK")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", self.server.port))
        s.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n"
                  % (len(channel), channel.encode()))
        self.assertTrue(wait_until(lambda: self.numsub(channel) == 1))
        return s

    def numsub(self, channel):
        return self.c.cmd("PUBSUB", "NUMSUB", channel)[1]

    def tearDown(self):
        self.c.cmd("CONFIG", "SET", "client-output-buffer-limit",
                   "pubsub 33554432 8388608 60")
        super().tearDown()

    def test_hard_limit_disconnects_a_subscriber_that_does_not_read(self):
        c = self.c
        slow = self.slow_subscriber("256kb 0 0", "flood")
        payload = b"z" * 65536
        for _ in range(16):
            c.pipeline([("PUBLISH", "flood", payload)] * 16)
            if self.numsub("flood") == 0:
                break
        # Closed: no longer subscribed, and the socket ends.
        self.assertTrue(wait_until(lambda: self.numsub("flood") == 0))
        self.assertEqual(c.cmd("PUBLISH", "flood", "x"), 0)
        slow.settimeout(10)
        total = 0
        while True:
            chunk = slow.recv(1 << 16)
            if not chunk:
                break
            total += len(chunk)
        # What arrived is bounded by the limit plus the socket buffers.
        self.assertLess(total, 16 * 16 * 65536)

    def test_soft_limit_disconnects_after_its_seconds(self):
        c = self.c
        self.slow_subscriber("0 128kb 2", "soft")
        payload = b"s" * 65536
        c.pipeline([("PUBLISH", "soft", payload)] * 96)  # > 6 MiB
        # Over the soft limit, but not yet for 2 seconds: still subscribed.
        self.assertEqual(self.numsub("soft"), 1)
        time.sleep(3.5)
        c.cmd("PUBLISH", "soft", "late")
        self.assertTrue(wait_until(lambda: self.numsub("soft") == 0))

    def test_config_get_and_errors(self):
        c = self.c
        self.assertEqual(c.cmd("CONFIG", "SET", "client-output-buffer-limit",
                               "pubsub 1mb 2kb 3"), "OK")
        value = c.cmd("CONFIG", "GET", "client-output-buffer-limit")[1]
        self.assertTrue(value.endswith(b"pubsub 1048576 2048 3"), value)
        prefix = ("ERR CONFIG SET failed (possibly related to argument "
                  "'client-output-buffer-limit') - ")
        self.assertErr(c.cmd("CONFIG", "SET", "client-output-buffer-limit",
                             "pubsub 1mb 0"),
                       prefix + "Wrong number of arguments in buffer limit "
                       "configuration.")
        self.assertErr(c.cmd("CONFIG", "SET", "client-output-buffer-limit",
                             "foo 1 0 0"),
                       prefix + "Invalid client class specified in buffer "
                       "limit configuration.")
        self.assertErr(c.cmd("CONFIG", "SET", "client-output-buffer-limit",
                             "pubsub x 0 0"),
                       prefix + "Error in hard, soft or soft_seconds setting "
                       "in buffer limit configuration.")


class ClientKillTypeTest(ServerTestCase):
    def test_kill_by_type(self):
        sub = self.server.client()
        self.addCleanup(sub.close)
        plain = self.server.client()
        self.addCleanup(plain.close)
        sub.cmd("PSUBSCRIBE", "*")
        self.assertEqual(plain.cmd("PING"), "PONG")
        c = self.c
        self.assertEqual(c.cmd("CLIENT", "KILL", "TYPE", "master"), 0)
        self.assertEqual(c.cmd("CLIENT", "KILL", "TYPE", "pubsub"), 1)
        self.assertEqual(sub.read_until_closed(), b"")
        self.assertEqual(plain.cmd("PING"), "PONG")
        self.assertEqual(c.cmd("CLIENT", "KILL", "TYPE", "normal",
                               "USER", "default"), 1)
        self.assertEqual(plain.read_until_closed(), b"")
        self.assertEqual(c.cmd("PING"), "PONG")
        self.assertErr(c.cmd("CLIENT", "KILL", "TYPE", "foo"),
                       "ERR Unknown client type 'foo'")
        self.assertErr(c.cmd("CLIENT", "KILL", "USER", "nobody"),
                       "ERR No such user 'nobody'")


class IdleTimeoutTest(ServerTestCase):
    def tearDown(self):
        # self.c idled past the timeout too: reconnect.
        self.c.close()
        self.c = self.server.client()
        self.c.cmd("CONFIG", "SET", "timeout", 0)
        super().tearDown()

    def test_timeout_spares_subscribers(self):
        sub = self.server.client()
        self.addCleanup(sub.close)
        idle = self.server.client()
        self.addCleanup(idle.close)
        sub.cmd("SUBSCRIBE", "quiet")
        self.assertEqual(idle.cmd("PING"), "PONG")
        self.assertEqual(self.c.cmd("CONFIG", "SET", "timeout", 1), "OK")
        time.sleep(3.5)
        with self.server.client() as p:
            self.assertEqual(p.cmd("PUBLISH", "quiet", "still here"), 1)
        self.assertEqual(sub.read(), [b"message", b"quiet", b"still here"])
        self.assertEqual(idle.read_until_closed(), b"")
