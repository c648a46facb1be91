"""Sorted-set commands against redis-server: ZADD's options and their
conflicts, score formatting (+-inf, %.17g), ZRANGE in every form (rank,
BYSCORE, BYLEX, REV, LIMIT, WITHSCORES) and the old range commands, the
removals, pops, RESP3 doubles and pairs, error texts, and a random
differential stream."""

import random
import unittest

from differential import PeerTestCase
from harness import ServerProcess, ServerTestCase

ZSET_CALLS = [
    ("ZADD", "k", "1", "a"), ("ZINCRBY", "k", "1", "a"), ("ZREM", "k", "a"),
    ("ZCARD", "k"), ("ZSCORE", "k", "a"), ("ZMSCORE", "k", "a"),
    ("ZRANK", "k", "a"), ("ZREVRANK", "k", "a"), ("ZPOPMIN", "k"),
    ("ZPOPMAX", "k", "2"), ("ZRANDMEMBER", "k"), ("ZSCAN", "k", "0"),
    ("ZRANGE", "k", "0", "-1"), ("ZRANGESTORE", "d", "k", "0", "-1"),
    ("ZRANGESTORE", "k", "z", "0", "-1"),
    ("ZREVRANGE", "k", "0", "-1"), ("ZRANGEBYSCORE", "k", "-inf", "inf"),
    ("ZREVRANGEBYSCORE", "k", "inf", "-inf"), ("ZRANGEBYLEX", "k", "-", "+"),
    ("ZREVRANGEBYLEX", "k", "+", "-"), ("ZCOUNT", "k", "0", "1"),
    ("ZLEXCOUNT", "k", "-", "+"), ("ZREMRANGEBYRANK", "k", "0", "1"),
    ("ZREMRANGEBYSCORE", "k", "0", "1"), ("ZREMRANGEBYLEX", "k", "-", "+"),
]


