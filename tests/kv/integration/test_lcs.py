"""LCS (LEN, IDX, MINMATCHLEN, WITHMATCHLEN) and SUBSTR: exact replies and
errors, RESP3's map for IDX, and random string pairs compared with a
reference redis-server (differential.py)."""

import random
import unittest

from differential import PeerTestCase
from harness import ServerTestCase, is_daxkv

SYNTAX = "ERR syntax error"


class LcsTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.c.cmd("SET", "key1", "ohmytext")
        self.c.cmd("SET", "key2", "mynewtext")

    def test_lcs(self):
        c = self.c
        self.assertEqual(c.cmd("LCS", "key1", "key2"), b"mytext")
        self.assertEqual(c.cmd("LCS", "key1", "key2", "LEN"), 6)
        self.assertEqual(c.cmd("LCS", "key1", "key2", "IDX"),
                         [b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]],
                          b"len", 6])
        self.assertEqual(
            c.cmd("LCS", "key1", "key2", "IDX", "MINMATCHLEN", 4,
                  "WITHMATCHLEN"),
            [b"matches", [[[4, 7], [5, 8], 4]], b"len", 6])
        self.assertEqual(c.cmd("LCS", "key1", "key2", "idx", "minmatchlen",
                               -5),
                         c.cmd("LCS", "key1", "key2", "IDX"))
        self.assertEqual(c.cmd("LCS", "key1", "nokey"), b"")
        self.assertEqual(c.cmd("LCS", "nokey", "nokey2", "LEN"), 0)
        self.assertEqual(c.cmd("LCS", "key1", "nokey", "IDX"),
                         [b"matches", [], b"len", 0])

    def test_lcs_resp3_map(self):
        c = self.c
        self.assertEqual(c.cmd("HELLO", "3")["proto"], 3)
        self.assertEqual(c.cmd("LCS", "key1", "key2", "IDX", "WITHMATCHLEN"),
                         {"matches": [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]],
                          "len": 6})

    def test_lcs_errors(self):
        c = self.c
        self.assertErr(c.cmd("LCS", "key1", "key2", "LEN", "IDX"),
                       "ERR If you want both the length and indexes, please "
                       "just use IDX.")
        self.assertErr(c.cmd("LCS", "key1", "key2", "foo"), SYNTAX)
        self.assertErr(c.cmd("LCS", "key1", "key2", "MINMATCHLEN"), SYNTAX)
        self.assertErr(c.cmd("LCS", "key1", "key2", "MINMATCHLEN", "x"),
                       "ERR value is not an integer or out of range")
        self.assertErr(c.cmd("LCS", "key1"),
                       "ERR wrong number of arguments for 'lcs' command")

    def test_substr(self):
        c = self.c
        self.assertEqual(c.cmd("SUBSTR", "key1", 0, 3), b"ohmy")
        self.assertEqual(c.cmd("SUBSTR", "key1", -4, -1), b"text")
        self.assertEqual(c.cmd("SUBSTR", "key1", 5, 2), b"")
        self.assertEqual(c.cmd("SUBSTR", "key1", 0, 1000), b"ohmytext")
        self.assertEqual(c.cmd("SUBSTR", "nokey", 0, -1), b"")
        self.assertErr(c.cmd("SUBSTR", "key1", "a", 1),
                       "ERR value is not an integer or out of range")
        self.assertErr(c.cmd("SUBSTR", "key1", 0),
                       "ERR wrong number of arguments for 'substr' command")

    @unittest.skipUnless(is_daxkv(), "daxkv's bound on LCS's table")
    def test_transient_table_is_bounded(self):
        c = self.c
        c.cmd("SET", "big1", "ab" * 10000)
        c.cmd("SET", "big2", "ba" * 10000)
        # A 20000 x 20000 table would be 1.6 GB; daxkv refuses it with
        # Redis's allocation-failure error, LEN needs no table.
        self.assertErr(c.cmd("LCS", "big1", "big2"),
                       "ERR Insufficient memory, failed allocating transient "
                       "memory for LCS")
        self.assertEqual(c.cmd("LCS", "big1", "big2", "LEN"), 19999)
        self.assertEqual(c.cmd("PING"), "PONG")


class LcsDifferentialTest(PeerTestCase):
    def test_random_pairs(self):
        seed = random.randrange(1 << 30)
        rng = random.Random(seed)
        for _ in range(150):
            a = "".join(rng.choice("abc") for _ in range(rng.randrange(40)))
            b = "".join(rng.choice("abcd") for _ in range(rng.randrange(40)))
            self.both("SET", "a", a)
            self.both("SET", "b", b)
            opts = rng.choice([[], ["LEN"], ["IDX"], ["IDX", "WITHMATCHLEN"],
                               ["IDX", "MINMATCHLEN", str(rng.randrange(4)),
                                "WITHMATCHLEN"]])
            mine = self.c.cmd("LCS", "a", "b", *opts)
            self.assertEqual(mine, self.ref.cmd("LCS", "a", "b", *opts),
                             "seed %d: %r %r %r" % (seed, a, b, opts))
            start, end = rng.randrange(-45, 45), rng.randrange(-45, 45)
            self.both("SUBSTR", "a", start, end)
