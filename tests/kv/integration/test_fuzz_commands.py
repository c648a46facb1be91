"""The differential command fuzzer (cmdfuzz.py) as part of the suite: one
seeded stream of generated and mutated commands per command family (hash,
list, set, sorted set, stream, geo, generic keyspace) and one mixing them
all (over RESP2, and again over RESP3), each replayed on the server under test and a
reference redis-server 7.0 and compared reply by reply (errors included),
with whole-keyspace comparisons along the way.

The seed is printed; DAXKV_IT_SEED=S replays a stream and
DAXKV_IT_FUZZ_COMMANDS=N runs N commands per test (default 8000: the ten
tests take about 25 s on a /dev/shm pool and 50 s on a file pool of a
loaded 2-core machine). For long hunts over many seeds run cmdfuzz.py
directly."""

import os
import random

from cmdfuzz import Divergence, Fuzzer, GRAMMARS
from differential import PeerTestCase
from harness import is_daxkv

COMMANDS = int(os.environ.get("DAXKV_IT_FUZZ_COMMANDS", "8000"))


class CommandFuzzTest(PeerTestCase):
    def fuzz(self, families, resp3=False, pipeline=0):
        seed = int(os.environ.get("DAXKV_IT_SEED", random.randrange(1 << 30)))
        print("%s seed %d" % (self.id(), seed))
        mine, ref, admin = self.c, self.ref, None
        if resp3:
            mine, ref = self.server.client(), self.peer.client()
            self.addCleanup(mine.close)
            self.addCleanup(ref.close)
            for c in (mine, ref):
                self.assertIsInstance(c.cmd("HELLO", "3"), dict)
            admin = (self.c, self.ref)
        f = Fuzzer(mine, ref, random.Random(seed), families, admin=admin,
                   pipeline=pipeline)
        try:
            f.run(COMMANDS)
        except Divergence as e:
            self.fail("seed %d, command %d: %s\n%s"
                      % (seed, f.commands, e, f.context()))

    def test_fuzz_hash(self):
        self.fuzz(["hash"])

    def test_fuzz_list(self):
        self.fuzz(["list"])

    def test_fuzz_set(self):
        self.fuzz(["set"])

    def test_fuzz_zset(self):
        self.fuzz(["zset"])

    def test_fuzz_stream(self):
        self.fuzz(["stream"])

    def test_fuzz_geo(self):
        self.fuzz(["geo"])

    def test_fuzz_generic(self):
        self.fuzz(["generic"])

    def test_fuzz_mixed(self):
        self.fuzz(sorted(GRAMMARS))

    def test_fuzz_pipelined(self):
        """Hash, list, set and sorted-set commands mixed with keyspace ones,
        sent in pipelines of 16: daxkv runs each stretch of collection
        writes as one Txn (kv/write_run.h), with its errors and the reads
        and keyspace commands between them replying as one by one."""
        self.fuzz(["hash", "list", "set", "zset", "generic"], pipeline=16)
        if is_daxkv():
            stats = self.c.cmd("INFO", "stats").decode()
            runs = [int(line.split(":")[1]) for line in stats.splitlines()
                    if line.startswith("daxkv_write_runs:")]
            self.assertEqual(len(runs), 1)
            self.assertGreater(runs[0], 0)

    def test_fuzz_mixed_resp3(self):
        """The same over RESP3 (maps, sets, doubles, nested pairs)."""
        self.fuzz(sorted(GRAMMARS), resp3=True)