class ZsetDifferentialTest(PeerTestCase):
    def test_zadd_options(self):
        self.both_script([
            "ZADD z 1 a 2 b 3 c", "ZADD z 5 a 0 d", "ZADD z CH 5 a 6 b",
            "ZADD z NX 10 a 7 e", "ZADD z XX 11 a 8 f", "ZADD z GT 1 a",
            "ZADD z GT CH 20 a", "ZADD z LT 30 a", "ZADD z LT CH 2 a",
            "ZADD z INCR 5 a", "ZADD z NX INCR 5 a", "ZADD z XX INCR 1 nope",
            "ZADD z GT INCR -100 a", "ZADD nokey XX 1 a", "EXISTS nokey",
            "ZADD nokey XX INCR 1 a", "ZADD z NX XX 1 a", "ZADD z GT LT 1 a",
            "ZADD z GT NX 1 a", "ZADD z INCR 1 a 2 b", "ZADD z 1",
            "ZADD z 1 a 2", "ZADD z x a", "ZADD z nan a", "ZADD z 1 a x b",
            "ZADD z inf big -inf small", "ZADD z INCR -inf big",
            "ZADD z +inf a", "ZINCRBY z 1.5 b", "ZINCRBY z x b",
            "ZINCRBY z inf new", "ZINCRBY z -inf new", "ZINCRBY z 0.1 q",
            "ZINCRBY z 0.2 q", "ZSCORE z q", "ZSCORE z big", "ZSCORE z small",
            "ZSCORE z nope", "ZSCORE nokey a", "ZMSCORE z a nope b",
            "ZMSCORE nokey a", "ZCARD z", "ZCARD nokey",
            "ZRANGE z 0 -1 WITHSCORES",
        ])

    def test_ranks_and_ranges(self):
        self.both_script([
            "ZADD z 1 a 2 b 3 c 4 d 5 e 5 f 6 g",
            "ZRANK z a", "ZRANK z g", "ZRANK z nope", "ZREVRANK z a",
            "ZRANGE z 0 -1", "ZRANGE z 2 4 WITHSCORES", "ZRANGE z -3 -1",
            "ZRANGE z 5 2", "ZRANGE z 0 -1 REV", "ZRANGE z 0 1 REV WITHSCORES",
            "ZRANGE z 2 5 BYSCORE", "ZRANGE z (2 5 BYSCORE WITHSCORES",
            "ZRANGE z 2 (5 BYSCORE", "ZRANGE z -inf +inf BYSCORE LIMIT 1 3",
            "ZRANGE z 5 2 BYSCORE REV", "ZRANGE z +inf -inf BYSCORE REV LIMIT 0 2",
            "ZRANGE z 0 10 BYSCORE LIMIT -1 2", "ZRANGE z 0 10 BYSCORE LIMIT 2 -5",
            "ZRANGE z 0 10 BYSCORE LIMIT 0 0", "ZRANGE nokey 0 -1",
            "ZREVRANGE z 0 2 WITHSCORES", "ZRANGEBYSCORE z 2 4",
            "ZRANGEBYSCORE z (1 (5 WITHSCORES LIMIT 1 2",
            "ZREVRANGEBYSCORE z 4 2", "ZREVRANGEBYSCORE z +inf -inf LIMIT 0 3",
            "ZCOUNT z 2 5", "ZCOUNT z (2 (5", "ZCOUNT z -inf +inf",
            "ZCOUNT nokey 0 1", "ZCOUNT z x 1", "ZCOUNT z ( 1",
            "ZRANGE z 0 -1 LIMIT 0 1", "ZRANGE z 0 -1 BYLEX",
            "ZRANGE z - + BYLEX WITHSCORES", "ZRANGE z 0 -1 FOO",
            "ZRANGE z 0 -1 REV REV", "ZRANGE z 0 -1 BYSCORE BYLEX",
            "ZRANGE z x 1", "ZRANGE z a b BYSCORE", "ZRANGEBYSCORE z 0 1 REV",
            "ZRANGEBYSCORE z 0 1 BYSCORE", "ZREVRANGE z 0 1 REV",
            "ZRANGE z 0 -1 LIMIT 0 -1",
        ])

    def test_lex(self):
        self.both_script([
            "ZADD l 0 a 0 b 0 c 0 d 0 e 0 ee 0 f",
            "ZRANGEBYLEX l - +", "ZRANGEBYLEX l [b [d", "ZRANGEBYLEX l (b (e",
            "ZRANGEBYLEX l [e +", "ZRANGEBYLEX l - (c LIMIT 1 5",
            "ZREVRANGEBYLEX l + -", "ZREVRANGEBYLEX l [d (a",
            "ZRANGE l [b [e BYLEX", "ZRANGE l [e [b BYLEX REV LIMIT 1 2",
            "ZLEXCOUNT l - +", "ZLEXCOUNT l [b (e", "ZLEXCOUNT nokey - +",
            "ZLEXCOUNT l b e", "ZRANGEBYLEX l a +", "ZRANGEBYLEX l - +x",
            "ZREMRANGEBYLEX l [b (d", "ZRANGE l 0 -1", "ZREMRANGEBYLEX l x +",
        ])

    def test_removals_and_pops(self):
        self.both_script([
            "ZADD z 1 a 2 b 3 c 4 d 5 e 6 f 7 g 8 h",
            "ZREM z a nope", "ZREM nokey a", "ZREMRANGEBYRANK z 0 1",
            "ZRANGE z 0 -1", "ZREMRANGEBYRANK z -1 -1", "ZREMRANGEBYSCORE z (4 5",
            "ZRANGE z 0 -1 WITHSCORES", "ZREMRANGEBYSCORE z x 1",
            "ZREMRANGEBYRANK z x 1", "ZPOPMIN z", "ZPOPMAX z",
            "ZPOPMIN z 0", "ZPOPMIN z -1", "ZPOPMIN z x", "ZPOPMIN z 1 2",
            "ZPOPMIN nokey", "ZPOPMIN nokey 2", "ZPOPMAX z 10", "EXISTS z",
            "ZADD s 1 a 2 b 3 c", "ZRANGESTORE d s 0 1", "ZRANGE d 0 -1 WITHSCORES",
            "ZRANGESTORE d s (1 +inf BYSCORE", "ZRANGE d 0 -1",
            "ZRANGESTORE d s 5 6", "EXISTS d", "ZRANGESTORE d nokey 0 -1",
            "ZRANGESTORE d s 0 -1 WITHSCORES", "ZRANGESTORE d s [a [b BYLEX",
            "ZRANGE d 0 -1",
        ])

    def test_score_formatting(self):
        self.both_script([
            "ZADD f 0.1 a 1e20 b -0 c 3.0 d 1.5e-7 e 123456789012345678 g",
            "ZRANGE f 0 -1 WITHSCORES", "ZSCORE f a", "ZSCORE f c",
            "ZINCRBY f 0.2 a", "ZSCAN f 0",
        ])

    def test_errors(self):
        self.both("SET", "k", "str")
        self.both("ZADD", "z", "1", "a")
        for call in ZSET_CALLS:
            self.both(*call)
        for name, arity_args in (("ZADD", ("k", "1")), ("ZINCRBY", ("k", "1")),
                                 ("ZCARD", ()), ("ZSCORE", ("k",)),
                                 ("ZRANGE", ("k", "0")), ("ZCOUNT", ("k", "0")),
                                 ("ZREMRANGEBYRANK", ("k", "0")),
                                 ("ZRANGESTORE", ("d", "k", "0"))):
            self.both(name, *arity_args)
        self.both_script([
            "ZRANDMEMBER z x", "ZRANDMEMBER z 1 WITHSCORE",
            "ZRANDMEMBER z -9223372036854775808", "ZRANDMEMBER nokey",
            "ZRANDMEMBER nokey 2", "ZRANDMEMBER z 0", "ZRANDMEMBER z 5 WITHSCORES",
            "ZSCAN z x", "ZSCAN z 0 COUNT 0", "HSET h f v", "ZADD h 1 a",
        ])

    def test_algebra(self):
        self.both_script([
            "ZADD a 1 x 2 y 3 z", "ZADD b 10 y 20 z 30 w", "SADD s y w v",
            "ZUNION 2 a b", "ZUNION 2 a b WITHSCORES",
            "ZUNION 2 a b WEIGHTS 2 0.5 WITHSCORES",
            "ZUNION 2 a b AGGREGATE MIN WITHSCORES",
            "ZUNION 2 a b AGGREGATE MAX WITHSCORES", "ZUNION 3 a b s WITHSCORES",
            "ZINTER 2 a b WITHSCORES", "ZINTER 2 a s WITHSCORES",
            "ZINTER 2 a nokey", "ZINTER 2 a b WEIGHTS 1 -1 AGGREGATE SUM WITHSCORES",
            "ZDIFF 2 a b WITHSCORES", "ZDIFF 1 a", "ZDIFF 2 nokey a",
            "ZUNIONSTORE d 2 a b", "ZRANGE d 0 -1 WITHSCORES",
            "ZINTERSTORE d 2 a b AGGREGATE MAX", "ZRANGE d 0 -1 WITHSCORES",
            "ZDIFFSTORE d 2 a b", "ZRANGE d 0 -1 WITHSCORES",
            "ZINTERSTORE d 2 a nokey", "EXISTS d", "ZUNIONSTORE a 2 a b",
            "ZRANGE a 0 -1 WITHSCORES", "ZINTERCARD 2 a b",
            "ZINTERCARD 2 a b LIMIT 1", "ZINTERCARD 2 a nokey",
            "ZINTERCARD 0 a", "ZINTERCARD x a", "ZINTERCARD 1 a LIMIT -1",
            "ZINTERCARD 3 a b", "ZUNION 0 a", "ZUNION 3 a b", "ZUNION x a",
            "ZUNION 2 a b WEIGHTS 1", "ZUNION 2 a b WEIGHTS 1 x",
            "ZUNION 2 a b AGGREGATE AVG", "ZUNION 2 a b FOO",
            "ZDIFF 2 a b WEIGHTS 1 2", "ZUNIONSTORE d 2 a b WITHSCORES",
            "ZADD inf inf m", "ZUNION 2 inf inf WEIGHTS 1 -1 WITHSCORES",
            "ZUNION 1 inf WEIGHTS 0 WITHSCORES", "SET str v", "ZUNION 2 a str",
            "ZINTERSTORE d 2 str a", "ZUNION 1 str WEIGHTS x",
        ])

    def test_zmpop(self):
        self.both_script([
            "ZADD a 1 x 2 y 3 z", "ZMPOP 1 a MIN", "ZMPOP 2 nokey a MAX COUNT 5",
            "ZMPOP 1 a MIN", "ZMPOP 1 nokey MIN", "ZMPOP 0 a MIN",
            "ZMPOP 1 a MIDDLE", "ZMPOP 1 a MIN COUNT 0", "ZMPOP 2 a MIN",
            "SET s v", "ZADD b 1 q", "ZMPOP 2 s b MIN", "ZMPOP 2 b s MIN",
        ])

    def test_random_stream(self):
        seed = random.randrange(1 << 30)
        rng = random.Random(seed)
        keys = ["z0", "z1"]
        members = ["a", "b", "c", "d", "e", "f", "g"]
        scores = ["0", "1", "-1", "2.5", "inf", "-inf", "1e3", "(1", "3"]
        for step in range(1500):
            k, m = rng.choice(keys), rng.choice(members)
            s = rng.choice(scores[:7])
            r = rng.random()
            if r < 0.25:
                opts = rng.choice([[], ["NX"], ["XX"], ["GT"], ["LT"], ["CH"],
                                   ["GT", "CH"], ["INCR"]])
                cmd = ["ZADD", k] + opts + [s, m]
            elif r < 0.3:
                cmd = ["ZINCRBY", k, rng.choice(["1", "-2", "0.5"]), m]
            elif r < 0.4:
                cmd = ["ZREM", k, m]
            elif r < 0.5:
                cmd = ["ZRANGE", k, str(rng.randint(-4, 4)),
                       str(rng.randint(-4, 4)), "WITHSCORES"]
            elif r < 0.6:
                lo, hi = rng.choice(scores), rng.choice(scores)
                cmd = ["ZRANGE", k, lo, hi, "BYSCORE"] + rng.choice(
                    [[], ["REV"], ["LIMIT", "1", "2"]]) + ["WITHSCORES"]
            elif r < 0.65:
                cmd = ["ZCOUNT", k, rng.choice(scores), rng.choice(scores)]
            elif r < 0.7:
                cmd = [rng.choice(["ZRANK", "ZREVRANK", "ZSCORE"]), k, m]
            elif r < 0.75:
                cmd = [rng.choice(["ZPOPMIN", "ZPOPMAX"]), k, str(rng.randint(0, 2))]
            elif r < 0.8:
                cmd = ["ZREMRANGEBYSCORE", k, rng.choice(scores), rng.choice(scores)]
            elif r < 0.85:
                cmd = ["ZREMRANGEBYRANK", k, str(rng.randint(-3, 3)),
                       str(rng.randint(-3, 3))]
            elif r < 0.9:
                cmd = ["ZRANGESTORE", rng.choice(keys), k, "0", str(rng.randint(-2, 3))]
            else:
                cmd = [rng.choice(["ZCARD", "TYPE", "EXISTS"]), k]
            mine, ref = self.c.cmd(*cmd), self.ref.cmd(*cmd)
            self.assertEqual(mine, ref, "seed %d step %d: %r" % (seed, step, cmd))
        for k in keys:
            self.both("ZRANGE", k, 0, -1, "WITHSCORES")


    def test_fuzzer_findings(self):
        """Divergences cmdfuzz.py found (issue 14): ZSCAN checks the key
        before its options; ZADD's flag conflicts come before INCR's
        single-pair check and ZINCRBY parses ZADD's flags too; score bounds
        are C strings (a NUL byte ends them); ZRANDMEMBER parses the count
        first; ZINTER/ZUNION aggregate from the smallest input, which
        decides where a NaN weighted score (0 * inf) lands."""
        self.both_script([
            "ZSCAN nokey 0 COUNT abc", "ZSCAN nokey -1 MATCH",
            "ZADD z LT GT INCR XX 1 a 2 b", "ZADD z NX XX INCR 1 a 2 b",
            "ZINCRBY z XX b", "ZINCRBY z NX a", "ZINCRBY z incr a",
            "ZADD z 1 a 2 b", "ZRANDMEMBER z GT 5", "ZRANDMEMBER z x y",
            "ZRANDMEMBER z 9223372036854775807 WITHSCORES",
            "ZADD small 1 a", "ZADD big inf a 1 b 2 c",
            "ZINTER 2 big small WEIGHTS 0 -2 AGGREGATE MAX WITHSCORES",
            "ZINTER 2 big small WEIGHTS 0 -2 AGGREGATE MIN WITHSCORES",
            "ZINTER 2 big small WEIGHTS 0 -2 WITHSCORES",
            "ZADD u1 inf a", "ZADD u2 -inf a 1 b", "ZADD u3 5 a 1 b 2 c",
            "ZUNION 3 u3 u2 u1 WITHSCORES", "ZUNION 3 u1 u2 u3 WITHSCORES",
            "ZUNIONSTORE d 3 u3 u2 u1", "ZRANGE d 0 -1 WITHSCORES",
            # INCR by -0 of a new member replies -0 (the score reads 0).
            "ZINCRBY nz -0 a", "ZADD nz INCR -0 b", "ZINCRBY nz -0 a",
            "ZSCORE nz a", "ZADD nz -0 c", "ZRANGE nz 0 -1 WITHSCORES",
        ])
        # ZSCAN's score text: d2string in a listpack, %.17g in a skiplist.
        scores = ["4503599627370496", "9007199254740992",
                  "4611686018427387904", "-4611686018427387904", "1.5",
                  "inf", "-inf", "3"]
        for key, extra in [("zl", []), ("zs", ["0", "x" * 70])]:
            args = []
            for i, sc in enumerate(scores):
                args += [sc, "m%d" % i]
            self.both("ZADD", key, *(args + extra))
            # A skiplist's ZSCAN order is its dict's: compared as pairs.
            mine, ref = (c.cmd("ZSCAN", key, "0", "COUNT", "1000")
                         for c in (self.c, self.ref))
            self.assertEqual(mine[0], ref[0])
            self.assertEqual(sorted(zip(mine[1][::2], mine[1][1::2])),
                             sorted(zip(ref[1][::2], ref[1][1::2])))
        for bound in ["\x00\xff", "(\x00x", "1\x00abc"]:
            self.both("ZCOUNT", "z", bound, "+inf")
            self.both("ZRANGEBYSCORE", "z", "-inf", bound, "WITHSCORES")
            self.both("ZRANGE", "z", bound, "10", "BYSCORE")


