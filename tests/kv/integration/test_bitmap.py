"""Bitmaps on strings: SETBIT, GETBIT, BITCOUNT, BITPOS (BYTE|BIT), BITOP,
BITFIELD and BITFIELD_RO. Exact replies and errors, then the same command
lists and a random stream replayed against a reference redis-server and
compared byte for byte (differential.py)."""

import os
import random

from differential import PeerTestCase
from harness import ServerTestCase

OFFSET_ERR = "ERR bit offset is not an integer or out of range"
BIT_ERR = "ERR bit is not an integer or out of range"
NOT_INT = "ERR value is not an integer or out of range"
SYNTAX = "ERR syntax error"
TYPE_ERR = ("ERR Invalid bitfield type. Use something like i16 u8. Note that "
            "u64 is not supported but i64 is.")


class BitmapTest(ServerTestCase):
    def test_setbit_getbit(self):
        c = self.c
        self.assertEqual(c.cmd("SETBIT", "b", 7, 1), 0)
        self.assertEqual(c.cmd("GET", "b"), b"\x01")
        self.assertEqual(c.cmd("SETBIT", "b", 7, 1), 1)
        self.assertEqual(c.cmd("SETBIT", "b", 0, 1), 0)
        self.assertEqual(c.cmd("GET", "b"), b"\x81")
        self.assertEqual(c.cmd("SETBIT", "b", 100, 1), 0)
        self.assertEqual(c.cmd("STRLEN", "b"), 13)
        self.assertEqual(c.cmd("GETBIT", "b", 100), 1)
        self.assertEqual(c.cmd("GETBIT", "b", 99), 0)
        self.assertEqual(c.cmd("GETBIT", "b", 10 ** 9), 0)
        self.assertEqual(c.cmd("GETBIT", "nokey", 5), 0)
        self.assertEqual(c.cmd("SETBIT", "b", 100, 0), 1)
        self.assertEqual(c.cmd("STRLEN", "b"), 13)  # never shrinks

    def test_setbit_getbit_errors(self):
        c = self.c
        for off in ("-1", "x", "4294967296", "1.5", ""):
            self.assertErr(c.cmd("SETBIT", "b", off, 1), OFFSET_ERR)
            self.assertErr(c.cmd("GETBIT", "b", off), OFFSET_ERR)
        for val in ("2", "-1", "x", ""):
            self.assertErr(c.cmd("SETBIT", "b", 1, val), BIT_ERR)
        self.assertEqual(c.cmd("EXISTS", "b"), 0)

    def test_setbit_keeps_ttl_and_unchanged_bit_is_not_a_write(self):
        c = self.c
        c.cmd("SET", "k", "\x00", "EX", 100)
        self.assertEqual(c.cmd("SETBIT", "k", 3, 1), 0)
        self.assertGreater(c.cmd("TTL", "k"), 90)
        # WATCH survives a SETBIT that changes nothing (Redis does not
        # signal it), and fails after one that does.
        self.assertIsNotNone(self.exec_after_other_writes(
            "k", ("SETBIT", "k", 3, 1)))
        self.assertIsNone(self.exec_after_other_writes(
            "k", ("SETBIT", "k", 3, 0)))

    def test_bitcount_ranges(self):
        c = self.c
        c.cmd("SET", "k", "foobar")
        self.assertEqual(c.cmd("BITCOUNT", "k"), 26)
        self.assertEqual(c.cmd("BITCOUNT", "k", 0, 0), 4)
        self.assertEqual(c.cmd("BITCOUNT", "k", 1, 1), 6)
        self.assertEqual(c.cmd("BITCOUNT", "k", 1, -1), 22)
        self.assertEqual(c.cmd("BITCOUNT", "k", -100, 100), 26)
        self.assertEqual(c.cmd("BITCOUNT", "k", 5, 3), 0)
        self.assertEqual(c.cmd("BITCOUNT", "k", 5, 30, "BIT"), 17)
        self.assertEqual(c.cmd("BITCOUNT", "k", -5, -1, "bit"), 2)
        self.assertEqual(c.cmd("BITCOUNT", "k", 0, 0, "byte"), 4)
        self.assertEqual(c.cmd("BITCOUNT", "nokey"), 0)
        # An absent key answers before the range is parsed; both negative
        # with start > end answers before the unit is.
        self.assertEqual(c.cmd("BITCOUNT", "nokey", "a", "b"), 0)
        self.assertEqual(c.cmd("BITCOUNT", "k", -1, -2, "junk"), 0)
        self.assertErr(c.cmd("BITCOUNT", "k", 1), SYNTAX)
        self.assertErr(c.cmd("BITCOUNT", "k", 1, 2, "junk"), SYNTAX)
        self.assertErr(c.cmd("BITCOUNT", "k", "a", 2), NOT_INT)
        self.assertErr(c.cmd("BITCOUNT", "k", 1, 2, "bit", "x"), SYNTAX)

    def test_bitpos(self):
        c = self.c
        c.cmd("SET", "k", b"\xff\xf0\x00")
        self.assertEqual(c.cmd("BITPOS", "k", 0), 12)
        self.assertEqual(c.cmd("BITPOS", "k", 1, 2), -1)
        self.assertEqual(c.cmd("BITPOS", "k", 0, 2), 16)
        self.assertEqual(c.cmd("BITPOS", "k", 1, 5, 15, "BIT"), 5)
        self.assertEqual(c.cmd("BITPOS", "k", 0, 5, 11, "bit"), -1)
        c.cmd("SET", "ff", b"\xff\xff")
        # All ones: without an end the string continues with zeros; with an
        # explicit end there is no zero in the range.
        self.assertEqual(c.cmd("BITPOS", "ff", 0), 16)
        self.assertEqual(c.cmd("BITPOS", "ff", 0, 0), 16)
        self.assertEqual(c.cmd("BITPOS", "ff", 0, 0, -1), -1)
        self.assertEqual(c.cmd("BITPOS", "ff", 0, 3, -1, "BIT"), -1)
        self.assertErr(c.cmd("BITPOS", "ff", 0, 3, "BIT"), NOT_INT)
        self.assertEqual(c.cmd("BITPOS", "nokey", 0), 0)
        self.assertEqual(c.cmd("BITPOS", "nokey", 1), -1)
        self.assertEqual(c.cmd("BITPOS", "nokey", 1, "a"), -1)
        c.cmd("SET", "empty", "")
        self.assertEqual(c.cmd("BITPOS", "empty", 0), -1)
        self.assertErr(c.cmd("BITPOS", "k", 2),
                       "ERR The bit argument must be 1 or 0.")
        self.assertErr(c.cmd("BITPOS", "nokey", 2),
                       "ERR The bit argument must be 1 or 0.")
        self.assertErr(c.cmd("BITPOS", "k", 1, 0, 1, "foo"), SYNTAX)
        self.assertErr(c.cmd("BITPOS", "k", 1, 0, 1, 2, 3), SYNTAX)
        self.assertErr(c.cmd("BITPOS", "k", 1, "a"), NOT_INT)

    def test_bitop(self):
        c = self.c
        c.cmd("SET", "a", b"\x0f\xff")
        c.cmd("SET", "b", b"\xf0")
        self.assertEqual(c.cmd("BITOP", "AND", "d", "a", "b"), 2)
        self.assertEqual(c.cmd("GET", "d"), b"\x00\x00")
        self.assertEqual(c.cmd("BITOP", "or", "d", "a", "b", "nokey"), 2)
        self.assertEqual(c.cmd("GET", "d"), b"\xff\xff")
        self.assertEqual(c.cmd("BITOP", "XOR", "d", "a", "b"), 2)
        self.assertEqual(c.cmd("GET", "d"), b"\xff\xff")
        self.assertEqual(c.cmd("BITOP", "NOT", "d", "a"), 2)
        self.assertEqual(c.cmd("GET", "d"), b"\xf0\x00")
        # Replacing drops the destination's expiry; an empty result deletes.
        c.cmd("EXPIRE", "d", 100)
        self.assertEqual(c.cmd("BITOP", "OR", "d", "b"), 1)
        self.assertEqual(c.cmd("TTL", "d"), -1)
        self.assertEqual(c.cmd("BITOP", "AND", "d", "nokey"), 0)
        self.assertEqual(c.cmd("EXISTS", "d"), 0)
        self.assertErr(c.cmd("BITOP", "NAND", "d", "a"), SYNTAX)
        self.assertErr(c.cmd("BITOP", "NOT", "d", "a", "b"),
                       "ERR BITOP NOT must be called with a single source "
                       "key.")
        self.assertErr(c.cmd("BITOP", "AND", "d"),
                       "ERR wrong number of arguments for 'bitop' command")

    def test_bitfield(self):
        c = self.c
        self.assertEqual(c.cmd("BITFIELD", "bf", "SET", "i8", 0, 100, "GET",
                               "i8", 0, "INCRBY", "i8", 0, 100),
                         [0, 100, -56])
        self.assertEqual(c.cmd("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY",
                               "i8", 0, 100, "INCRBY", "i8", 0, -300),
                         [44, -128])
        self.assertEqual(c.cmd("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY",
                               "i8", 0, -1, "GET", "i8", 0), [None, -128])
        self.assertEqual(c.cmd("BITFIELD", "bf", "SET", "u8", "#1", 255, "GET",
                               "u4", 8, "GET", "i4", 8), [0, 15, -1])
        self.assertEqual(c.cmd("BITFIELD", "bf", "INCRBY", "u2", 100, 5,
                               "OVERFLOW", "SAT", "INCRBY", "u2", 100, 5),
                         [1, 3])
        self.assertEqual(c.cmd("BITFIELD", "w", "SET", "i64", 0, -1, "GET",
                               "u63", 0, "INCRBY", "i64", 0, 1),
                         [0, 2 ** 63 - 1, 0])
        self.assertEqual(c.cmd("BITFIELD_RO", "bf", "GET", "u8", 0), [128])
        self.assertEqual(c.cmd("BITFIELD_RO", "nokey", "GET", "u8", 0), [0])
        self.assertEqual(c.cmd("BITFIELD", "nokey", "GET", "u8", 0), [0])
        self.assertEqual(c.cmd("EXISTS", "nokey"), 0)
        self.assertEqual(c.cmd("BITFIELD", "bf"), [])
        # A write that fails on OVERFLOW FAIL still creates the key, grown
        # to the field, as in Redis.
        self.assertEqual(c.cmd("BITFIELD", "new", "OVERFLOW", "FAIL", "SET",
                               "u2", 0, 10), [None])
        self.assertEqual(c.cmd("GET", "new"), b"\x00")

    def test_bitfield_errors(self):
        c = self.c
        for t in ("u64", "i65", "i0", "x8", "u", ""):
            self.assertErr(c.cmd("BITFIELD", "k", "GET", t, 0), TYPE_ERR)
        for off in ("-1", "#-1", "#", "#a", "4294967296", "#536870912"):
            self.assertErr(c.cmd("BITFIELD", "k", "GET", "u8", off),
                           OFFSET_ERR)
        self.assertErr(c.cmd("BITFIELD", "k", "OVERFLOW", "bad"),
                       "ERR Invalid OVERFLOW type specified")
        self.assertErr(c.cmd("BITFIELD", "k", "foo"), SYNTAX)
        self.assertErr(c.cmd("BITFIELD", "k", "GET", "u8"), SYNTAX)
        self.assertErr(c.cmd("BITFIELD", "k", "SET", "u8", 0, "x"), NOT_INT)
        self.assertErr(c.cmd("BITFIELD_RO", "k", "SET", "u8", 0, 1),
                       "ERR BITFIELD_RO only supports the GET subcommand")
        self.assertErr(c.cmd("BITFIELD_RO", "k", "GET", "u8", 0, "INCRBY",
                             "u8", 0, 1),
                       "ERR BITFIELD_RO only supports the GET subcommand")
        self.assertEqual(c.cmd("EXISTS", "k"), 0)

    def test_in_multi(self):
        c = self.c
        self.assertEqual(c.cmd("MULTI"), "OK")
        for cmd in (("SETBIT", "m", 1, 1), ("BITFIELD", "m", "INCRBY", "u8",
                                             8, 7),
                    ("BITOP", "NOT", "n", "m"), ("BITCOUNT", "n")):
            self.assertEqual(c.cmd(*cmd), "QUEUED")
        self.assertEqual(c.cmd("EXEC"), [0, [7], 2, 12])
        self.assertEqual(c.cmd("GET", "n"), b"\xbf\xf8")


