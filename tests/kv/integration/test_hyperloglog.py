"""HyperLogLog: PFADD, PFCOUNT (one key and unions), PFMERGE, PFDEBUG and
hll-sparse-max-bytes, in Redis's exact encoding: replies and errors, then
values moved between the server under test and a reference redis-server
(raw bytes with GET/SET, both ways) with identical PFCOUNT, and a random
stream whose values must stay byte for byte identical on both
(differential.py)."""

import random

from differential import PeerTestCase
from harness import ServerTestCase

NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."
CORRUPT = "INVALIDOBJ Corrupted HLL object detected"
EMPTY = b"HYLL\x01" + b"\x00" * 10 + b"\x80\x7f\xff"


class HyperLogLogTest(ServerTestCase):
    def test_pfadd_pfcount(self):
        c = self.c
        self.assertEqual(c.cmd("PFADD", "h"), 1)  # created
        self.assertEqual(c.cmd("PFADD", "h"), 0)
        self.assertEqual(c.cmd("GET", "h"), EMPTY)
        self.assertEqual(c.cmd("PFCOUNT", "h"), 0)
        self.assertEqual(c.cmd("PFADD", "h", "a", "b", "c"), 1)
        self.assertEqual(c.cmd("PFADD", "h", "a", "b"), 0)
        self.assertEqual(c.cmd("PFCOUNT", "h"), 3)
        self.assertEqual(c.cmd("PFCOUNT", "nokey"), 0)
        self.assertEqual(c.cmd("PFCOUNT", "nokey", "nokey2"), 0)
        self.assertEqual(c.cmd("PFADD", "h2", "c", "d"), 1)
        self.assertEqual(c.cmd("PFCOUNT", "h", "h2", "nokey"), 4)
        self.assertEqual(c.cmd("PFMERGE", "m", "h", "h2"), "OK")
        self.assertEqual(c.cmd("PFCOUNT", "m"), 4)
        self.assertEqual(c.cmd("PFMERGE", "e"), "OK")
        self.assertEqual(c.cmd("PFCOUNT", "e"), 0)

    def test_accuracy_across_encodings(self):
        c = self.c
        for i in range(0, 20000, 500):
            c.cmd("PFADD", "big", *["el%d" % j for j in range(i, i + 500)])
        n = c.cmd("PFCOUNT", "big")
        self.assertLess(abs(n - 20000), 20000 * 0.02)
        self.assertEqual(len(c.cmd("GET", "big")), 12304)  # dense

    def test_errors(self):
        c = self.c
        c.cmd("SET", "s", "not an hll")
        for cmd in (("PFADD", "s", "a"), ("PFCOUNT", "s"),
                    ("PFCOUNT", "s", "nokey"), ("PFMERGE", "s"),
                    ("PFMERGE", "d", "s")):
            self.assertErr(c.cmd(*cmd), NOT_HLL)
        self.assertEqual(c.cmd("EXISTS", "d"), 0)
        # A dense header with the wrong size, an unknown encoding.
        c.cmd("SET", "bad", b"HYLL\x00" + b"\x00" * 11 + b"\x7f\xff")
        self.assertErr(c.cmd("PFCOUNT", "bad"), NOT_HLL)
        c.cmd("SET", "bad", b"HYLL\x02" + b"\x00" * 11 + b"\x7f\xff")
        self.assertErr(c.cmd("PFADD", "bad", "x"), NOT_HLL)
        # Sparse runs that do not cover 16384 registers.
        c.cmd("SET", "short", b"HYLL\x01" + b"\x00" * 10 + b"\x80\x7f\xfe")
        self.assertErr(c.cmd("PFCOUNT", "short"), CORRUPT)
        self.assertErr(c.cmd("PFCOUNT", "short", "nokey"), CORRUPT)
        self.assertErr(c.cmd("PFMERGE", "d", "short"), CORRUPT)
        c.cmd("SET", "long", b"HYLL\x01" + b"\x00" * 10 + b"\x80" +
              b"\x7f\xff" * 2)
        self.assertErr(c.cmd("PFCOUNT", "long"), CORRUPT)
        for cmd in ("PFADD", "PFCOUNT", "PFMERGE"):
            self.assertErr(c.cmd(cmd), "ERR wrong number of arguments for "
                           "'%s' command" % cmd.lower())

    def test_ttl_kept_and_cache_write_marks_watchers(self):
        c = self.c
        c.cmd("PFADD", "h", "a")
        c.cmd("EXPIRE", "h", 100)
        c.cmd("PFADD", "h", "b")
        self.assertGreater(c.cmd("TTL", "h"), 90)
        # PFCOUNT stores a stale cache back (Redis signals it as a write);
        # with the cache valid it writes nothing.
        self.assertIsNone(self.exec_after_other_writes(
            "h", ("PFCOUNT", "h")))
        self.assertIsNotNone(self.exec_after_other_writes(
            "h", ("PFCOUNT", "h")))
        self.assertGreater(c.cmd("TTL", "h"), 90)

    def test_in_multi(self):
        c = self.c
        self.assertEqual(c.cmd("MULTI"), "OK")
        for cmd in (("PFADD", "a", "x", "y"), ("PFADD", "b", "y", "z"),
                    ("PFMERGE", "u", "a", "b"), ("PFCOUNT", "u")):
            self.assertEqual(c.cmd(*cmd), "QUEUED")
        self.assertEqual(c.cmd("EXEC"), [1, 1, "OK", 3])


