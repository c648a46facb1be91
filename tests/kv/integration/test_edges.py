"""Edge cases across the command set, each checked against redis-server:
number parsing and formatting limits, TTL rounding, expiry of watched keys,
RESP3 nulls, inline limits, and more redis-cli / redis-benchmark modes."""

import subprocess
import time
import unittest

from harness import RespError, ServerTestCase, encode_command

NOT_INT = "ERR value is not an integer or out of range"


class NumberEdgeTest(ServerTestCase):
    def test_integer_parsing(self):
        c = self.c
        for bad in ("007", "-0", "+1", "1 ", "", "0x10", "1e3",
                    "9223372036854775808"):
            c.cmd("SET", "n", bad)
            self.assertErr(c.cmd("INCR", "n"), NOT_INT)
        c.cmd("SET", "n", "0")
        self.assertEqual(c.cmd("INCRBY", "n", "-9223372036854775808"),
                         -9223372036854775808)
        self.assertEqual(c.cmd("INCRBY", "n", 0), -9223372036854775808)
        c.cmd("SET", "n", "12345")
        self.assertEqual(c.cmd("STRLEN", "n"), 5)
        self.assertEqual(c.cmd("APPEND", "n", "6"), 6)
        self.assertEqual(c.cmd("INCR", "n"), 123457)

    def test_float_formatting(self):
        c = self.c
        cases = [("1.1", "2.2", b"3.3"), ("3.0e3", "0", b"3000"),
                 ("0", "1e-5", b"0.00001"), ("10", "-0.25", b"9.75"),
                 ("1", "1e17", b"100000000000000001"),
                 ("5", "-5.0", b"0")]
        for start, incr, want in cases:
            c.cmd("SET", "f", start)
            self.assertEqual(c.cmd("INCRBYFLOAT", "f", incr), want,
                             "%s + %s" % (start, incr))
            self.assertEqual(c.cmd("GET", "f"), want)
        for bad in ("1.5.5", "", " 1", "nan", "1e400x"):
            self.assertErr(c.cmd("INCRBYFLOAT", "f", bad),
                           "ERR value is not a valid float")

    def test_expire_overflow(self):
        c = self.c
        c.cmd("SET", "k", "v")
        self.assertErr(c.cmd("SET", "k", "v", "EX", "9999999999999999"),
                       "ERR invalid expire time in 'set' command")
        self.assertErr(c.cmd("EXPIRE", "k", "9223372036854775807"),
                       "ERR invalid expire time in 'expire' command")
        self.assertErr(c.cmd("PEXPIRE", "k", "9223372036854775807"),
                       "ERR invalid expire time in 'pexpire' command")
        self.assertErr(c.cmd("EXPIRE", "k", "9223372036854775808"), NOT_INT)
        self.assertEqual(c.cmd("TTL", "k"), -1)
        self.assertEqual(c.cmd("PEXPIREAT", "k", -5), 1)
        self.assertEqual(c.cmd("EXISTS", "k"), 0)

    def test_ttl_rounding(self):
        c = self.c
        # One round trip each, so a loaded machine cannot eat the margin.
        self.assertEqual(c.pipeline([("SET", "k", "v", "PX", 1700),
                                     ("TTL", "k")]), ["OK", 2])
        self.assertEqual(c.pipeline([("SET", "k", "v", "PX", 1300),
                                     ("TTL", "k")]), ["OK", 1])


