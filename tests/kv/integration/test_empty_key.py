"""The empty key "" (issue 14's edge cases): Redis accepts it everywhere,
so every test here runs the same commands against the target and a
reference redis-server (differential.py) and asserts identical replies,
errors included: strings, each collection type, the keyspace commands,
MULTI/EXEC and WATCH, scripts, blocking pops served through "", DUMP and
RESTORE; plus "" surviving a restart (daxkv: recovery from the pool) and a
full sync from a redis-server master (daxkv: the RDB loader)."""

import time
import unittest

from differential import PeerTestCase
from harness import ServerProcess

E = ""


class EmptyKeyTest(PeerTestCase):
    def run_lines(self, *cmds):
        for cmd in cmds:
            self.both(*cmd)

    def scan_all(self, conn, *args):
        keys, cursor = [], b"0"
        while True:
            cursor, page = conn.cmd("SCAN", cursor, *args)
            keys += page
            if cursor == b"0":
                return sorted(set(keys))

    def both_scan(self, *args):
        mine, ref = self.scan_all(self.c, *args), self.scan_all(self.ref, *args)
        self.assertEqual(mine, ref, "SCAN %r" % (args,))
        return mine

    # --- strings ---

    def test_strings(self):
        self.run_lines(
            ("GET", E), ("SET", E, "v"), ("GET", E), ("STRLEN", E),
            ("APPEND", E, "x"), ("GETRANGE", E, "0", "-1"),
            ("SETRANGE", E, "3", "yz"), ("GET", E), ("SETNX", E, "no"),
            ("GETSET", E, "10"), ("INCR", E), ("INCRBY", E, "5"),
            ("DECR", E), ("INCRBYFLOAT", E, "0.5"), ("GETDEL", E),
            ("EXISTS", E), ("SET", E, "a", "NX"), ("SET", E, "b", "XX", "GET"),
            ("MSET", E, "1", "k", "2"), ("MGET", E, "k", E),
            ("MSETNX", E, "3", "other", "4"), ("GET", E),
            ("SETBIT", E, "7", "1"), ("GETBIT", E, "7"), ("BITCOUNT", E),
            ("BITPOS", E, "1"), ("BITFIELD", E, "INCRBY", "u8", "0", "3"),
            ("BITOP", "OR", E, E, "k"), ("GET", E), ("LCS", E, "k"),
            ("SUBSTR", E, "0", "1"), ("DEL", E), ("PFADD", E, "a", "b"),
            ("PFCOUNT", E), ("PFMERGE", "hll", E), ("PFCOUNT", "hll"),
            ("GETEX", E, "PX", "100000"), ("SET", E, "12345"),
            ("OBJECT", "ENCODING", E),
            ("DEL", E, "k", "hll"), ("DBSIZE",))

    # --- collections ---

    def test_hash(self):
        self.run_lines(
            ("HSET", E, "f", "v", E, "empty"), ("HGET", E, E),
            ("HMGET", E, "f", E, "no"), ("HLEN", E), ("HSTRLEN", E, "f"),
            ("HEXISTS", E, E), ("HSETNX", E, "f", "x"), ("HINCRBY", E, "n", "4"),
            ("HINCRBYFLOAT", E, "n", "1.5"), ("TYPE", E),
            ("GET", E), ("HDEL", E, "f", E, "n"),
            ("EXISTS", E), ("TYPE", E))
        self.both("HSET", E, "a", "1", "b", "2")
        for cmd in (("HGETALL", E), ("HKEYS", E), ("HVALS", E),
                    ("HRANDFIELD", E, "5")):
            self.both_unordered(*cmd)
        cursor, page = self.c.cmd("HSCAN", E, "0")
        self.assertEqual(sorted(page), sorted(self.ref.cmd("HSCAN", E, "0")[1]))

    def test_list(self):
        self.run_lines(
            ("LPUSHX", E, "x"), ("RPUSH", E, "a", "b", "c", E),
            ("LPUSH", E, "z"), ("LRANGE", E, "0", "-1"), ("LLEN", E),
            ("LINDEX", E, "-1"), ("LSET", E, "0", "y"), ("LPOS", E, "b"),
            ("LINSERT", E, "BEFORE", "b", "ins"), ("LREM", E, "1", E),
            ("RPUSHX", E, "tail"), ("LTRIM", E, "0", "4"),
            ("LMOVE", E, E, "LEFT", "RIGHT"), ("LRANGE", E, "0", "-1"),
            ("LMOVE", E, "dst", "RIGHT", "LEFT"), ("RPOPLPUSH", "dst", E),
            ("LMPOP", "2", "nokey", E, "LEFT", "COUNT", "2"),
            ("LRANGE", E, "0", "-1"), ("SORT", E, "ALPHA"),
            ("OBJECT", "ENCODING", E), ("LPOP", E, "10"), ("EXISTS", E),
            ("RPOP", E), ("LRANGE", "dst", "0", "-1"))

    def test_set(self):
        self.run_lines(
            ("SADD", E, "m", E, "n"), ("SCARD", E), ("SISMEMBER", E, E),
            ("SMISMEMBER", E, E, "m", "x"), ("SREM", E, "n"),
            ("SADD", "other", "m", "o"), ("SINTERCARD", "2", E, "other"),
            ("SMOVE", E, "other", E), ("SMOVE", "other", E, "o"),
            ("SDIFFSTORE", "d", E, "other"), ("SINTERSTORE", E, E, "other"),
            ("SCARD", E), ("TYPE", E), ("SPOP", E), ("EXISTS", E),
            ("SUNIONSTORE", E, "other"))
        for cmd in (("SMEMBERS", E), ("SRANDMEMBER", E, "5"), ("SUNION", E, "other"),
                    ("SDIFF", "other", E), ("SINTER", E, "other")):
            self.both_unordered(*cmd)

    def test_zset(self):
        self.run_lines(
            ("ZADD", E, "1", "a", "2", E, "3", "c"), ("ZCARD", E),
            ("ZSCORE", E, E), ("ZMSCORE", E, E, "a", "x"), ("ZRANK", E, E),
            ("ZINCRBY", E, "5", E), ("ZRANGE", E, "0", "-1", "WITHSCORES"),
            ("ZRANGEBYSCORE", E, "-inf", "+inf"), ("ZRANGEBYLEX", E, "-", "+"),
            ("ZCOUNT", E, "2", "10"), ("ZREVRANGE", E, "0", "0"),
            ("ZRANGESTORE", "copy", E, "0", "-1"),
            ("ZUNIONSTORE", E, "2", E, "copy", "WEIGHTS", "1", "2"),
            ("ZRANGE", E, "0", "-1", "WITHSCORES"),
            ("ZINTERSTORE", "i", "2", E, "copy"), ("ZDIFF", "2", E, "i"),
            ("ZPOPMIN", E), ("ZPOPMAX", E), ("ZMPOP", "1", E, "MIN"),
            ("ZREM", E, "a"), ("EXISTS", E), ("ZSCAN", "i", "0"))
        self.both_unordered("ZRANDMEMBER", "copy", "5")

    def test_stream(self):
        self.run_lines(
            ("XADD", E, "1-1", "f", "v"), ("XADD", E, "2-1", E, E),
            ("XLEN", E), ("TYPE", E), ("XRANGE", E, "-", "+"),
            ("XREVRANGE", E, "+", "-", "COUNT", "1"),
            ("XREAD", "STREAMS", E, "0"), ("XDEL", E, "1-1"),
            ("XSETID", E, "5-0"), ("XADD", E, "MAXLEN", "1", "6-0", "a", "b"),
            ("XTRIM", E, "MAXLEN", "0"), ("XLEN", E), ("EXISTS", E),
            ("DEL", E), ("EXISTS", E))

    # --- keyspace ---

    def test_keyspace_commands_on_every_type(self):
        writes = {"string": ("SET", E, "v"), "hash": ("HSET", E, "f", "v"),
                  "list": ("RPUSH", E, "a", "b"), "set": ("SADD", E, "m"),
                  "zset": ("ZADD", E, "1", "m"),
                  "stream": ("XADD", E, "1-1", "f", "v")}
        for kind, write in writes.items():
            with self.subTest(kind):
                self.run_lines(
                    write, ("TYPE", E), ("EXISTS", E, E, "nokey"),
                    ("DBSIZE",), ("KEYS", "*"), ("KEYS", ""), ("RANDOMKEY",),
                    ("EXPIRE", E, "100"), ("TTL", E), ("PERSIST", E),
                    ("PEXPIRE", E, "100000", "NX"), ("PERSIST", E),
                    ("EXPIRETIME", E), ("TOUCH", E), ("RENAME", E, "k"),
                    ("TYPE", E), ("TYPE", "k"), ("RENAME", "k", E),
                    ("RENAMENX", E, E), ("RENAME", E, E), ("COPY", E, "c"),
                    ("COPY", "c", E), ("COPY", "c", E, "REPLACE"),
                    ("RENAMENX", "c", E), ("DEL", "c"), ("TYPE", E))
                self.both_scan("MATCH", "")
                self.both_scan("TYPE", kind)
                self.both("SET", "other", "x")
                self.both_unordered("KEYS", "*")
                self.both_scan()
                self.both_scan("MATCH", "*")
                self.run_lines(("DBSIZE",), ("UNLINK", E), ("DEL", E),
                               ("EXISTS", E), ("RANDOMKEY",), ("DEL", "other"),
                               ("RANDOMKEY",))

    def test_dump_restore_and_sort_lookups(self):
        for write in (("SET", E, "v"), ("HSET", E, "f", "v"),
                      ("RPUSH", E, "a"), ("SADD", E, "m"),
                      ("ZADD", E, "1", "m")):
            self.both(*write)
            payload = self.both("DUMP", E)
            self.run_lines(("RESTORE", E, "0", payload),
                           ("RESTORE", E, "0", payload, "REPLACE"),
                           ("DEL", E), ("RESTORE", E, "0", payload),
                           ("TYPE", E), ("DEL", E))
        # SORT ... BY/GET "*" on an element "" names the key "".
        self.run_lines(("RPUSH", "l", E, "b"), ("SET", E, "9"),
                       ("SET", "b", "1"), ("SORT", "l", "BY", "*", "GET", "*"),
                       ("SORT", "l", "BY", "nosort", "GET", "#", "GET", "*"),
                       ("DEL", E), ("HSET", E, "f", "hv"),
                       ("SORT", "l", "BY", "nosort", "GET", "*->f"),
                       ("SORT", "l", "ALPHA", "STORE", E), ("LRANGE", E, "0", "-1"))

    # --- MULTI/EXEC, WATCH, scripts ---

    def test_multi_exec(self):
        self.both("MULTI")
        for cmd in (("SET", E, "1"), ("INCR", E), ("RENAME", E, "s"),
                    ("HSET", E, "f", "v"), ("LPUSH", "l", "x"),
                    ("RENAME", "l", E), ("TYPE", E), ("LPOP", E),
                    ("EXISTS", E), ("ZADD", E, "1", "m"), ("GET", "s")):
            self.assertEqual(self.both(*cmd), "QUEUED")
        self.both("EXEC")
        self.run_lines(("TYPE", E), ("ZRANGE", E, "0", "-1"), ("DBSIZE",))

    def watch_then_write(self, conn, server, write):
        conn.cmd("WATCH", E)
        with server.client() as other:
            other.cmd(*write)
        conn.cmd("MULTI")
        conn.cmd("SET", "after", "1")
        return conn.cmd("EXEC")

    def test_watch_the_empty_key(self):
        for write in (("SET", E, "v"), ("HSET", E, "f", "v"),
                      ("LPUSH", E, "x"), ("DEL", E), ("EXPIRE", "x", "1")):
            with self.subTest(write):
                mine = self.watch_then_write(self.c, self.server, write)
                ref = self.watch_then_write(self.ref, self.peer, write)
                self.assertEqual(mine, ref)
        self.run_lines(("EXISTS", "after"), ("TYPE", E))

    def test_scripts(self):
        body = ("redis.call('SET', KEYS[1], ARGV[1]); "
                "redis.call('RENAME', KEYS[1], KEYS[2]); "
                "redis.call('HSET', KEYS[1], 'f', ARGV[1]); "
                "return {redis.call('GET', KEYS[2]), "
                "redis.call('HGETALL', KEYS[1]), redis.call('TYPE', KEYS[1])}")
        self.run_lines(("EVAL", body, "2", E, "x", "val"),
                       ("EVAL", "return redis.call('EXISTS', KEYS[1])", "1", E),
                       ("EVAL", "return redis.call('DEL', '')", "0"),
                       ("EXISTS", E), ("GET", "x"))

    # --- blocking pops ---

    def test_blocking_pops_on_the_empty_key(self):
        cases = [
            (("BLPOP", E, "0"), ("RPUSH", E, "a", "b")),
            (("BRPOP", "nokey", E, "0"), ("LPUSH", E, "c")),
            (("BLMOVE", E, E, "LEFT", "RIGHT", "0"), ("RPUSH", E, "r")),
            (("BLMOVE", "src", E, "LEFT", "LEFT", "0"), ("RPUSH", "src", "s")),
            (("BLMPOP", "0", "1", E, "RIGHT", "COUNT", "2"),
             ("RPUSH", E, "x", "y", "z")),
            (("BZPOPMIN", E, "0"), ("ZADD", E, "1", "m", "2", "n")),
            (("BZMPOP", "0", "1", E, "MAX"), ("ZADD", E, "3", "o")),
            (("XREAD", "BLOCK", "0", "STREAMS", E, "$"),
             ("XADD", E, "9-1", "f", "v")),
        ]
        for block, push in cases:
            with self.subTest(block):
                self.both("DEL", E, "src")
                pair = self.block_on_both(*block)
                self.both(*push)
                self.served_equal(pair)
                self.run_lines(("TYPE", E), ("DBSIZE",))
                if self.both("TYPE", E) == "list":
                    self.both("LRANGE", E, "0", "-1")
        # RENAME onto "" serves its waiters.
        self.both("DEL", E)
        pair = self.block_on_both("BLPOP", E, "0")
        self.run_lines(("RPUSH", "tmp", "t1", "t2"),
                       ("RENAME", "tmp", E))
        self.served_equal(pair)
        self.both("LRANGE", E, "0", "-1")