PFDEBUG_SCRIPT = """
pfadd dbg a b c
pfdebug encoding dbg
pfdebug decode dbg
get dbg
pfdebug getreg dbg
pfdebug todense dbg
pfdebug todense dbg
pfdebug encoding dbg
pfdebug decode dbg
get dbg
pfdebug foo dbg
pfdebug FOO nokey
pfdebug getreg nokey
set s x
pfdebug getreg s
pfdebug getreg
config set hll-sparse-max-bytes x
config set hll-sparse-max-bytes -1
config set hll-sparse-max-bytes 100
config get hll-sparse-max-bytes
pfadd small a b c d e f g h i j k l m n o p q r s t u v w x y z
pfdebug encoding small
get small
config set hll-sparse-max-bytes 1kb
config get hll-sparse-max-bytes
"""


class HyperLogLogDifferentialTest(PeerTestCase):
    def test_pfdebug_and_sparse_max_bytes(self):
        try:
            self.both_script(PFDEBUG_SCRIPT.splitlines())
        finally:
            self.both("CONFIG", "SET", "hll-sparse-max-bytes", "3000")

    def fill(self, client, key, n, rng):
        for i in range(0, n, 200):
            client.cmd("PFADD", key, *["v%d" % rng.randrange(10 ** 9)
                                       for _ in range(min(200, n - i))])

    def test_values_move_between_servers(self):
        rng = random.Random(7)
        for n in (3, 150, 900, 6000):
            # Built by redis-server, counted here...
            self.fill(self.ref, "r%d" % n, n, rng)
            raw = self.ref.cmd("GET", "r%d" % n)
            self.assertEqual(self.c.cmd("SET", "r%d" % n, raw), "OK")
            self.both("PFCOUNT", "r%d" % n)
            # ... and built here, counted by redis-server.
            self.fill(self.c, "m%d" % n, n, rng)
            raw = self.c.cmd("GET", "m%d" % n)
            self.assertEqual(self.ref.cmd("SET", "m%d" % n, raw), "OK")
            self.both("PFCOUNT", "m%d" % n)
            self.both("PFADD", "r%d" % n, "extra")
            self.both("GET", "r%d" % n)
        self.both("PFCOUNT", "r3", "m150", "r900", "m6000")
        self.both("PFMERGE", "u", "r3", "m150", "r900")
        self.both("GET", "u")
        self.both("PFMERGE", "u", "m6000")
        self.both("GET", "u")
        self.both("PFCOUNT", "u")

    def test_random_stream_keeps_identical_bytes(self):
        seed = random.randrange(1 << 30)
        rng = random.Random(seed)
        keys = ["a", "b", "c", "d"]
        for step in range(400):
            k = rng.choice(keys)
            r = rng.random()
            if r < 0.6:
                n = rng.choice([1, 2, 5, 40, 300])
                cmd = ["PFADD", k] + ["e%d" % rng.randrange(5000 * (step + 1))
                                      for _ in range(n)]
            elif r < 0.8:
                cmd = ["PFCOUNT"] + rng.sample(keys, rng.randrange(1, 3))
            elif r < 0.9:
                cmd = ["PFMERGE", k] + rng.sample(keys, rng.randrange(0, 3))
            else:
                cmd = ["GET", k]
            mine, ref = self.c.cmd(*cmd), self.ref.cmd(*cmd)
            self.assertEqual(mine, ref, "seed %d step %d: %r"
                             % (seed, step, cmd[:4]))
        for k in keys:
            self.both("GET", k)
