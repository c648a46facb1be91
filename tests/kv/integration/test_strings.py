"""String commands: replies, options, number formats and exact error texts."""

import random
import time
import unittest

from differential import PeerTestCase
from harness import ServerTestCase

NOT_INT = "ERR value is not an integer or out of range"
SYNTAX = "ERR syntax error"


class SetGetTest(ServerTestCase):
    def test_set_get(self):
        c = self.c
        self.assertEqual(c.cmd("SET", "k", "v"), "OK")
        self.assertEqual(c.cmd("GET", "k"), b"v")
        self.assertIsNone(c.cmd("GET", "missing"))

    def test_binary_and_empty_values(self):
        c = self.c
        blob = bytes(range(256)) * 4 + b"\r\n\x00"
        self.assertEqual(c.cmd("SET", b"bin\x00key", blob), "OK")
        self.assertEqual(c.cmd("GET", b"bin\x00key"), blob)
        self.assertEqual(c.cmd("SET", "empty", ""), "OK")
        self.assertEqual(c.cmd("GET", "empty"), b"")
        self.assertEqual(c.cmd("EXISTS", "empty"), 1)

    def test_large_value(self):
        big = b"x" * (4 << 20)
        self.assertEqual(self.c.cmd("SET", "big", big), "OK")
        self.assertEqual(self.c.cmd("GET", "big"), big)
        self.assertEqual(self.c.cmd("STRLEN", "big"), len(big))

    def test_set_nx_xx(self):
        c = self.c
        self.assertIsNone(c.cmd("SET", "k", "v", "XX"))
        self.assertEqual(c.cmd("SET", "k", "v1", "NX"), "OK")
        self.assertIsNone(c.cmd("SET", "k", "v2", "NX"))
        self.assertEqual(c.cmd("SET", "k", "v3", "XX"), "OK")
        self.assertEqual(c.cmd("GET", "k"), b"v3")
        self.assertErr(c.cmd("SET", "k", "v", "NX", "XX"), SYNTAX)

    def test_set_get_option(self):
        c = self.c
        self.assertIsNone(c.cmd("SET", "k", "a", "GET"))
        self.assertEqual(c.cmd("SET", "k", "b", "GET"), b"a")
        self.assertEqual(c.cmd("GET", "k"), b"b")
        self.assertEqual(c.cmd("SET", "k", "c", "NX", "GET"), b"b")
        self.assertEqual(c.cmd("GET", "k"), b"b")

    def test_set_expire_options(self):
        c = self.c
        self.assertEqual(c.cmd("SET", "k", "v", "EX", 100), "OK")
        self.assertTrue(95 <= c.cmd("TTL", "k") <= 100)
        self.assertEqual(c.cmd("SET", "k", "v", "PX", 100000), "OK")
        self.assertTrue(95000 <= c.cmd("PTTL", "k") <= 100000)
        at = int(time.time()) + 200
        self.assertEqual(c.cmd("SET", "k", "v", "EXAT", at), "OK")
        self.assertEqual(c.cmd("EXPIRETIME", "k"), at)
        self.assertEqual(c.cmd("SET", "k", "v", "PXAT", at * 1000 + 5), "OK")
        self.assertEqual(c.cmd("PEXPIRETIME", "k"), at * 1000 + 5)
        self.assertEqual(c.cmd("SET", "k", "w", "KEEPTTL"), "OK")
        self.assertEqual(c.cmd("PEXPIRETIME", "k"), at * 1000 + 5)
        self.assertEqual(c.cmd("SET", "k", "w"), "OK")
        self.assertEqual(c.cmd("TTL", "k"), -1)

    def test_set_errors(self):
        c = self.c
        self.assertErr(c.cmd("SET", "k", "v", "EX", 0),
                       "ERR invalid expire time in 'set' command")
        self.assertErr(c.cmd("SET", "k", "v", "EX", -5),
                       "ERR invalid expire time in 'set' command")
        self.assertErr(c.cmd("SET", "k", "v", "EX", "abc"), NOT_INT)
        self.assertErr(c.cmd("SET", "k", "v", "EX", 10, "PX", 10), SYNTAX)
        self.assertErr(c.cmd("SET", "k", "v", "EX", 10, "KEEPTTL"), SYNTAX)
        self.assertErr(c.cmd("SET", "k", "v", "BOGUS"), SYNTAX)
        self.assertErr(c.cmd("SET", "k", "v", "EX"), SYNTAX)
        self.assertErr(c.cmd("SET", "k"),
                       "ERR wrong number of arguments for 'set' command")
        self.assertErr(c.cmd("GET"),
                       "ERR wrong number of arguments for 'get' command")
        self.assertEqual(c.cmd("EXISTS", "k"), 0)

    def test_setnx_setex_psetex(self):
        c = self.c
        self.assertEqual(c.cmd("SETNX", "k", "a"), 1)
        self.assertEqual(c.cmd("SETNX", "k", "b"), 0)
        self.assertEqual(c.cmd("GET", "k"), b"a")
        self.assertEqual(c.cmd("SETEX", "k", 50, "c"), "OK")
        self.assertTrue(45 <= c.cmd("TTL", "k") <= 50)
        self.assertEqual(c.cmd("PSETEX", "p", 50000, "d"), "OK")
        self.assertTrue(45000 <= c.cmd("PTTL", "p") <= 50000)
        self.assertErr(c.cmd("SETEX", "k", 0, "c"),
                       "ERR invalid expire time in 'setex' command")
        self.assertErr(c.cmd("PSETEX", "k", -1, "c"),
                       "ERR invalid expire time in 'psetex' command")
        self.assertErr(c.cmd("SETEX", "k", "x", "c"), NOT_INT)

    def test_getset_getdel(self):
        c = self.c
        self.assertIsNone(c.cmd("GETSET", "k", "a"))
        self.assertEqual(c.cmd("GETSET", "k", "b"), b"a")
        c.cmd("EXPIRE", "k", 100)
        self.assertEqual(c.cmd("GETSET", "k", "c"), b"b")
        self.assertEqual(c.cmd("TTL", "k"), -1)
        self.assertEqual(c.cmd("GETDEL", "k"), b"c")
        self.assertIsNone(c.cmd("GETDEL", "k"))
        self.assertEqual(c.cmd("EXISTS", "k"), 0)

    def test_getex(self):
        c = self.c
        self.assertIsNone(c.cmd("GETEX", "nokey", "EX", 10))
        c.cmd("SET", "k", "v")
        self.assertEqual(c.cmd("GETEX", "k"), b"v")
        self.assertEqual(c.cmd("TTL", "k"), -1)
        self.assertEqual(c.cmd("GETEX", "k", "EX", 100), b"v")
        self.assertTrue(95 <= c.cmd("TTL", "k") <= 100)
        self.assertEqual(c.cmd("GETEX", "k", "PERSIST"), b"v")
        self.assertEqual(c.cmd("TTL", "k"), -1)
        self.assertEqual(c.cmd("GETEX", "k", "PX", 100000), b"v")
        self.assertTrue(c.cmd("PTTL", "k") > 90000)
        at = int(time.time()) + 300
        self.assertEqual(c.cmd("GETEX", "k", "EXAT", at), b"v")
        self.assertEqual(c.cmd("EXPIRETIME", "k"), at)
        self.assertErr(c.cmd("GETEX", "k", "EX", 0),
                       "ERR invalid expire time in 'getex' command")
        self.assertErr(c.cmd("GETEX", "k", "EX", 10, "PERSIST"), SYNTAX)

    def test_mget_mset_msetnx(self):
        c = self.c
        self.assertEqual(c.cmd("MSET", "a", "1", "b", "2"), "OK")
        self.assertEqual(c.cmd("MGET", "a", "nokey", "b"), [b"1", None, b"2"])
        self.assertErr(c.cmd("MSET", "a", "1", "b"),
                       "ERR wrong number of arguments for 'mset' command")
        self.assertEqual(c.cmd("MSETNX", "c", "3", "a", "9"), 0)
        self.assertEqual(c.cmd("EXISTS", "c"), 0)
        self.assertEqual(c.cmd("GET", "a"), b"1")
        self.assertEqual(c.cmd("MSETNX", "c", "3", "d", "4"), 1)
        self.assertEqual(c.cmd("MGET", "c", "d"), [b"3", b"4"])
        self.assertEqual(c.cmd("MSET", "a", "x", "a", "y"), "OK")
        self.assertEqual(c.cmd("GET", "a"), b"y")

    def test_mget_every_key_state(self):
        # MGET is one batched engine lookup (DB::MultiGet): repeats,
        # missing, deleted, overwritten, expired and non-string keys, each
        # answered as GET would (nil for a collection, as Redis).
        c = self.c
        self.assertEqual(c.cmd("MSET", "a", "1", "b", "2", "gone", "x"), "OK")
        self.assertEqual(c.cmd("SET", "b", "22"), "OK")
        self.assertEqual(c.cmd("DEL", "gone"), 1)
        self.assertEqual(c.cmd("SET", "exp", "x", "PX", 1), "OK")
        self.assertEqual(c.cmd("SET", "empty", ""), "OK")
        c.cmd("RPUSH", "list", "x")
        c.cmd("HSET", "hash", "f", "v")
        c.cmd("SADD", "set", "m")
        c.cmd("ZADD", "zset", 1, "m")
        c.cmd("XADD", "stream", "1-1", "f", "v")
        time.sleep(0.02)
        self.assertEqual(
            c.cmd("MGET", "a", "a", "nokey", "list", "hash", "set", "zset",
                  "stream", "gone", "b", "exp", "empty", "a"),
            [b"1", b"1", None, None, None, None, None, None, None, b"22",
             None, b"", b"1"])
        self.assertEqual(c.cmd("MGET", "nokey"), [None])
        self.assertEqual(c.cmd("MGET", "list"), [None])
        self.assertErr(c.cmd("GET", "list"),
                       "WRONGTYPE Operation against a key holding the wrong "
                       "kind of value")

    def test_mget_many_keys_and_large_values(self):
        c = self.c
        keys = ["key:%d" % i for i in range(300)]
        pairs = []
        for i, k in enumerate(keys):
            if i % 3:
                pairs += [k, "v%d" % i]
        self.assertEqual(c.cmd("MSET", *pairs), "OK")
        want = [("v%d" % i).encode() if i % 3 else None for i in range(300)]
        self.assertEqual(c.cmd("MGET", *keys), want)
        self.assertEqual(c.cmd("MGET", *(keys + keys[::-1])),
                         want + want[::-1])
        big = b"y" * (3 << 20)
        self.assertEqual(c.cmd("SET", "big", big), "OK")
        self.assertEqual(c.cmd("MGET", "key:1", "big", "key:0", "big"),
                         [b"v1", big, None, big])
        # Inside MULTI/EXEC and a script the same answers.
        self.assertEqual(c.cmd("MULTI"), "OK")
        self.assertEqual(c.cmd("SET", "key:0", "new"), "QUEUED")
        self.assertEqual(c.cmd("MGET", "key:0", "key:1", "nokey"), "QUEUED")
        self.assertEqual(c.cmd("EXEC"),
                         ["OK", [b"new", b"v1", None]])
        self.assertEqual(
            c.cmd("EVAL", "return redis.call('MGET', KEYS[1], KEYS[2], "
                  "KEYS[3])", 3, "key:0", "nokey", "key:2"),
            [b"new", None, b"v2"])
        # A pipeline of GETs and MGETs keeps its order.
        cmds = []
        for i in range(64):
            cmds.append(("GET", keys[i]) if i % 4 else
                        ("MGET", keys[i], "nokey", keys[i + 1]))
        got = c.pipeline(cmds)
        for i, r in enumerate(got):
            if i % 4:
                self.assertEqual(r, want[i], i)
            else:
                self.assertEqual(
                    r, [b"new" if i == 0 else want[i], None, want[i + 1]], i)