class ZsetResp3Test(PeerTestCase):
    def setUp(self):
        super().setUp()
        self.c.cmd("HELLO", "3")
        self.ref.cmd("HELLO", "3")

    def test_doubles_and_pairs(self):
        self.both_script([
            "ZADD z 1 a 2.5 b inf c", "ZSCORE z b", "ZSCORE z c",
            "ZMSCORE z a nope", "ZINCRBY z 1 a", "ZADD z INCR 1 a",
            "ZRANGE z 0 -1 WITHSCORES", "ZRANGE z 0 -1",
            "ZRANGEBYSCORE z -inf +inf WITHSCORES", "ZPOPMIN z",
            "ZPOPMIN z 1", "ZPOPMAX nokey", "ZRANDMEMBER nokey 2 WITHSCORES",
            "ZADD one 7 m", "ZRANDMEMBER one 1 WITHSCORES", "ZSCAN one 0",
            "ZUNION 1 one WITHSCORES", "ZMPOP 1 one MAX",
        ])


class ZsetContractTest(ServerTestCase):
    def test_zscan_and_random(self):
        c = self.c
        n = 500
        c.cmd("ZADD", "z", *[x for i in range(n) for x in (i, "m%d" % i)])
        seen, cursor = {}, b"0"
        while True:
            cursor, items = c.cmd("ZSCAN", "z", cursor, "COUNT", 40)
            for m, s in zip(items[::2], items[1::2]):
                seen[m] = s
            if cursor == b"0":
                break
        self.assertEqual(len(seen), n)
        self.assertEqual(seen[b"m42"], b"42")
        got = c.cmd("ZRANDMEMBER", "z", 10, "WITHSCORES")
        self.assertEqual(len(got), 20)
        for m, s in zip(got[::2], got[1::2]):
            self.assertEqual(s, m[1:])


class ZsetRestartTest(unittest.TestCase):
    def setUp(self):
        self.server = ServerProcess(persistent=True).start()

    def tearDown(self):
        self.server.cleanup()

    def test_kill9_keeps_acknowledged_zset_writes(self):
        with self.server.client() as c:
            c.pipeline([("ZADD", "z", i, "m%d" % i) for i in range(1000)])
            c.cmd("ZINCRBY", "z", 0.5, "m7")
            c.cmd("ZPOPMIN", "z", 3)
            c.cmd("ZREMRANGEBYSCORE", "z", 100, "(200")
        self.server.kill9()
        self.server.start()
        with self.server.client() as c:
            self.assertEqual(c.cmd("ZCARD", "z"), 897)
            self.assertEqual(c.cmd("ZSCORE", "z", "m7"), b"7.5")
            self.assertEqual(c.cmd("ZRANGE", "z", 0, 0), [b"m3"])
            self.assertIsNone(c.cmd("ZSCORE", "z", "m150"))


if __name__ == "__main__":
    unittest.main()
