"""CLIENT REPLY ON|OFF|SKIP, CLIENT NO-EVICT and READONLY/READWRITE side by
side with redis-server (differential.py): the bytes a connection receives
for the same pipelined commands must be identical, including the replies
that are dropped, the errors while OFF, a blocked command whose served
reply is skipped, a message published to a subscriber whose replies are
OFF, and RESET turning replies back on. (CLIENT REPLY OFF inside MULTI
differs on purpose: Redis sends EXEC's array header and drops its
elements, which leaves a client reading a truncated array; daxkv drops the
whole EXEC reply.)"""

import time

from differential import PeerTestCase
from harness import encode_command

END = b"__end__"


class ClientReplyDifferentialTest(PeerTestCase):
    def stream(self, server, commands, before_end=None, resp=2):
        """The raw bytes a new connection receives for `commands`, up to an
        ECHO of END sent with replies back on."""
        conn = server.client(timeout=20.0)
        self.addCleanup(conn.close)
        if resp == 3:
            conn.cmd("HELLO", 3)  # its reply names the server: not compared
        conn.send_raw(b"".join(encode_command(c) for c in commands))
        if before_end is not None:
            before_end()
        conn.send_raw(encode_command(("CLIENT", "REPLY", "ON")) +
                      encode_command(("ECHO", END)))
        deadline = time.monotonic() + 10
        while END + b"\r\n" not in conn.buf:
            self.assertLess(time.monotonic(), deadline, conn.buf)
            conn._fill()
        return conn.buf

    def both_stream(self, commands, before_end=None, resp=2):
        mine = self.stream(self.server, commands,
                           before_end and (lambda: before_end(self.c)), resp)
        ref = self.stream(self.peer, commands,
                          before_end and (lambda: before_end(self.ref)), resp)
        self.assertEqual(mine, ref)
        return mine

    def test_off_skip_on(self):
        got = self.both_stream([
            ("CLIENT", "REPLY", "OFF"), ("PING",), ("SET", "a", "1"),
            ("GET", "nosuch", "extra"), ("CLIENT", "REPLY", "SKIP"),
            ("CLIENT", "REPLY", "ON"), ("PING",), ("CLIENT", "REPLY", "SKIP"),
            ("PING",), ("GET", "a"), ("CLIENT", "REPLY", "SKIP"),
            ("CLIENT", "REPLY", "SKIP"), ("INCR", "a"), ("GET", "a"),
            ("CLIENT", "REPLY", "maybe"), ("CLIENT", "REPLY"),
            ("CLIENT", "REPLY", "on", "x"), ("CLIENT", "NO-EVICT", "on"),
            ("CLIENT", "NO-EVICT", "OFF"), ("CLIENT", "NO-EVICT", "maybe"),
            ("CLIENT", "NO-EVICT"), ("READONLY",), ("READWRITE",),
            ("READONLY", "x"), ("MULTI",), ("INCR", "a"), ("EXEC",),
            # Pipelined collection writes (one engine Txn in daxkv).
            ("CLIENT", "REPLY", "SKIP"), ("SADD", "s", "a"), ("SADD", "s", "b"),
            ("SADD", "s", "c"), ("CLIENT", "REPLY", "OFF"), ("SADD", "s", "d"),
            ("SADD", "s", "e"), ("CLIENT", "REPLY", "ON"), ("SCARD", "s"),
            ("CLIENT", "REPLY", "OFF"), ("RESET",), ("PING",),
        ])
        self.assertIn(b"+PONG\r\n", got)

    def test_a_blocked_command_skipped(self):
        def push(conn):
            deadline = time.monotonic() + 10
            while b"blocked_clients:1\r" not in conn.cmd("INFO", "clients"):
                self.assertLess(time.monotonic(), deadline, "never blocked")
                time.sleep(0.01)
            conn.cmd("RPUSH", "q", "job")
        self.both_stream([("CLIENT", "REPLY", "SKIP"), ("BLPOP", "q", 0),
                          ("LLEN", "q")], before_end=push)

    def test_messages_reach_a_subscriber_whose_replies_are_off(self):
        def publish(conn):
            deadline = time.monotonic() + 10
            while conn.cmd("PUBSUB", "NUMSUB", "ch")[1] != 1:
                self.assertLess(time.monotonic(), deadline, "no subscriber")
                time.sleep(0.01)
            conn.cmd("PUBLISH", "ch", "hello")
        got = self.both_stream([("CLIENT", "REPLY", "OFF"),
                                ("SUBSCRIBE", "ch")], before_end=publish,
                               resp=3)
        self.assertIn(b"hello", got)
