"""MONITOR: the feed's lines (time, client, arguments quoted and escaped as
Redis's sdscatrepr), what it leaves out (admin commands, rejected ones),
its order around scripts and transactions, redacted passwords, and what a
monitoring client may still do."""

import re
import time

from harness import RespError, ServerTestCase, client_addr

LINE = re.compile(r"^(\d+)\.(\d{6}) \[0 (\S+)\] (.*)$")


class MonitorTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.addr = client_addr(self.c)
        self.m = self.server.client()
        if self.server.requirepass:
            self.m.cmd("AUTH", self.server.requirepass)
        self.m_addr = client_addr(self.m)
        self.assertEqual(self.m.cmd("MONITOR"), "OK")

    def tearDown(self):
        self.m.close()
        super().tearDown()

    def feed_until(self, marker):
        """The feed's lines as (client, arguments) up to and including the
        first whose arguments are `marker` (the caller sends it last)."""
        out = []
        now = time.time()
        while True:
            line = self.m.read()
            self.assertIsInstance(line, str, line)
            got = LINE.match(line)
            self.assertIsNotNone(got, line)
            self.assertLessEqual(abs(int(got.group(1)) - now), 10)
            out.append((got.group(3), got.group(4)))
            if got.group(4) == marker:
                return out

    def test_lines_quote_and_escape_as_redis(self):
        c = self.c
        c.cmd("SET", "k", 'a b"c\\d')
        c.cmd("SET", b"bin", b"x\x01y\n\r\t\xc3\xa9")
        c.cmd("PING")
        self.assertEqual(self.feed_until('"PING"'), [
            (self.addr, '"SET" "k" "a b\\"c\\\\d"'),
            (self.addr, '"SET" "bin" "x\\x01y\\n\\r\\t\\xc3\\xa9"'),
            (self.addr, '"PING"')])

    def test_admin_and_rejected_commands_are_left_out(self):
        c = self.c
        c.cmd("CONFIG", "GET", "maxmemory")
        c.cmd("SLOWLOG", "LEN")
        c.cmd("CLIENT", "KILL", "ID", 999999)
        c.cmd("GET", "a", "b")  # arity
        c.cmd("NOSUCHCOMMAND")
        c.cmd("CLIENT", "ID")
        c.cmd("SLOWLOG", "HELP")
        c.cmd("ACL", "LIST")  # admin: left out
        c.cmd("ACL", "WHOAMI")
        c.cmd("CONFIG", "HELP")
        c.cmd("PING")
        self.assertEqual([a for _, a in self.feed_until('"PING"')], [
            '"CLIENT" "ID"', '"SLOWLOG" "HELP"', '"ACL" "WHOAMI"',
            '"CONFIG" "HELP"', '"PING"'])

    def test_a_script_shows_before_its_commands(self):
        c = self.c
        self.assertEqual(
            c.cmd("EVAL", "return redis.call('set', KEYS[1], 'b')", 1, "a"),
            "OK")
        self.assertIsInstance(c.cmd("EVALSHA", "0" * 40, 0), RespError)
        c.cmd("PING")
        self.assertEqual(self.feed_until('"PING"'), [
            (self.addr,
             '"EVAL" "return redis.call(\'set\', KEYS[1], \'b\')" "1" "a"'),
            ("lua", '"set" "a" "b"'),
            (self.addr, '"EVALSHA" "' + "0" * 40 + '" "0"'),
            (self.addr, '"PING"')])

    def test_a_transaction_shows_its_commands_then_exec(self):
        c = self.c
        self.assertEqual(c.cmd("MULTI"), "OK")
        self.assertEqual(c.cmd("SET", "x", 1), "QUEUED")
        self.assertEqual(c.cmd("EXEC"), ["OK"])
        c.cmd("PING")
        self.assertEqual([a for _, a in self.feed_until('"PING"')], [
            '"MULTI"', '"SET" "x" "1"', '"EXEC"', '"PING"'])

    def test_passwords_are_redacted_and_blocked_commands_shown(self):
        c = self.c
        c.cmd("AUTH", "secret")
        c.cmd("HELLO", 2, "AUTH", "default", "secret")
        self.assertIsNone(c.cmd("BLPOP", "empty", "0.01"))
        c.cmd("PING")
        self.assertEqual([a for _, a in self.feed_until('"PING"')], [
            '"AUTH" "(redacted)"',
            '"HELLO" "2" "AUTH" "(redacted)" "(redacted)"',
            '"BLPOP" "empty" "0.01"', '"PING"'])

    def test_what_a_monitor_may_do(self):
        m = self.m
        self.assertEqual(m.cmd("GET", "k"), RespError(
            "ERR Replica can't interact with the keyspace"))
        self.assertEqual(m.cmd("SET", "k", "v"), RespError(
            "ERR Replica can't interact with the keyspace"))
        self.assertEqual(m.cmd("PING"), "PONG")
        self.assertEqual(self.feed_until('"PING"'), [(self.m_addr, '"PING"')])
        # MONITOR again is ignored, with no reply at all.
        m.send("MONITOR")
        self.assertEqual(m.cmd("PING"), "PONG")
        self.assertEqual(self.feed_until('"PING"'), [(self.m_addr, '"PING"')])
        listing = self.c.cmd("CLIENT", "LIST").decode()
        self.assertRegex(listing, r"flags=O\b")
        self.assertEqual(m.cmd("RESET"), "RESET")
        if self.server.requirepass:
            m.cmd("AUTH", self.server.requirepass)
        self.assertIsNone(m.cmd("GET", "k"))
        self.c.cmd("SET", "after", "reset")
        self.assertEqual(m.cmd("PING"), "PONG")  # no feed line before it

    def test_monitor_in_a_transaction(self):
        with self.server.client() as t:
            if self.server.requirepass:
                t.cmd("AUTH", self.server.requirepass)
            self.assertEqual(t.cmd("MULTI"), "OK")
            self.assertEqual(t.cmd("MONITOR"), "QUEUED")
            self.assertEqual(t.cmd("EXEC"), [RespError(
                "ERR MONITOR isn't allowed for DENY BLOCKING client")])
            self.assertEqual(t.cmd("GET", "k"), None)