class StringEdgeTest(ServerTestCase):
    def test_ranges(self):
        c = self.c
        c.cmd("SET", "k", "abcdef")
        # Redis 7.0 clamps a too-negative end to 0 (a quirk clients see).
        self.assertEqual(c.cmd("GETRANGE", "k", 0, -100), b"a")
        self.assertEqual(c.cmd("GETRANGE", "k", -1, -1), b"f")
        self.assertEqual(c.cmd("GETRANGE", "k", 6, 10), b"")
        self.assertEqual(c.cmd("GETRANGE", "k", 2, 2), b"c")
        c.cmd("SET", "e", "")
        self.assertEqual(c.cmd("GETRANGE", "e", 0, -1), b"")
        self.assertEqual(c.cmd("SETRANGE", "k", 6, "gh"), 8)
        self.assertEqual(c.cmd("SETRANGE", "k", 0, ""), 8)
        self.assertEqual(c.cmd("GET", "k"), b"abcdefgh")

    def test_arity_errors(self):
        c = self.c
        for cmd in (["MGET"], ["DEL"], ["EXISTS"], ["ECHO"], ["INCRBY", "k"],
                    ["MSETNX", "a"], ["GETRANGE", "k", 1], ["EXPIRE", "k"],
                    ["RENAME", "a"], ["STRLEN"], ["APPEND", "k"]):
            self.assertErr(c.cmd(*cmd), "ERR wrong number of arguments for "
                           "'%s' command" % cmd[0].lower())

    def test_getdel_getex_on_ttl_keys(self):
        c = self.c
        c.cmd("SET", "k", "v", "EX", 100)
        self.assertEqual(c.cmd("GETDEL", "k"), b"v")
        self.assertEqual(c.cmd("TTL", "k"), -2)
        c.cmd("SET", "k", "v", "EX", 100)
        self.assertEqual(c.cmd("GETEX", "k", "EX", -1),
                         RespError("ERR invalid expire time in 'getex' "
                                   "command"))
        self.assertTrue(c.cmd("TTL", "k") > 90)

    def test_setnx_mset_overwrites_ttl(self):
        c = self.c
        c.cmd("SET", "k", "v", "EX", 100)
        c.cmd("MSET", "k", "w")
        self.assertEqual(c.cmd("TTL", "k"), -1)
        c.cmd("SET", "j", "v", "EX", 100)
        self.assertEqual(c.cmd("SETNX", "j", "w"), 0)
        self.assertTrue(c.cmd("TTL", "j") > 90)


class KeyEdgeTest(ServerTestCase):
    def test_rename_edge_cases(self):
        c = self.c
        self.assertErr(c.cmd("RENAME", "nokey", "nokey"), "ERR no such key")
        c.cmd("SET", "a", "1")
        c.cmd("SET", "b", "2", "EX", 100)
        self.assertEqual(c.cmd("RENAME", "a", "b"), "OK")
        self.assertEqual(c.cmd("TTL", "b"), -1)
        self.assertEqual(c.cmd("GET", "b"), b"1")
        self.assertEqual(c.cmd("RENAMENX", "b", "b"), 0)

    def test_copy_same_key(self):
        c = self.c
        c.cmd("SET", "a", "1")
        self.assertErr(c.cmd("COPY", "a", "a"),
                       "ERR source and destination objects are the same")

    def test_expired_keys_invisible(self):
        c = self.c
        c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", 0)
        try:
            c.cmd("SET", "gone", "v", "PX", 1)
            time.sleep(0.05)
            self.assertEqual(c.cmd("TYPE", "gone"), "none")
            self.assertIsNone(c.cmd("RANDOMKEY"))
            self.assertEqual(c.cmd("KEYS", "*"), [])
            self.assertEqual(c.cmd("APPEND", "gone", "x"), 1)
            self.assertEqual(c.cmd("TTL", "gone"), -1)
        finally:
            c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", 1)

    def test_keyspace_info_counts_expires(self):
        c = self.c
        c.cmd("MSET", "a", "1", "b", "2")
        c.cmd("EXPIRE", "a", 100)
        info = c.cmd("INFO", "keyspace").decode()
        self.assertIn("db0:keys=2,expires=1,", info)
        c.cmd("FLUSHALL")
        self.assertNotIn("db0:", c.cmd("INFO", "keyspace").decode())

    def test_scan_count_errors(self):
        c = self.c
        self.assertErr(c.cmd("SCAN", 0, "COUNT", -1), "ERR syntax error")
        self.assertErr(c.cmd("SCAN", 0, "COUNT", "x"), NOT_INT)
        self.assertEqual(c.cmd("SCAN", 0), [b"0", []])