class StringEditTest(ServerTestCase):
    def test_append_strlen(self):
        c = self.c
        self.assertEqual(c.cmd("APPEND", "k", "hello"), 5)
        self.assertEqual(c.cmd("APPEND", "k", " world"), 11)
        self.assertEqual(c.cmd("GET", "k"), b"hello world")
        self.assertEqual(c.cmd("STRLEN", "k"), 11)
        self.assertEqual(c.cmd("STRLEN", "nokey"), 0)

    def test_append_keeps_ttl(self):
        c = self.c
        c.cmd("SET", "k", "a", "EX", 100)
        c.cmd("APPEND", "k", "b")
        self.assertTrue(c.cmd("TTL", "k") > 90)

    def test_getrange(self):
        c = self.c
        c.cmd("SET", "k", "This is a string")
        self.assertEqual(c.cmd("GETRANGE", "k", 0, 3), b"This")
        self.assertEqual(c.cmd("GETRANGE", "k", -3, -1), b"ing")
        self.assertEqual(c.cmd("GETRANGE", "k", 0, -1), b"This is a string")
        self.assertEqual(c.cmd("GETRANGE", "k", 10, 100), b"string")
        self.assertEqual(c.cmd("GETRANGE", "k", 5, 2), b"")
        self.assertEqual(c.cmd("GETRANGE", "k", -100, 3), b"This")
        self.assertEqual(c.cmd("GETRANGE", "nokey", 0, -1), b"")
        self.assertErr(c.cmd("GETRANGE", "k", "a", 1), NOT_INT)

    def test_setrange(self):
        c = self.c
        c.cmd("SET", "k", "Hello World")
        self.assertEqual(c.cmd("SETRANGE", "k", 6, "Redis"), 11)
        self.assertEqual(c.cmd("GET", "k"), b"Hello Redis")
        self.assertEqual(c.cmd("SETRANGE", "pad", 5, "x"), 6)
        self.assertEqual(c.cmd("GET", "pad"), b"\x00" * 5 + b"x")
        self.assertEqual(c.cmd("SETRANGE", "nokey", 3, ""), 0)
        self.assertEqual(c.cmd("EXISTS", "nokey"), 0)
        self.assertErr(c.cmd("SETRANGE", "k", -1, "x"),
                       "ERR offset is out of range")
        self.assertErr(c.cmd("SETRANGE", "k", 536870912, "x"),
                       "ERR string exceeds maximum allowed size "
                       "(proto-max-bulk-len)")