class EmptyKeyPersistenceTest(PeerTestCase):
    """"" after a restart of the server under test (daxkv: recovered from
    its pool; redis-server: from its AOF) reads as on the reference."""

    server_kwargs = {"persistent": True}

    def test_every_type_under_the_empty_key_survives_a_restart(self):
        for write in (("SET", E, "v"), ("EXPIRE", E, "1000"),
                      ("HSET", "h", E, "v"), ("RPUSH", "l", E, "x"),
                      ("SADD", "s", E), ("ZADD", "z", "1", E),
                      ("XADD", "x", "1-1", E, E), ("RENAME", E, "str"),
                      ("RENAME", "l", E), ("RPUSH", E, "y")):
            self.both(*write)
        self.server.restart()
        self.c.close()
        self.c = self.server.client()
        for cmd in (("TYPE", E), ("LRANGE", E, "0", "-1"), ("GET", "str"),
                    ("HGETALL", "h"), ("SMEMBERS", "s"), ("ZRANGE", "z", "0", "-1"),
                    ("XRANGE", "x", "-", "+"), ("DBSIZE",), ("KEYS", "*")):
            self.both_unordered(*cmd)
        self.assertGreater(self.c.cmd("TTL", "str"), 900)


class EmptyKeyFullSyncTest(unittest.TestCase):
    """A replica of a redis-server master holding "" of every type loads it
    (daxkv: the RDB loader of a full sync)."""

    def test_full_sync_of_the_empty_key(self):
        import shutil
        binary = shutil.which("redis-server")
        if not binary:
            raise unittest.SkipTest("no redis-server to replicate from")
        master = ServerProcess(target="redis", server=binary,
                               pool_kind="file").start_or_cleanup()
        self.addCleanup(master.cleanup)
        replica = ServerProcess().start_or_cleanup()
        self.addCleanup(replica.cleanup)
        m, r = master.client(), replica.client()
        self.addCleanup(m.close)
        self.addCleanup(r.close)
        types = {E: ("SET", E, "v"), "h": ("HSET", "h", E, "v"),
                 "l": ("RPUSH", "l", E), "s": ("SADD", "s", E),
                 "z": ("ZADD", "z", "1", E)}
        for key, write in types.items():
            m.cmd(*write)
        m.cmd("EXPIRE", E, "1000")
        self.assertEqual(r.cmd("REPLICAOF", "127.0.0.1", master.port), "OK")
        deadline = time.monotonic() + 30
        while b"master_link_status:up" not in r.cmd("INFO", "replication"):
            self.assertLess(time.monotonic(), deadline, "link never up")
            time.sleep(0.05)
        for cmd in (("DBSIZE",), ("GET", E), ("TYPE", E), ("HGETALL", "h"),
                    ("LRANGE", "l", "0", "-1"), ("SMEMBERS", "s"),
                    ("ZRANGE", "z", "0", "-1")):
            self.assertEqual(r.cmd(*cmd), m.cmd(*cmd), cmd)
        self.assertGreater(r.cmd("TTL", E), 900)
        # The command stream carries "" too.
        m.cmd("LPUSH", E + "x", "a")
        m.cmd("DEL", E)
        m.cmd("HSET", E, "g", "w")
        deadline = time.monotonic() + 30
        while r.cmd("TYPE", E) != "hash":
            self.assertLess(time.monotonic(), deadline, "stream not applied")
            time.sleep(0.05)
        self.assertEqual(r.cmd("HGETALL", E), m.cmd("HGETALL", E))


if __name__ == "__main__":
    unittest.main()