class TransactionEdgeTest(ServerTestCase):
    def test_discard_unwatches(self):
        c = self.c
        c.cmd("WATCH", "k")
        c.cmd("MULTI")
        c.cmd("DISCARD")
        with self.server.client() as other:
            other.cmd("SET", "k", "x")
        c.cmd("MULTI")
        c.cmd("SET", "k", "y")
        self.assertEqual(c.cmd("EXEC"), ["OK"])

    def test_own_write_after_watch_aborts(self):
        c = self.c
        c.cmd("WATCH", "k")
        c.cmd("SET", "k", "mine")
        c.cmd("MULTI")
        c.cmd("GET", "k")
        self.assertIsNone(c.cmd("EXEC"))

    def test_flushall_touches_watched(self):
        self.c.cmd("SET", "k", "1")
        self.assertIsNone(self.exec_after_other_writes("k", ("FLUSHALL",)))

    def test_expire_and_persist_touch_watched(self):
        self.c.cmd("SET", "k", "1")
        self.assertIsNone(self.exec_after_other_writes(
            "k", ("EXPIRE", "k", 100)))
        self.assertIsNone(self.exec_after_other_writes("k", ("PERSIST", "k")))

    def test_watched_key_expiring_aborts(self):
        c = self.c
        c.cmd("SET", "k", "1", "PX", 50)
        c.cmd("WATCH", "k")
        time.sleep(0.15)
        c.cmd("MULTI")
        c.cmd("PING")
        self.assertIsNone(c.cmd("EXEC"))

    def test_pipelined_transaction(self):
        replies = self.c.pipeline([("MULTI",), ("INCR", "n"), ("INCR", "n"),
                                   ("PING",), ("EXEC",), ("GET", "n")])
        self.assertEqual(replies, ["OK", "QUEUED", "QUEUED", "QUEUED",
                                   [1, 2, "PONG"], b"2"])

    def test_resp3_aborted_exec_is_null(self):
        c = self.c
        c.cmd("HELLO", 3)
        c.cmd("WATCH", "k")
        with self.server.client() as other:
            other.cmd("SET", "k", "x")
        c.cmd("MULTI")
        c.send("EXEC")
        c.buf += c.sock.recv(64)
        self.assertEqual(c.buf, b"_\r\n")
        c.buf = b""


class ServerEdgeTest(ServerTestCase):
    def test_config_get_many(self):
        c = self.c
        reply = c.cmd("CONFIG", "GET", "port", "maxclients")
        pairs = dict(zip(reply[::2], reply[1::2]))
        self.assertEqual(pairs[b"port"], str(self.server.port).encode())
        self.assertIn(b"maxclients", pairs)
        self.assertErr(c.cmd("CONFIG", "GET"), "ERR wrong number of "
                       "arguments for 'config|get' command")

    def test_client_setname_empty_clears(self):
        c = self.c
        c.cmd("CLIENT", "SETNAME", "x")
        self.assertEqual(c.cmd("CLIENT", "SETNAME", ""), "OK")
        self.assertIsNone(c.cmd("CLIENT", "GETNAME"))

    def test_client_list_resp_and_ids(self):
        c = self.c
        first = c.cmd("CLIENT", "ID")
        with self.server.client() as d:
            self.assertGreater(d.cmd("CLIENT", "ID"), first)
            d.cmd("HELLO", 3)
            line = d.cmd("CLIENT", "INFO").decode()
            self.assertIn(" resp=3", line)
        self.assertIn(" resp=2", c.cmd("CLIENT", "INFO").decode())

    def test_client_kill_skipme(self):
        c = self.c
        me = c.cmd("CLIENT", "ID")
        self.assertEqual(c.cmd("CLIENT", "KILL", "ID", me, "SKIPME", "yes"),
                         0)
        self.assertEqual(c.cmd("PING"), "PONG")

    def test_command_info_key_specs(self):
        c = self.c
        get, mset, ping = c.cmd("COMMAND", "INFO", "get", "mset", "ping")
        self.assertEqual(get[1:2] + get[3:6], [2, 1, 1, 1])
        self.assertEqual(mset[1:2] + mset[3:6], [-3, 1, -1, 2])
        self.assertEqual(ping[1:2] + ping[3:6], [-1, 0, 0, 0])
        self.assertIn("write", mset[2])
        self.assertIn("readonly", get[2])

    def test_client_info_fields_match_redis_7_0(self):
        line = self.c.cmd("CLIENT", "INFO").decode()
        names = [f.split("=", 1)[0] for f in line.split()]
        self.assertEqual(names, [
            "id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db",
            "sub", "psub", "ssub", "multi", "qbuf", "qbuf-free", "argv-mem",
            "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem",
            "events", "cmd", "user", "redir", "resp"])

    def info_fields(self, section):
        text = self.c.cmd("INFO", section).decode()
        return dict(l.split(":", 1) for l in text.split("\r\n") if ":" in l)

    def test_info_fields_tools_read(self):
        c = self.c
        c.cmd("CONFIG", "RESETSTAT")
        c.cmd("SET", "k", "v")
        c.cmd("GET", "k")
        c.cmd("GET", "k")
        c.cmd("GET", "nokey")
        stats = self.info_fields("stats")
        self.assertEqual(stats["keyspace_hits"], "2")
        self.assertEqual(stats["keyspace_misses"], "1")
        for name in ("total_commands_processed", "total_connections_received",
                     "instantaneous_ops_per_sec", "expired_keys",
                     "rejected_connections"):
            self.assertIn(name, stats)
        clients = self.info_fields("clients")
        self.assertGreaterEqual(int(clients["connected_clients"]), 1)
        self.assertIn("blocked_clients", clients)
        self.assertGreater(int(self.info_fields("memory")["used_memory"]), 0)
        server = self.info_fields("server")
        self.assertTrue(server["redis_version"].startswith("7."))
        self.assertEqual(server["tcp_port"], str(self.server.port))
        self.assertIn("loading", self.info_fields("persistence"))

    def test_info_default_and_everything(self):
        c = self.c
        self.assertIn(b"# Keyspace", c.cmd("INFO", "default"))
        self.assertIn(b"# Server", c.cmd("INFO", "everything"))
        self.assertEqual(c.cmd("INFO", "nosuchsection"), b"")


