"""List commands against redis-server: replies, error texts (arity,
WRONGTYPE, counts, LPOS/LMPOP arguments, LSET ranges), RESP3 null
shapes, LMOVE between keys, and a random differential stream."""

import random
import unittest

from differential import PeerTestCase
from harness import ServerProcess

LIST_CALLS = [
    ("LPUSH", "k", "a"), ("RPUSH", "k", "a"), ("LPUSHX", "k", "a"),
    ("RPUSHX", "k", "a"), ("LPOP", "k"), ("RPOP", "k", "2"), ("LLEN", "k"),
    ("LINDEX", "k", "0"), ("LRANGE", "k", "0", "-1"), ("LSET", "k", "0", "x"),
    ("LINSERT", "k", "BEFORE", "a", "b"), ("LREM", "k", "0", "a"),
    ("LTRIM", "k", "0", "1"), ("LPOS", "k", "a"), ("LMOVE", "k", "l", "LEFT",
                                                     "RIGHT"),
    ("LMOVE", "l", "k", "LEFT", "RIGHT"), ("RPOPLPUSH", "k", "l"),
    ("RPOPLPUSH", "l", "k"), ("LMPOP", "2", "l", "k", "LEFT"),
]

ARITY = [
    ("LPUSH", "k"), ("RPUSH", "k"), ("LPUSHX", "k"), ("RPUSHX", "k"),
    ("LPOP",), ("LPOP", "k", "1", "2"), ("RPOP",), ("LLEN",), ("LINDEX", "k"),
    ("LRANGE", "k", "0"), ("LSET", "k", "0"), ("LINSERT", "k", "BEFORE", "a"),
    ("LREM", "k", "0"), ("LTRIM", "k", "0"), ("LPOS", "k"),
    ("LMOVE", "a", "b", "LEFT"), ("RPOPLPUSH", "a"), ("LMPOP", "1", "k"),
]


