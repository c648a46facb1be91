"""SLOWLOG GET/LEN/RESET/HELP and slowlog-log-slower-than / slowlog-max-len:
what is logged (every command, the Lua client's too, never EXEC or a
rejected one), in what shape (arguments cut as Redis cuts them, secrets
redacted), and every error reply."""

import time

from harness import ServerTestCase, client_addr, is_daxkv


class SlowLogTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        c = self.c
        self.assertEqual(c.cmd("CONFIG", "SET", "slowlog-max-len", 128), "OK")
        self.assertEqual(
            c.cmd("CONFIG", "SET", "slowlog-log-slower-than", 0), "OK")
        self.assertEqual(c.cmd("SLOWLOG", "RESET"), "OK")

    def tearDown(self):
        self.c.cmd("CONFIG", "SET", "slowlog-log-slower-than", 10000)
        self.c.cmd("CONFIG", "SET", "slowlog-max-len", 128)
        super().tearDown()

    def entries(self, count=-1):
        """SLOWLOG GET's entries as (args, peer, name), after checking the
        fields the two servers cannot share (ids, times, durations)."""
        raw = self.c.cmd("SLOWLOG", "GET", count)
        out = []
        now = time.time()
        for i, e in enumerate(raw):
            self.assertEqual(len(e), 6)
            entry_id, when, micros, args, peer, name = e
            if i > 0:
                self.assertEqual(entry_id, raw[i - 1][0] - 1)
            self.assertLessEqual(abs(when - now), 10)
            self.assertGreaterEqual(micros, 0)
            out.append(([a.decode() for a in args], peer.decode(),
                        name.decode()))
        return out

    def test_every_command_newest_first(self):
        c = self.c
        addr = client_addr(c)
        c.cmd("SET", "k", "v")
        self.assertEqual(c.cmd("CLIENT", "SETNAME", "worker"), "OK")
        c.cmd("GET", "k")
        self.assertEqual(self.entries(), [
            (["GET", "k"], addr, "worker"),
            (["CLIENT", "SETNAME", "worker"], addr, "worker"),
            (["SET", "k", "v"], addr, ""),
            (["CLIENT", "INFO"], addr, ""),
            (["SLOWLOG", "RESET"], addr, ""),
        ])
        # The GET above is logged too, after its reply was made.
        self.assertEqual(self.entries(2)[1][0], ["GET", "k"])

    def test_len_reset_and_ids(self):
        c = self.c
        self.assertEqual(c.cmd("SLOWLOG", "LEN"), 1)  # the RESET
        self.assertEqual(c.cmd("SLOWLOG", "LEN"), 2)
        before = c.cmd("SLOWLOG", "GET", 1)[0][0]
        self.assertEqual(c.cmd("SLOWLOG", "RESET"), "OK")
        after = c.cmd("SLOWLOG", "GET", 1)[0]
        self.assertEqual(after[3], [b"SLOWLOG", b"RESET"])
        self.assertGreater(after[0], before)  # ids keep counting
        self.assertEqual(c.cmd("SLOWLOG", "GET", 0), [])

    def test_max_len_cuts_at_the_next_entry(self):
        c = self.c
        for i in range(5):
            c.cmd("SET", f"k{i}", i)
        self.assertEqual(c.cmd("CONFIG", "SET", "slowlog-max-len", 2), "OK")
        self.assertEqual(c.cmd("SLOWLOG", "LEN"), 2)
        self.assertEqual([e[0] for e in self.entries()], [
            ["SLOWLOG", "LEN"],
            ["CONFIG", "SET", "slowlog-max-len", "2"]])
        self.assertEqual(c.cmd("CONFIG", "SET", "slowlog-max-len", 0), "OK")
        self.assertEqual(c.cmd("SLOWLOG", "LEN"), 0)

    def test_threshold(self):
        c = self.c
        c.cmd("CONFIG", "SET", "slowlog-log-slower-than", -1)
        c.cmd("SLOWLOG", "RESET")
        c.cmd("SET", "k", "v")
        self.assertEqual(c.cmd("SLOWLOG", "LEN"), 0)
        c.cmd("CONFIG", "SET", "slowlog-log-slower-than", 10 ** 12)
        c.cmd("SET", "k", "v")
        self.assertEqual(c.cmd("SLOWLOG", "LEN"), 0)
        self.assertEqual(
            c.cmd("CONFIG", "GET", "slowlog-log-slower-than"),
            [b"slowlog-log-slower-than", b"1000000000000"])

    def test_long_commands_are_cut(self):
        c = self.c
        c.cmd("RPUSH", "l", *range(40))
        c.cmd("SET", "x" * 200, "v")
        args = [e[0] for e in self.entries(2)]
        self.assertEqual(args[0], ["SET", "x" * 128 + "... (72 more bytes)",
                                   "v"])
        self.assertEqual(args[1], ["RPUSH", "l"] + [str(i) for i in range(29)]
                         + ["... (11 more arguments)"])
        self.assertEqual(len(args[1]), 32)

    def test_secrets_are_redacted(self):
        c = self.c
        c.cmd("AUTH", "secret")
        c.cmd("AUTH", "someone", "secret")
        c.cmd("HELLO", 3, "SETNAME", "auth", "AUTH", "default", "secret")
        c.cmd("HELLO", 2)
        c.cmd("CONFIG", "SET", "masterauth", "secret",
              "slowlog-max-len", 100)
        c.cmd("CONFIG", "SET", "masterauth", "")
        c.cmd("MIGRATE", "127.0.0.1", 1, "k", 0, 10, "AUTH2", "u", "secret")
        logged = [e[0] for e in self.entries()]
        self.assertEqual(logged[:7], [
            ["MIGRATE", "127.0.0.1", "1", "k", "0", "10", "AUTH2",
             "(redacted)", "(redacted)"],
            ["CONFIG", "SET", "masterauth", "(redacted)"],
            ["CONFIG", "SET", "masterauth", "(redacted)",
             "slowlog-max-len", "100"],
            ["HELLO", "2"],
            ["HELLO", "3", "SETNAME", "auth", "AUTH", "(redacted)",
             "(redacted)"],
            ["AUTH", "(redacted)", "(redacted)"],
            ["AUTH", "(redacted)"]])
        self.assertNotIn("secret", repr(logged))
        # Redis 7.0 refuses a bad protocol version before it redacts, and
        # so logs the password; daxkv never does.
        c.cmd("HELLO", 4, "AUTH", "default", "secret")
        if is_daxkv():
            self.assertEqual(self.entries(1)[0][0], [
                "HELLO", "4", "AUTH", "(redacted)", "(redacted)"])

    def test_exec_is_not_logged_its_commands_are(self):
        c = self.c
        addr = client_addr(c)
        self.assertEqual(c.cmd("MULTI"), "OK")
        c.cmd("SET", "x", 1)
        c.cmd("INCR", "x")
        self.assertEqual(c.cmd("EXEC"), ["OK", 2])
        self.assertEqual(self.entries(4), [
            (["INCR", "x"], addr, ""),
            (["SET", "x", "1"], addr, ""),
            (["MULTI"], addr, ""),
            (["CLIENT", "INFO"], addr, "")])

    def test_script_commands_come_from_the_lua_client(self):
        c = self.c
        addr = client_addr(c)
        self.assertEqual(
            c.cmd("EVAL", "redis.call('set', KEYS[1], 'b') return 1", 1, "a"),
            1)
        self.assertEqual(self.entries(2), [
            (["EVAL", "redis.call('set', KEYS[1], 'b') return 1", "1", "a"],
             addr, ""),
            (["set", "a", "b"], "?:0", "")])

    def test_rejected_and_blocked_commands_are_not_logged(self):
        c = self.c
        c.cmd("GET", "a", "b")  # arity
        c.cmd("NOSUCHCOMMAND")
        self.assertIsNone(c.cmd("BLPOP", "empty", "0.01"))
        self.assertEqual([e[0] for e in self.entries()],
                         [["SLOWLOG", "RESET"]])
        # A pop that finds its element at once is an ordinary command.
        c.cmd("RPUSH", "l", "e")
        self.assertEqual(c.cmd("BLPOP", "l", 1), [b"l", b"e"])
        self.assertEqual(self.entries(1)[0][0], ["BLPOP", "l", "1"])

    def test_a_served_blocked_command_is_logged_once_served(self):
        c = self.c
        addr = client_addr(c)
        c.send("BLPOP", "q", 10)
        time.sleep(0.2)
        with self.server.client() as pusher:
            if self.server.requirepass:
                pusher.cmd("AUTH", self.server.requirepass)
            pusher_addr = client_addr(pusher)
            self.assertEqual(pusher.cmd("RPUSH", "q", "x"), 1)
        self.assertEqual(c.read(), [b"q", b"x"])
        self.assertEqual(self.entries(3), [
            (["BLPOP", "q", "10"], addr, ""),
            (["RPUSH", "q", "x"], pusher_addr, ""),
            (["CLIENT", "INFO"], pusher_addr, "")])

    def test_errors_and_help(self):
        c = self.c
        count_err = "ERR count should be greater than or equal to -1"
        self.assertErr(c.cmd("SLOWLOG", "GET", -2), count_err)
        self.assertErr(c.cmd("SLOWLOG", "GET", "x"), count_err)
        self.assertErr(c.cmd("SLOWLOG", "get", 1, 2),
                       "ERR unknown subcommand or wrong number of arguments "
                       "for 'get'. Try SLOWLOG HELP.")
        self.assertErr(c.cmd("SLOWLOG", "LEN", "x"),
                       "ERR wrong number of arguments for 'slowlog|len' "
                       "command")
        self.assertErr(c.cmd("SLOWLOG", "RESET", "x"),
                       "ERR wrong number of arguments for 'slowlog|reset' "
                       "command")
        self.assertErr(c.cmd("SLOWLOG", "foo"),
                       "ERR unknown subcommand 'foo'. Try SLOWLOG HELP.")
        self.assertErr(c.cmd("SLOWLOG"),
                       "ERR wrong number of arguments for 'slowlog' command")
        help_lines = c.cmd("SLOWLOG", "HELP")
        self.assertEqual(help_lines[0], "SLOWLOG <subcommand> [<arg> [value] "
                         "[opt] ...]. Subcommands are:")
        self.assertEqual(len(help_lines), 12)
        prefix = "ERR CONFIG SET failed (possibly related to argument "
        self.assertErr(c.cmd("CONFIG", "SET", "slowlog-max-len", -1),
                       prefix + "'slowlog-max-len') - argument must be "
                       "between 0 and 9223372036854775807 inclusive")
        self.assertErr(c.cmd("CONFIG", "SET", "slowlog-max-len", "x"),
                       prefix + "'slowlog-max-len') - argument couldn't be "
                       "parsed into an integer")
        self.assertErr(c.cmd("CONFIG", "SET", "slowlog-log-slower-than", -5),
                       prefix + "'slowlog-log-slower-than') - argument must "
                       "be between -1 and 9223372036854775807 inclusive")
        got = c.cmd("CONFIG", "GET", "slowlog-*")
        self.assertEqual(dict(zip(got[::2], got[1::2])), {
            b"slowlog-max-len": b"128",
            b"slowlog-log-slower-than": b"0"})