class InlineLimitTest(ServerTestCase):
    def test_too_big_inline_request(self):
        self.expect_closed_with(
            b"SET k " + b"x" * (70 * 1024),
            b"-ERR Protocol error: too big inline request\r\n")

    def test_bulk_over_proto_max_bulk_len(self):
        self.expect_closed_with(
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$600000000\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n")

    def test_errors_keep_pipeline_order(self):
        replies = self.c.pipeline([("SET", "a", "1"), ("INCR", "a"),
                                   ("NOPE",), ("GET",), ("GET", "a")])
        self.assertEqual(replies[:2], ["OK", 2])
        self.assertIsInstance(replies[2], RespError)
        self.assertIsInstance(replies[3], RespError)
        self.assertEqual(replies[4], b"2")


class ToolModesTest(ServerTestCase):
    def cli(self, *args, stdin=None, rc=0):
        out = subprocess.run(["redis-cli", "-p", str(self.server.port)] +
                             list(args), input=stdin, capture_output=True,
                             timeout=120)
        self.assertEqual(out.returncode, rc, out.stderr)
        return out.stdout + out.stderr

    def test_cli_scan_and_repeat(self):
        self.c.pipeline([("SET", "s:%d" % i, i) for i in range(300)] +
                        [("SET", "t:%d" % i, i) for i in range(10)])
        keys = self.cli("--scan", "--pattern", "s:*").split()
        self.assertEqual(len(set(keys)), 300)
        self.assertEqual(self.cli("-r", "3", "INCR", "ctr"), b"1\n2\n3\n")

    def test_cli_pipe_reports_errors(self):
        payload = (encode_command(["SET", "a", "1"]) +
                   encode_command(["INCR", "a"]) +
                   encode_command(["NOSUCHCMD"]) +
                   encode_command(["GET", "a"]))
        out = self.cli("--pipe", stdin=payload, rc=1)
        self.assertIn(b"errors: 1, replies: 4", out)
        self.assertIn(b"ERR unknown command 'NOSUCHCMD'", out)

    def test_benchmark_other_tests(self):
        out = subprocess.run(
            ["redis-benchmark", "-p", str(self.server.port), "-n", "5000",
             "-c", "10", "-t", "ping,incr,mset", "--csv"],
            capture_output=True, timeout=300)
        self.assertEqual(out.returncode, 0, out.stderr)
        names = [l.split(",")[0].strip('"') for l in
                 out.stdout.decode().splitlines()[1:]]
        self.assertEqual(names, ["PING_INLINE", "PING_MBULK", "INCR",
                                 "MSET (10 keys)"])
        self.assertEqual(self.c.cmd("GET", "counter:__rand_int__"), b"5000")


if __name__ == "__main__":
    unittest.main()