class CounterTest(ServerTestCase):
    def test_incr_decr(self):
        c = self.c
        self.assertEqual(c.cmd("INCR", "n"), 1)
        self.assertEqual(c.cmd("INCRBY", "n", 10), 11)
        self.assertEqual(c.cmd("DECR", "n"), 10)
        self.assertEqual(c.cmd("DECRBY", "n", 20), -10)
        self.assertEqual(c.cmd("GET", "n"), b"-10")
        c.cmd("SET", "n", " 1")
        self.assertErr(c.cmd("INCR", "n"), NOT_INT)
        c.cmd("SET", "n", "abc")
        self.assertErr(c.cmd("INCR", "n"), NOT_INT)
        self.assertErr(c.cmd("INCRBY", "x", "1.5"), NOT_INT)

    def test_incr_overflow(self):
        c = self.c
        c.cmd("SET", "n", str(2**63 - 1))
        self.assertErr(c.cmd("INCR", "n"),
                       "ERR increment or decrement would overflow")
        c.cmd("SET", "n", str(-2**63))
        self.assertErr(c.cmd("DECR", "n"),
                       "ERR increment or decrement would overflow")
        c.cmd("SET", "n", str(2**63))
        self.assertErr(c.cmd("INCR", "n"), NOT_INT)
        self.assertErr(c.cmd("DECRBY", "m", str(-2**63)),
                       "ERR decrement would overflow")

    def test_incr_keeps_ttl(self):
        c = self.c
        c.cmd("SET", "n", "5", "EX", 100)
        self.assertEqual(c.cmd("INCR", "n"), 6)
        self.assertTrue(c.cmd("TTL", "n") > 90)

    def test_incrbyfloat(self):
        c = self.c
        self.assertEqual(c.cmd("INCRBYFLOAT", "f", "10.5"), b"10.5")
        self.assertEqual(c.cmd("INCRBYFLOAT", "f", "0.1"), b"10.6")
        self.assertEqual(c.cmd("INCRBYFLOAT", "f", "-5"), b"5.6")
        c.cmd("SET", "f", "5.0e3")
        self.assertEqual(c.cmd("INCRBYFLOAT", "f", "2.0e2"), b"5200")
        c.cmd("SET", "g", "3")
        self.assertEqual(c.cmd("INCRBYFLOAT", "g", "1.5"), b"4.5")
        self.assertEqual(c.cmd("INCRBYFLOAT", "g", "-4.5"), b"0")
        self.assertErr(c.cmd("INCRBYFLOAT", "g", "abc"),
                       "ERR value is not a valid float")
        c.cmd("SET", "s", "str")
        self.assertErr(c.cmd("INCRBYFLOAT", "s", "1"),
                       "ERR value is not a valid float")
        self.assertErr(c.cmd("INCRBYFLOAT", "g", "inf"),
                       "ERR increment would produce NaN or Infinity")
        self.assertEqual(c.cmd("GET", "g"), b"0")
        # Bytes after a NUL are not ignored, in the increment or the value.
        self.assertErr(c.cmd("INCRBYFLOAT", "g", b"\0\0yz"),
                       "ERR value is not a valid float")
        self.assertErr(c.cmd("INCRBYFLOAT", "g", b"1\0"),
                       "ERR value is not a valid float")
        c.cmd("SET", "z", b"2\0x")
        self.assertErr(c.cmd("INCRBYFLOAT", "z", "1"),
                       "ERR value is not a valid float")


