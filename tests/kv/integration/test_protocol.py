"""Wire protocol: RESP3 via HELLO 3, inline commands, deep pipelines,
split/dripped frames, and protocol errors closing the connection."""

import socket
import time
import unittest

from harness import ServerTestCase, Verbatim, encode_command


class Resp3Test(ServerTestCase):
    def test_hello3_map_reply(self):
        c = self.c
        reply = c.cmd("HELLO", 3)
        self.assertIsInstance(reply, dict)
        self.assertEqual(reply["proto"], 3)
        self.assertIn("server", reply)
        self.assertIn("version", reply)
        self.assertIn("id", reply)
        self.assertEqual(reply["mode"], b"standalone")

    def test_resp3_types(self):
        c = self.c
        c.cmd("HELLO", 3)
        self.assertIsNone(c.cmd("GET", "nokey"))
        c.send_raw(encode_command(["GET", "nokey"]))
        c.buf += c.sock.recv(64)
        self.assertTrue(c.buf.startswith(b"_\r\n"), c.buf)
        c.buf = c.buf[3:]
        c.cmd("SET", "f", "1.5")
        self.assertEqual(c.cmd("INCRBYFLOAT", "f", "1"), b"2.5")
        cfg = c.cmd("CONFIG", "GET", "port")
        self.assertEqual(cfg, {"port": str(self.server.port).encode()})
        info = c.cmd("INFO", "server")
        self.assertIsInstance(info, Verbatim)
        self.assertIn(b"# Server", info)
        c.cmd("MULTI")
        c.cmd("GET", "nokey")
        self.assertEqual(c.cmd("EXEC"), [None])

    def test_hello_errors_and_downgrade(self):
        c = self.c
        self.assertErr(c.cmd("HELLO", 4), "NOPROTO unsupported protocol "
                       "version")
        self.assertErr(c.cmd("HELLO", "x"), "ERR Protocol version is not an "
                       "integer or out of range")
        self.assertIsInstance(c.cmd("HELLO", 3), dict)
        reply = c.cmd("HELLO", 2)
        self.assertIsInstance(reply, list)
        self.assertEqual(dict(zip(reply[::2], reply[1::2]))[b"proto"], 2)
        reply = c.cmd("HELLO", 2, "SETNAME", "named")
        self.assertEqual(c.cmd("CLIENT", "GETNAME"), b"named")

    def test_hello_without_version(self):
        reply = self.c.cmd("HELLO")
        fields = dict(zip(reply[::2], reply[1::2]))
        self.assertEqual(fields[b"proto"], 2)


class InlineTest(ServerTestCase):
    def test_inline_commands(self):
        c = self.c
        c.send_raw(b"SET inl hello\r\n")
        self.assertEqual(c.read(), "OK")
        c.send_raw(b"GET inl\n")
        self.assertEqual(c.read(), b"hello")
        c.send_raw(b'SET q "with space\\n"\r\nGET q\r\n')
        self.assertEqual(c.read(), "OK")
        self.assertEqual(c.read(), b"with space\n")
        c.send_raw(b"SET sq 'a b'\r\n\r\nPING\r\n")
        self.assertEqual(c.read(), "OK")
        self.assertEqual(c.read(), "PONG")
        c.send_raw(b"   \r\nEXISTS sq\r\n")
        self.assertEqual(c.read(), 1)

    def test_unbalanced_quotes_closes(self):
        c = self.c
        c.send_raw(b'SET k "abc\r\n')
        self.assertEqual(c.read_until_closed(),
                         b"-ERR Protocol error: unbalanced quotes in "
                         b"request\r\n")


class PipelineTest(ServerTestCase):
    def test_deep_pipeline(self):
        c = self.c
        n = 20000
        cmds = [("SET", "p:%d" % i, "v%d" % i) for i in range(n)]
        cmds += [("GET", "p:%d" % i) for i in range(n)]
        replies = c.pipeline(cmds)
        self.assertEqual(replies[:n], ["OK"] * n)
        self.assertEqual(replies[n:], [b"v%d" % i for i in range(n)])
        self.assertEqual(c.cmd("DBSIZE"), n)

    def test_redis_py_pipeline(self):
        r = self.server.redis()
        pipe = r.pipeline(transaction=False)
        for i in range(5000):
            pipe.set("rp:%d" % i, i)
            pipe.incr("rp:%d" % i)
        results = pipe.execute()
        self.assertEqual(results[1::2], list(range(1, 5001)))
        r.close()

    def test_byte_by_byte_frame(self):
        c = self.c
        frame = encode_command(["SET", "drip", "x" * 50]) + b"PING\r\n"
        for b in frame:
            c.send_raw(bytes([b]))
        self.assertEqual(c.read(), "OK")
        self.assertEqual(c.read(), "PONG")
        self.assertEqual(c.cmd("GET", "drip"), b"x" * 50)

    def test_frame_split_across_sends(self):
        c = self.c
        frames = b"".join(encode_command(["SET", "s%d" % i, "v" * 3000])
                          for i in range(50))
        for off in range(0, len(frames), 777):
            c.send_raw(frames[off:off + 777])
            time.sleep(0.001)
        self.assertEqual([c.read() for _ in range(50)], ["OK"] * 50)

    def test_many_connections(self):
        clients = [self.server.client() for _ in range(64)]
        try:
            for i, cl in enumerate(clients):
                cl.send("SET", "conn:%d" % i, i)
            for cl in clients:
                self.assertEqual(cl.read(), "OK")
            self.assertEqual(self.c.cmd("DBSIZE"), 64)
        finally:
            for cl in clients:
                cl.close()


class ProtocolErrorTest(ServerTestCase):
    def test_bad_multibulk_length(self):
        self.expect_closed_with(
            b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n")

    def test_huge_multibulk_length(self):
        self.expect_closed_with(
            b"*3000000000\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n")

    def test_expected_dollar(self):
        self.expect_closed_with(
            b"*1\r\n+PING\r\n",
            b"-ERR Protocol error: expected '$', got '+'\r\n")

    def test_bad_bulk_length(self):
        self.expect_closed_with(
            b"*1\r\n$xyz\r\n", b"-ERR Protocol error: invalid bulk length\r\n")

    def test_oversized_bulk(self):
        self.expect_closed_with(
            b"*1\r\n$999999999999\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n")

    def test_replies_before_error_are_sent(self):
        with self.server.client() as c:
            c.send_raw(encode_command(["SET", "before", "1"]) + b"*x\r\n")
            self.assertEqual(c.read_until_closed(),
                             b"+OK\r\n-ERR Protocol error: invalid multibulk "
                             b"length\r\n")
        self.assertEqual(self.c.cmd("GET", "before"), b"1")

    def test_negative_multibulk_is_ignored(self):
        c = self.c
        c.send_raw(b"*-1\r\n*0\r\nPING\r\n")
        self.assertEqual(c.read(), "PONG")

    def test_abrupt_close_mid_frame(self):
        s = socket.create_connection(("127.0.0.1", self.server.port))
        s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc")
        s.close()
        self.assertEqual(self.c.cmd("EXISTS", "k"), 0)


if __name__ == "__main__":
    unittest.main()