BITMAP_SCRIPT = """
set k foobar
bitcount k 0 -1 bit
bitcount k 7 7 bit
bitcount k 8 15 bit
bitpos k 1 7 15 bit
bitpos k 0 7 15 bit
bitpos k 1 100
bitpos k 0 100
bitpos k 1 -1 -1 bit
bitpos k 0 3 5 bit
bitpos k 0 0 -1 bit
setbit b 100 1
bitpos b 1 1
bitpos b 0 12
bitpos b 1 -1
setbit b 8388607 1
strlen b
bitcount b
bitpos b 1 2
bitpos b 1 1 -1 bit
bitfield bf set u8 #1 255 get u8 8 get u4 8 get i4 8 incrby u2 100 1
bitfield bf overflow wrap incrby u2 100 5 overflow sat incrby u2 100 5 overflow fail incrby u2 100 5
get bf
bitfield bf get i64 0 get u63 1 get i1 3 get u1 3
bitfield bf set i64 0 9223372036854775807 incrby i64 0 1 overflow sat incrby i64 0 1 overflow fail incrby i64 0 1
bitfield bf set i64 0 -9223372036854775808 incrby i64 0 -1 overflow sat incrby i64 0 -1 set i64 0 -9223372036854775808 overflow fail incrby i64 0 -1
bitfield bf set u8 0 -1 overflow sat set u8 8 -1 overflow fail set u8 16 300 set u8 24 255 set i8 32 -200 overflow sat set i8 40 200
get bf
bitfield bf set u63 3 -1 incrby u63 3 1 overflow sat incrby u63 3 -9223372036854775808
bitfield bf set i5 100 14 incrby i5 100 3 incrby i5 100 -40 overflow sat incrby i5 100 -40
bitfield_ro bf get u8 0 get i16 #3
bitfield bf incrby u8 #1000 1
strlen bf
bitfield bf get u8 #536870911
bitfield bf get i64 4294967295
"""


