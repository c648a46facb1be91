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

    def test_collection_payloads(self):
        self.ref.cmd("RPUSH", "l", "a", "b")
        payload = self.ref.cmd("DUMP", "l")
        reply = self.c.cmd("RESTORE", "l", 0, payload)
        if is_daxkv():
            # Until the collections land: refused by type, nothing written.
            self.assertErr(reply, "ERR Bad data format: daxkv does not store "
                           "list values yet")
            self.assertEqual(self.c.cmd("EXISTS", "l"), 0)
        else:
            self.assertEqual(reply, "OK")