class ListDifferentialTest(PeerTestCase):
    def test_basic_commands(self):
        self.both_script([
            "RPUSH l a b c", "LPUSH l z y", "LRANGE l 0 -1", "LLEN l",
            "LLEN nokey", "LPUSHX nokey a", "RPUSHX nokey a", "EXISTS nokey",
            "LPUSHX l x", "RPUSHX l w v", "LRANGE l 0 -1", "LINDEX l 0",
            "LINDEX l -1", "LINDEX l 100", "LINDEX l -100", "LINDEX nokey 0",
            "LRANGE l 2 4", "LRANGE l -3 -1", "LRANGE l -100 100",
            "LRANGE l 5 2", "LRANGE l 100 200", "LRANGE nokey 0 -1",
            "LSET l 0 first", "LSET l -1 last", "LSET l 100 x",
            "LSET nokey 0 x", "LRANGE l 0 -1", "LPOP l", "RPOP l",
            "LPOP l 2", "RPOP l 0", "LPOP nokey", "LPOP nokey 2",
            "RPOP l 100", "EXISTS l", "LPOP l",
        ])

    def test_insert_rem_trim(self):
        self.both_script([
            "RPUSH l a b a c a d", "LINSERT l BEFORE a x",
            "LINSERT l AFTER a y", "LINSERT l AFTER zz q",
            "LINSERT nokey BEFORE a b", "LINSERT l MIDDLE a b",
            "LRANGE l 0 -1", "LREM l 1 a", "LRANGE l 0 -1", "LREM l -1 a",
            "LRANGE l 0 -1", "LREM l 0 a", "LREM l 0 zz", "LREM nokey 0 a",
            "LRANGE l 0 -1", "LTRIM l 1 -2", "LRANGE l 0 -1",
            "LTRIM l -1 -1", "LRANGE l 0 -1", "LTRIM l 5 1", "EXISTS l",
            "LTRIM nokey 0 1", "RPUSH m 1 2 3 4 5", "LTRIM m -100 100",
            "LRANGE m 0 -1", "LREM m x 1", "LTRIM m a b",
        ])

    def test_lpos(self):
        self.both_script([
            "RPUSH l a b c a b c a", "LPOS l a", "LPOS l c", "LPOS l zz",
            "LPOS nokey a", "LPOS nokey a COUNT 0", "LPOS l a RANK 2",
            "LPOS l a RANK -1", "LPOS l a RANK -2", "LPOS l a RANK 10",
            "LPOS l a COUNT 0", "LPOS l a COUNT 2", "LPOS l a RANK -1 COUNT 0",
            "LPOS l a MAXLEN 1", "LPOS l c MAXLEN 2", "LPOS l c MAXLEN 3",
            "LPOS l a RANK 2 MAXLEN 4 COUNT 0", "LPOS l a RANK -1 MAXLEN 2",
            "LPOS l a RANK 0", "LPOS l a RANK x",
            "LPOS l a RANK -9223372036854775808", "LPOS l a COUNT -1",
            "LPOS l a COUNT x", "LPOS l a MAXLEN -1", "LPOS l a FOO 1",
            "LPOS l a RANK",
        ])

    def test_moves(self):
        self.both_script([
            "RPUSH a 1 2 3", "LMOVE a b LEFT RIGHT", "LMOVE a b RIGHT LEFT",
            "LRANGE a 0 -1", "LRANGE b 0 -1", "LMOVE a a LEFT RIGHT",
            "LRANGE a 0 -1", "LMOVE a b UP LEFT", "RPOPLPUSH a b",
            "EXISTS a", "RPOPLPUSH a b", "LMOVE nokey b LEFT LEFT",
            "LRANGE b 0 -1", "SET s x", "LMOVE b s LEFT LEFT",
            "LRANGE b 0 -1", "LMOVE nokey s LEFT LEFT", "LMOVE s b LEFT LEFT",
            "LMPOP 2 nokey b LEFT", "LMPOP 2 nokey b RIGHT COUNT 2",
            "LMPOP 1 b LEFT COUNT 10", "LMPOP 2 nokey b LEFT",
            "RPUSH c 1 2", "LMPOP 2 s c LEFT", "LMPOP 2 c s LEFT",
            "LMPOP 2 c s LEFT", "LMPOP 0 c LEFT", "LMPOP x c LEFT",
            "LMPOP 3 c LEFT", "LMPOP 1 c MIDDLE", "LMPOP 1 c LEFT COUNT 0",
            "LMPOP 1 c LEFT COUNT x", "LMPOP 1 c LEFT COUNT 1 COUNT 1",
            "LMPOP 1 c LEFT FOO 1", "LMPOP 1 c LEFT COUNT",
        ])

    def test_errors(self):
        for args in ARITY:
            self.both(*args)
        self.both("SET", "k", "str")
        self.both("RPUSH", "l", "a")
        for call in LIST_CALLS:
            self.both(*call)
        self.both_script([
            "LPOP l -1", "LPOP l x", "RPOP l -5", "LINDEX l x",
            "RPUSH l a", "LINDEX l x", "LSET l x v", "LSET nokey x v",
            "LRANGE l x 1", "LRANGE l 0 y", "LSET l x v", "LREM l x a",
            "LTRIM l 0 y", "HSET h f v", "LPUSH h x", "LRANGE h 0 -1",
        ])

    def test_random_stream(self):
        seed = random.randrange(1 << 30)
        rng = random.Random(seed)
        keys = ["l0", "l1"]
        values = ["a", "b", "c", "", "x" * 80, "1"]
        for step in range(1500):
            k, v = rng.choice(keys), rng.choice(values)
            i = str(rng.randint(-6, 6))
            r = rng.random()
            if r < 0.25:
                cmd = [rng.choice(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), k]
                cmd += rng.choices(values, k=rng.randint(1, 3))
            elif r < 0.35:
                cmd = [rng.choice(["LPOP", "RPOP"]), k]
                if rng.random() < 0.5:
                    cmd.append(str(rng.randint(0, 3)))
            elif r < 0.45:
                cmd = ["LRANGE", k, i, str(rng.randint(-6, 6))]
            elif r < 0.5:
                cmd = ["LINDEX", k, i]
            elif r < 0.55:
                cmd = ["LSET", k, i, v]
            elif r < 0.6:
                cmd = ["LINSERT", k, rng.choice(["BEFORE", "AFTER"]),
                       rng.choice(values), v]
            elif r < 0.65:
                cmd = ["LREM", k, str(rng.randint(-2, 2)), v]
            elif r < 0.7:
                cmd = ["LTRIM", k, i, str(rng.randint(-6, 6))]
            elif r < 0.75:
                cmd = ["LPOS", k, v, "RANK", rng.choice(["1", "-1", "2"]),
                       "COUNT", str(rng.randint(0, 2))]
            elif r < 0.85:
                cmd = ["LMOVE", k, rng.choice(keys),
                       rng.choice(["LEFT", "RIGHT"]),
                       rng.choice(["LEFT", "RIGHT"])]
            elif r < 0.9:
                cmd = ["LMPOP", "2", "l0", "l1", rng.choice(["LEFT", "RIGHT"]),
                       "COUNT", str(rng.randint(1, 3))]
            else:
                cmd = [rng.choice(["LLEN", "TYPE", "EXISTS"]), k]
            mine, ref = self.c.cmd(*cmd), self.ref.cmd(*cmd)
            self.assertEqual(mine, ref, "seed %d step %d: %r" % (seed, step, cmd))
        for k in keys:
            self.both("LRANGE", k, 0, -1)

    def test_long_list(self):
        self.both("RPUSH", "l", *["e%d" % i for i in range(5000)])
        self.both("LPUSH", "l", *["f%d" % i for i in range(3000)])
        for start, stop in ((0, 99), (-600, -1), (2990, 3010), (4000, 3999)):
            self.both("LRANGE", "l", start, stop)
        self.both("LINDEX", "l", 4321)
        self.both("LINSERT", "l", "AFTER", "e2500", "new")
        self.both("LPOS", "l", "new")
        self.both("LTRIM", "l", 100, -100)
        self.both("LLEN", "l")
        self.both("LRANGE", "l", 2390, 2410)


    def test_rotating_one_element_keeps_ttl(self):
        """cmdfuzz.py found (issue 14): RPOPLPUSH l l / LMOVE l l of a
        one-element list popped it (deleting the key and its TTL) and
        pushed it back as a new key."""
        for cmd in (["RPOPLPUSH", "l", "l"], ["LMOVE", "l", "l", "LEFT", "RIGHT"],
                    ["LMOVE", "l", "l", "RIGHT", "RIGHT"]):
            self.both("RPUSH", "l", "only")
            self.both("EXPIRE", "l", 1000)
            self.both(*cmd)
            self.both("LRANGE", "l", 0, -1)
            self.assertEqual(self.c.cmd("TTL", "l") > 0, True)
            self.assertEqual(self.ref.cmd("TTL", "l") > 0, True)
            self.both("DEL", "l")


