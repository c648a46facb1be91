"""DUMP and RESTORE: payloads byte-equal to Redis 7.0's, every RESTORE
option and error in Redis's order, and values moved both ways between a
reference redis-server and the server under test (differential.py)."""

import random
import time

from differential import PeerTestCase
from harness import ServerTestCase, is_daxkv

BUSY = "BUSYKEY Target key name already exists."
NOT_INT = "ERR value is not an integer or out of range"
FOOTER = "ERR DUMP payload version or checksum are wrong"


class DumpRestoreTest(ServerTestCase):
    def test_round_trip_with_ttl_and_replace(self):
        c = self.c
        c.cmd("SET", "k", "hello")
        payload = c.cmd("DUMP", "k")
        self.assertIsInstance(payload, bytes)
        self.assertIsNone(c.cmd("DUMP", "missing"))
        self.assertErr(c.cmd("RESTORE", "k", 0, payload), BUSY)
        self.assertEqual(c.cmd("RESTORE", "k2", 0, payload), "OK")
        self.assertEqual(c.cmd("GET", "k2"), b"hello")
        self.assertEqual(c.cmd("TTL", "k2"), -1)
        self.assertEqual(c.cmd("RESTORE", "k2", 5000, payload, "REPLACE"),
                         "OK")
        self.assertTrue(0 < c.cmd("PTTL", "k2") <= 5000)
        at = int(time.time() * 1000) + 100000
        self.assertEqual(c.cmd("RESTORE", "k3", at, payload, "ABSTTL"), "OK")
        self.assertTrue(90000 < c.cmd("PTTL", "k3") <= 100000)

    def test_already_expired_stores_nothing(self):
        c = self.c
        c.cmd("SET", "k", "v")
        payload = c.cmd("DUMP", "k")
        self.assertEqual(c.cmd("RESTORE", "gone", 1, payload, "ABSTTL"), "OK")
        self.assertEqual(c.cmd("EXISTS", "gone"), 0)
        # REPLACE with a past absolute TTL deletes the key it replaces.
        self.assertEqual(c.cmd("RESTORE", "k", 1, payload, "ABSTTL",
                               "REPLACE"), "OK")
        self.assertEqual(c.cmd("EXISTS", "k"), 0)

    def test_idletime(self):
        c = self.c
        c.cmd("SET", "k", "v")
        payload = c.cmd("DUMP", "k")
        self.assertEqual(c.cmd("RESTORE", "idle", 0, payload, "IDLETIME",
                               1000), "OK")
        self.assertGreaterEqual(c.cmd("OBJECT", "IDLETIME", "idle"), 1000)
        self.assertEqual(c.cmd("RESTORE", "f", 0, payload, "FREQ", 100), "OK")

    def test_errors(self):
        c = self.c
        c.cmd("SET", "k", "v")
        p = c.cmd("DUMP", "k")
        self.assertErr(c.cmd("RESTORE", "n", -1, p),
                       "ERR Invalid TTL value, must be >= 0")
        self.assertErr(c.cmd("RESTORE", "n", "x", p), NOT_INT)
        self.assertErr(c.cmd("RESTORE", "n", 0, p, "IDLETIME", -1),
                       "ERR Invalid IDLETIME value, must be >= 0")
        self.assertErr(c.cmd("RESTORE", "n", 0, p, "FREQ", 256),
                       "ERR Invalid FREQ value, must be >= 0 and <= 255")
        self.assertErr(c.cmd("RESTORE", "n", 0, p, "FREQ", 1, "IDLETIME", 1),
                       "ERR syntax error")
        self.assertErr(c.cmd("RESTORE", "n", 0, p, "bogus"),
                       "ERR syntax error")
        self.assertErr(c.cmd("RESTORE", "n", 0, p, "IDLETIME"),
                       "ERR syntax error")
        self.assertErr(c.cmd("RESTORE", "n", 0, b"garbage-bytes"), FOOTER)
        flipped = p[:1] + bytes([p[1] ^ 1]) + p[2:]
        self.assertErr(c.cmd("RESTORE", "n", 0, flipped), FOOTER)
        # The key check comes first, as in Redis: BUSYKEY beats a bad TTL.
        self.assertErr(c.cmd("RESTORE", "k", -1, b"x"), BUSY)
        self.assertErr(c.cmd("DUMP"),
                       "ERR wrong number of arguments for 'dump' command")
        self.assertErr(c.cmd("RESTORE", "k", 0),
                       "ERR wrong number of arguments for 'restore' command")
        self.assertEqual(c.cmd("EXISTS", "n"), 0)


