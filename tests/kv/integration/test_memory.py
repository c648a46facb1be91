"""MEMORY side by side with redis-server (differential.py): the syntax,
errors, HELP and an empty instance's DOCTOR are compared byte for byte;
the figures, which count different things (Redis's RAM; daxkv's DRAM plus
log bytes), are checked for what a user relies on: USAGE grows with the
value and with a collection's elements, SAMPLES 0 measures every element,
STATS counts the keys DBSIZE counts."""

from differential import PeerTestCase
from harness import is_daxkv


class MemoryDifferentialTest(PeerTestCase):
    def test_syntax_and_errors(self):
        self.both_script([
            "SET s hello", "RPUSH l a b c", "MEMORY USAGE nokey",
            "MEMORY USAGE s samples x", "MEMORY USAGE s SAMPLES -1",
            "MEMORY USAGE s bogus", "MEMORY USAGE s SAMPLES",
            "MEMORY USAGE s SAMPLES 1 SAMPLES", "MEMORY USAGE", "MEMORY",
            "MEMORY bogus", "MEMORY purge", "MEMORY PURGE x", "MEMORY STATS x",
            "MEMORY DOCTOR x", "MEMORY MALLOC-STATS x", "MEMORY HELP",
            "MEMORY help x", "MEMORY DOCTOR",
        ])
        for key in ("s", "l"):
            for args in ((), ("SAMPLES", 0), ("samples", 3, "SAMPLES", 2)):
                mine = self.c.cmd("MEMORY", "USAGE", key, *args)
                ref = self.ref.cmd("MEMORY", "USAGE", key, *args)
                self.assertIsInstance(mine, int)
                self.assertIsInstance(ref, int)
        self.assertIsInstance(self.c.cmd("MEMORY", "MALLOC-STATS"), bytes)

    def test_usage_follows_the_data(self):
        c = self.c
        c.cmd("SET", "small", "x")
        c.cmd("SET", "big", "x" * 10000)
        self.assertGreater(c.cmd("MEMORY", "USAGE", "big"),
                           c.cmd("MEMORY", "USAGE", "small") + 9000)
        c.cmd("RPUSH", "few", *["e%04d" % i for i in range(10)])
        c.cmd("RPUSH", "many", *["e%04d" % i for i in range(1000)])
        few = c.cmd("MEMORY", "USAGE", "few", "SAMPLES", 0)
        many = c.cmd("MEMORY", "USAGE", "many", "SAMPLES", 0)
        self.assertGreater(many, few * 20)
        # Uniform elements: a sample of 5 extrapolates to the full count.
        sampled = c.cmd("MEMORY", "USAGE", "many")
        self.assertLess(abs(sampled - many), many // 10)
        c.cmd("HSET", "h", *[x for i in range(200)
                             for x in ("f%d" % i, "v" * 50)])
        c.cmd("ZADD", "z", *[x for i in range(200) for x in (i, "m%d" % i)])
        c.cmd("SADD", "st", *range(200))
        c.cmd("XADD", "x", "1-1", "f", "v")
        for key in ("h", "z", "st", "x"):
            self.assertGreater(c.cmd("MEMORY", "USAGE", key, "SAMPLES", 0),
                               c.cmd("MEMORY", "USAGE", "small"), key)

    def test_stats_counts_the_keys(self):
        self.c.cmd("MSET", "a", 1, "b", 2, "c", 3)
        self.c.cmd("HSET", "h", "f", "v")
        stats = self.c.cmd("MEMORY", "STATS")
        self.assertIsInstance(stats, list)
        fields = dict(zip(stats[::2], stats[1::2]))
        self.assertEqual(fields[b"keys.count"], self.c.cmd("DBSIZE"))
        self.assertGreater(fields[b"dataset.bytes"], 0)
        self.assertIsInstance(fields[b"db.0"], list)
        if is_daxkv():
            self.assertGreater(fields[b"daxkv.pool.live.bytes"], 0)
            self.assertEqual(fields[b"daxkv.elements"], 1)


class MemoryResp3Test(PeerTestCase):
    def setUp(self):
        super().setUp()
        self.c.cmd("HELLO", "3")
        self.ref.cmd("HELLO", "3")

    def test_types(self):
        self.both_script(["MEMORY DOCTOR", "MEMORY USAGE nokey", "MEMORY HELP"])
        for conn in (self.c, self.ref):
            self.assertIsInstance(conn.cmd("MEMORY", "STATS"), dict)