class ListResp3Test(PeerTestCase):
    def setUp(self):
        super().setUp()
        self.c.cmd("HELLO", "3")
        self.ref.cmd("HELLO", "3")

    def test_null_shapes(self):
        self.both_script([
            "LPOP nokey", "LPOP nokey 2", "LMPOP 1 nokey LEFT",
            "LPOS nokey a", "LINDEX nokey 0", "RPUSH l a", "LMPOP 1 l LEFT",
        ])


class ListRestartTest(unittest.TestCase):
    def setUp(self):
        self.server = ServerProcess(persistent=True).start()

    def tearDown(self):
        self.server.cleanup()

    def test_kill9_keeps_acknowledged_list_writes(self):
        with self.server.client() as c:
            c.pipeline([("RPUSH", "q", "j%d" % i) for i in range(1000)])
            c.cmd("LPOP", "q", 10)
            c.cmd("LMOVE", "q", "done", "LEFT", "RIGHT")
            c.cmd("LINSERT", "q", "BEFORE", "j500", "mid")
            c.cmd("LTRIM", "q", 0, 899)
        self.server.kill9()
        self.server.start()
        with self.server.client() as c:
            self.assertEqual(c.cmd("LLEN", "q"), 900)
            self.assertEqual(c.cmd("LINDEX", "q", 0), b"j11")
            self.assertEqual(c.cmd("LRANGE", "done", 0, -1), [b"j10"])
            self.assertEqual(c.cmd("LPOS", "q", "mid"), 489)


if __name__ == "__main__":
    unittest.main()