class DumpRestoreDifferentialTest(PeerTestCase):
    def values(self, rng):
        yield ""
        yield "0"
        yield "-1"
        yield "12345678901234567890"  # too long for an int encoding
        yield str(rng.randrange(-(1 << 63), 1 << 63))
        yield "x" * 20
        yield "ab" * 2000  # compressible: LZF
        yield bytes(rng.randrange(256) for _ in range(300))

    def test_payloads_equal_redis(self):
        rng = random.Random(7)
        for i, v in enumerate(self.values(rng)):
            self.both("SET", "k%d" % i, v)
            mine = self.both("DUMP", "k%d" % i)
            self.assertIsNotNone(mine)

    def test_values_move_both_ways(self):
        rng = random.Random(11)
        for i, v in enumerate(self.values(rng)):
            key = "m%d" % i
            self.ref.cmd("SET", key, v)
            self.assertEqual(
                self.c.cmd("RESTORE", key, 0, self.ref.cmd("DUMP", key)), "OK")
            self.assertEqual(self.c.cmd("GET", key), self.ref.cmd("GET", key))
            self.assertEqual(self.ref.cmd("RESTORE", key + "b", 0,
                                          self.c.cmd("DUMP", key)), "OK")
            self.assertEqual(self.ref.cmd("GET", key + "b"),
                             self.c.cmd("GET", key))

    # Each collection built on the reference, with the reply that reads it
    # back whole in a fixed order.
    COLLECTIONS = [
        ("list", [("RPUSH", "k", "a", "b", "12", "x" * 100)],
         ("LRANGE", "k", 0, -1)),
        ("bigl", [("RPUSH", "k") + tuple("e%d" % i for i in range(3000))],
         ("LRANGE", "k", 0, -1)),
        ("intset", [("SADD", "k", 1, 2, 3, -70000)], ("SORT", "k")),
        ("set", [("SADD", "k", "a", "b", "c")], ("SORT", "k", "ALPHA")),
        ("bigs", [("SADD", "k") + tuple("m%d" % i for i in range(600))],
         ("SORT", "k", "ALPHA")),
        ("hash", [("HSET", "k", "f", "v", "n", "12")], ("HGETALL", "k")),
        ("bigh", [("HSET", "k") + tuple(
            x for i in range(600) for x in ("f%d" % i, "v%d" % i))],
         ("HGETALL", "k")),
        ("zset", [("ZADD", "k", 1, "a", 2.5, "b", "-inf", "c", "inf", "d")],
         ("ZRANGE", "k", 0, -1, "WITHSCORES")),
        ("bigz", [("ZADD", "k") + tuple(
            x for i in range(200) for x in (i * 0.5, "m%d" % i))],
         ("ZRANGE", "k", 0, -1, "WITHSCORES")),
    ]

    def test_collection_payloads(self):
        """Every collection type moves from redis-server to the server
        under test and back intact (its contents compared on the
        reference), with its TTL; BUSYKEY and REPLACE as for strings."""
        for name, build, read in self.COLLECTIONS:
            self.ref.cmd("DEL", "k")
            for cmd in build:
                self.ref.cmd(*cmd)
            want = self.ref.cmd(*read)
            payload = self.ref.cmd("DUMP", "k")
            self.assertEqual(self.c.cmd("RESTORE", name, 100000, payload),
                             "OK", name)
            self.assertErr(self.c.cmd("RESTORE", name, 0, payload), BUSY)
            self.assertTrue(0 < self.c.cmd("PTTL", name) <= 100000, name)
            back = self.c.cmd("DUMP", name)
            self.assertEqual(self.ref.cmd("RESTORE", "back", 0, back), "OK",
                             name)
            got = self.ref.cmd(*((read[0], "back") + read[2:]))
            if read[0] == "HGETALL":
                got, want = sorted(zip(got[::2], got[1::2])), sorted(
                    zip(want[::2], want[1::2]))
            self.assertEqual(got, want, name)
            self.ref.cmd("DEL", "back")
        self.assertEqual(self.c.cmd("TYPE", "list"), "list")
        self.assertEqual(self.c.cmd("TYPE", "intset"), "set")
        self.assertEqual(self.c.cmd("TYPE", "zset"), "zset")
        # REPLACE swaps the type; an expired TTL with REPLACE deletes.
        self.ref.cmd("DEL", "k")
        self.ref.cmd("HSET", "k", "f", "v")
        payload = self.ref.cmd("DUMP", "k")
        self.assertEqual(self.c.cmd("RESTORE", "list", 0, payload, "REPLACE"),
                         "OK")
        self.assertEqual(self.c.cmd("TYPE", "list"), "hash")
        self.assertEqual(self.c.cmd("RESTORE", "list", 1, payload, "REPLACE",
                                    "ABSTTL"), "OK")
        self.assertEqual(self.c.cmd("EXISTS", "list"), 0)

    def test_hash_payload_equals_redis(self):
        # One field: no ordering question; the bytes must be Redis's.
        self.both("HSET", "h", "field", "value")
        self.both("DUMP", "h")
        self.both("HSET", "n", "f", "123")
        self.both("DUMP", "n")