class GetPipelineTest(PeerTestCase):
    """A big pipeline of GETs (daxkv looks each run of them up with one
    batched engine lookup) mixed with writes, missing, expired and
    wrong-type keys: the same replies and keyspace hits and misses as
    the reference redis-server."""

    KEYS = ["k0", "k1", "k2", "k3", "k4", "k5", "list", "hash", "ttl",
            "gone", "nokey", "k9"]

    @staticmethod
    def load(conn):
        for i in range(10):
            conn.cmd("SET", "k%d" % i, "value-%d" % i)
        conn.cmd("RPUSH", "list", "a", "b")
        conn.cmd("HSET", "hash", "f", "v")
        conn.cmd("SET", "ttl", "v", "EX", 1000)
        conn.cmd("SET", "gone", "v", "PX", 20)

    @staticmethod
    def lookups(conn):
        text = conn.cmd("INFO", "stats").decode()
        fields = dict(l.split(":", 1) for l in text.split("\r\n") if ":" in l)
        return int(fields["keyspace_hits"]), int(fields["keyspace_misses"])

    def pipeline_commands(self, n, seed):
        rng = random.Random(seed)
        cmds = []
        for i in range(n):
            k = rng.choice(self.KEYS)
            op = rng.randrange(12)
            if op == 0:
                cmds.append(("SET", k, "new-%d" % i))
            elif op == 1:
                cmds.append(("DEL", k))
            elif op == 2:
                cmds.append(("PEXPIRE", k, -1))  # deletes it now
            elif op == 3:
                cmds.append(("EXPIRE", k, 1000))
            elif op == 4:
                cmds.append(("gEt", k))
            else:
                cmds.append(("GET", k))
        return cmds

    def test_get_pipeline_matches_redis(self):
        for conn in (self.c, self.ref):
            self.load(conn)
        time.sleep(0.1)  # "gone" expired
        for conn in (self.c, self.ref):
            self.assertEqual(conn.cmd("CONFIG", "RESETSTAT"), "OK")
        for seed in range(3):
            cmds = self.pipeline_commands(200, seed)
            mine, ref = self.c.pipeline(cmds), self.ref.pipeline(cmds)
            for i, (m, r) in enumerate(zip(mine, ref)):
                self.assertEqual(m, r, "reply %d to %r" % (i, cmds[i]))
        hits, misses = self.lookups(self.c)
        self.assertEqual((hits, misses), self.lookups(self.ref))
        self.assertGreater(hits, 50)
        self.assertGreater(misses, 50)

    def test_long_run_of_gets_matches_redis(self):
        for conn in (self.c, self.ref):
            self.load(conn)
        time.sleep(0.1)
        for conn in (self.c, self.ref):
            self.assertEqual(conn.cmd("CONFIG", "RESETSTAT"), "OK")
        cmds = [("GET", self.KEYS[i % len(self.KEYS)]) for i in range(300)]
        self.assertEqual(self.c.pipeline(cmds), self.ref.pipeline(cmds))
        self.assertEqual(self.lookups(self.c), self.lookups(self.ref))


if __name__ == "__main__":
    unittest.main()