class BitmapDifferentialTest(PeerTestCase):
    def test_script(self):
        self.both_script(BITMAP_SCRIPT.splitlines())

    def test_saturation_at_the_int64_edges(self):
        # Redis's overflow check wraps for INT64_MIN: SET of it into a
        # narrow signed field saturates to the field's max, not its min.
        for t in ["i1", "i8", "i63", "i64", "u1", "u63"]:
            for v in ["-9223372036854775808", "9223372036854775807", "-1"]:
                for mode in ["SAT", "WRAP", "FAIL"]:
                    self.both("BITFIELD", "e", "OVERFLOW", mode, "SET", t,
                              "3", v)
                    self.both("BITFIELD", "e", "OVERFLOW", mode, "INCRBY", t,
                              "3", v)
                    self.both("GET", "e")

    def test_random_stream(self):
        seed = int(os.environ.get("DAXKV_IT_SEED", random.randrange(1 << 30)))
        rng = random.Random(seed)
        keys = ["a", "b", "c"]
        types = ["u1", "u7", "u8", "u13", "u63", "i1", "i8", "i17", "i64"]

        def num():
            return str(rng.choice([0, 1, -1, 7, 100, -100, 255, 2 ** 62,
                                   -2 ** 63, 2 ** 63 - 1,
                                   rng.randrange(-2 ** 40, 2 ** 40)]))

        def offset():
            if rng.random() < 0.2:
                return "#%d" % rng.randrange(0, 40)
            return str(rng.randrange(0, 300))

        def idx():
            return str(rng.randrange(-40, 40))

        for _ in range(600):
            k = rng.choice(keys)
            r = rng.random()
            if r < 0.2:
                cmd = ["SETBIT", k, str(rng.randrange(0, 400)),
                       str(rng.randrange(0, 2))]
            elif r < 0.3:
                cmd = ["GETBIT", k, str(rng.randrange(0, 450))]
            elif r < 0.45:
                cmd = ["BITCOUNT", k, idx(), idx()] + rng.choice(
                    [[], ["BIT"], ["BYTE"]])
            elif r < 0.65:
                cmd = ["BITPOS", k, str(rng.randrange(0, 2))]
                cmd += [idx(), idx(), rng.choice(["BIT", "BYTE"])][
                    :rng.randrange(0, 4)]
            elif r < 0.72:
                op = rng.choice(["AND", "OR", "XOR", "NOT"])
                srcs = [rng.choice(keys)] if op == "NOT" else rng.sample(
                    keys, rng.randrange(1, 4))
                cmd = ["BITOP", op, rng.choice(keys)] + srcs
            elif r < 0.95:
                cmd = ["BITFIELD", k]
                for _ in range(rng.randrange(1, 5)):
                    sub = rng.choice(["GET", "SET", "INCRBY", "OVERFLOW"])
                    if sub == "OVERFLOW":
                        cmd += [sub, rng.choice(["WRAP", "SAT", "FAIL"])]
                    elif sub == "GET":
                        cmd += [sub, rng.choice(types), offset()]
                    else:
                        cmd += [sub, rng.choice(types), offset(), num()]
            else:
                cmd = ["GET", k]
            mine, ref = self.c.cmd(*cmd), self.ref.cmd(*cmd)
            self.assertEqual(mine, ref, "seed %d: %r" % (seed, cmd))
            if os.environ.get("DAXKV_IT_TRACE"):
                for kk in keys:
                    a, b = self.c.cmd("GET", kk), self.ref.cmd("GET", kk)
                    if a != b:
                        self.fail("after %r: %r differs: %r vs %r" % (cmd, kk, a, b))
        for k in keys:
            self.both("GET", k)
