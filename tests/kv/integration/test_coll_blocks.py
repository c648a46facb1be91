"""MULTI/EXEC, WATCH and Lua scripts over hashes, lists, sets and sorted
sets mixed with strings (issue 14, docs/collections.md §11): every test
runs the same commands against the target and a reference redis-server
(differential.py) and asserts identical replies, errors included.
"""

import time
import unittest

from differential import PeerTestCase


class CollMultiExecTest(PeerTestCase):
    def block(self, *commands):
        """MULTI, the commands (each must be QUEUED on both), EXEC."""
        self.assertEqual(self.both("MULTI"), "OK")
        for cmd in commands:
            self.assertEqual(self.both(*cmd), "QUEUED", "queueing %r" % (cmd,))
        return self.both("EXEC")

    def test_every_type_in_one_block(self):
        reply = self.block(
            ("SET", "s", "1"), ("HSET", "h", "f", "v", "g", "w"),
            ("LPUSH", "l", "a", "b", "c"), ("SADD", "st", "x", "y"),
            ("ZADD", "z", "1", "m", "2", "n"), ("INCR", "s"),
            ("HGET", "h", "f"), ("LRANGE", "l", "0", "-1"),
            ("SISMEMBER", "st", "x"), ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
            ("RPOP", "l"), ("HINCRBY", "h", "n", "5"), ("ZINCRBY", "z", "3", "m"),
            ("SREM", "st", "y"), ("GET", "s"))
        self.assertEqual(len(reply), 15)
        for cmd in (("HGETALL", "h"), ("SMEMBERS", "st")):
            self.both_unordered(*cmd)
        for cmd in (("LRANGE", "l", "0", "-1"), ("ZRANGE", "z", "0", "-1",
                    "WITHSCORES"), ("GET", "s"), ("DBSIZE",)):
            self.both(*cmd)

    def test_block_reads_its_own_collection_writes(self):
        reply = self.block(
            ("RPUSH", "l", "a", "b"), ("LMOVE", "l", "l2", "LEFT", "RIGHT"),
            ("LLEN", "l2"), ("ZADD", "z", "5", "a"), ("ZUNIONSTORE", "u", "1", "z"),
            ("ZSCORE", "u", "a"), ("DEL", "l2"), ("EXISTS", "l2"),
            ("TYPE", "u"), ("RENAME", "u", "u2"), ("TYPE", "u2"),
            ("EXPIRE", "u2", "100"), ("TTL", "u2"), ("COPY", "u2", "u3"),
            ("ZCARD", "u3"), ("HSET", "h", "a", "1"), ("HDEL", "h", "a"),
            ("EXISTS", "h"))
        self.assertEqual(len(reply), 18)
        self.both_unordered("KEYS", "*")
        self.both("ZRANGE", "u3", "0", "-1", "WITHSCORES")

    def test_wrongtype_mid_block_leaves_the_rest_applied(self):
        self.both("SET", "str", "v")
        self.both("HSET", "h", "f", "1")
        reply = self.block(
            ("LPUSH", "l", "a"), ("LPUSH", "str", "x"), ("HSET", "h", "g", "2"),
            ("INCR", "h"), ("SADD", "h", "m"), ("ZADD", "z", "1", "a"),
            ("HINCRBY", "h", "f", "notanumber"), ("GET", "h"),
            ("SET", "str", "w"))
        self.assertIn("WRONGTYPE", str(reply[1]))
        for cmd in (("LRANGE", "l", "0", "-1"), ("GET", "str"), ("TYPE", "h"),
                    ("HGET", "h", "g"), ("HGET", "h", "f"), ("ZCARD", "z")):
            self.both(*cmd)

    def test_failing_multi_element_command_leaves_nothing(self):
        # ZADD's NaN increment and LSET out of range fail after checking
        # the key; nothing of them may stay, the neighbours stay.
        self.both("ZADD", "z", "inf", "m")
        self.both("RPUSH", "l", "a")
        self.block(("ZADD", "z", "INCR", "-inf", "m"), ("LSET", "l", "5", "x"),
                   ("RPUSH", "l", "b"), ("ZADD", "z", "1", "n"))
        self.both("ZRANGE", "z", "0", "-1", "WITHSCORES")
        self.both("LRANGE", "l", "0", "-1")

    def test_execabort_on_syntax_error(self):
        self.assertEqual(self.both("MULTI"), "OK")
        self.both("HSET", "h", "f", "v")
        self.both("LPUSH", "l", "a")
        self.both("ZADD", "z")          # wrong arity: refused when queued
        self.both("SADD", "s", "m")
        self.both("EXEC")               # EXECABORT
        for key in ("h", "l", "s"):
            self.both("EXISTS", key)

    def test_string_commands_on_every_type_inside_a_block(self):
        # TxnEngineStore's string paths (Update, Write, Rename, Copy,
        # ChangeExpiry) next to collections, WRONGTYPE included.
        self.both("HSET", "h", "f", "v")
        self.both("SET", "k", "5")
        self.block(("RENAME", "k", "k"), ("RENAMENX", "h", "k"),
                   ("MSETNX", "h", "1", "n", "2"), ("MSET", "a", "1", "b", "2"),
                   ("SET", "h", "x", "GET"), ("GETDEL", "a"), ("INCRBYFLOAT",
                   "b", "1.5"), ("SETRANGE", "b", "5", "zz"), ("APPEND", "h",
                   "x"), ("GETEX", "k", "PX", "100000"), ("PERSIST", "k"),
                   ("SETNX", "h", "1"), ("COPY", "h", "h2"), ("RENAME", "h",
                   "h3"), ("HGET", "h3", "f"), ("SET", "h2", "now a string"),
                   ("TYPE", "h2"), ("DEL", "h3", "b"), ("EXISTS", "h", "h2",
                   "h3", "k", "n"), ("RPUSH", "sortme", "3", "1", "2"),
                   ("PFADD", "hll", "a", "b"), ("PFCOUNT", "hll"),
                   ("SETBIT", "bits", "7", "1"), ("BITOP", "OR", "dest",
                   "bits", "sortme"), ("BITCOUNT", "bits"))
        for key in ("k", "h2", "n", "sortme", "b", "dest"):
            self.both("DUMP", key)

    def test_flushall_inside_a_block(self):
        self.both("HSET", "h", "f", "v")
        self.both("SET", "a", "1")
        self.block(("LPUSH", "l", "x"), ("FLUSHALL",), ("SADD", "s", "m"),
                   ("EXISTS", "h", "a", "l"), ("DBSIZE",))
        self.both("DBSIZE")
        self.both("SMEMBERS", "s")

    def test_dump_and_encoding_inside_a_block(self):
        self.both("HSET", "h", "f", "v")
        self.both("SADD", "s", "1", "2")
        self.block(("DUMP", "h"), ("OBJECT", "ENCODING", "h"),
                   ("OBJECT", "ENCODING", "s"), ("SADD", "s", "x"),
                   ("OBJECT", "ENCODING", "s"), ("SCAN", "0", "TYPE", "set"),
                   ("PERSIST", "h"), ("TTL", "s"))

    def test_scripts_inside_a_block(self):
        self.block(("EVAL", "redis.call('HSET', KEYS[1], 'f', 'v') "
                    "return redis.call('INCR', KEYS[1])", "1", "h"),
                   ("HGET", "h", "f"), ("RPUSH", "l", "z"))
        self.both("HGET", "h", "f")
        self.both("LRANGE", "l", "0", "-1")


class CollWatchTest(PeerTestCase):
    def setUp(self):
        super().setUp()
        self.c2 = self.server.client()
        self.addCleanup(self.c2.close)
        self.ref2 = self.peer.client()
        self.addCleanup(self.ref2.close)

    def other(self, *cmd):
        """Another client's command, on both servers."""
        mine, ref = self.c2.cmd(*cmd), self.ref2.cmd(*cmd)
        self.assertEqual(mine, ref, "other client's %r" % (cmd,))

    def watched_block(self, key, between=None):
        self.assertEqual(self.both("WATCH", key), "OK")
        if between is not None:
            between()
        self.both("MULTI")
        self.both("SADD", "out", key)
        self.both("HSET", "hout", key, "1")
        return self.both("EXEC")

    def test_untouched_collection_key_lets_exec_run(self):
        for setup, key in ((("HSET", "h", "f", "v"), "h"),
                           (("RPUSH", "l", "a"), "l"),
                           (("SADD", "s", "a"), "s"),
                           (("ZADD", "z", "1", "a"), "z")):
            self.both(*setup)
            self.other("HSET", "unrelated", "f", "v")
            self.assertEqual(self.watched_block(key), [1, 1])
        self.both_unordered("SMEMBERS", "out")

    def test_modified_collection_key_fails_exec(self):
        for setup, change, key in (
                (("HSET", "h", "f", "v"), ("HSET", "h", "f", "w"), "h"),
                (("RPUSH", "l", "a"), ("LPOP", "l"), "l"),
                (("SADD", "s", "a"), ("SADD", "s", "b"), "s"),
                (("ZADD", "z", "1", "a"), ("ZINCRBY", "z", "1", "a"), "z"),
                (("SET", "k", "1"), ("HSET", "k", "f", "v"), "k")):
            self.both(*setup)
            if setup[1] == "k":
                self.other("DEL", "k")
            reply = self.watched_block(key, lambda: self.other(*change))
            self.assertIsNone(reply)
        self.both("EXISTS", "out", "hout")

    def test_unchanged_write_still_fails_exec(self):
        # Redis marks the key on HSET of the same value, but not on SADD
        # of a member already there (nothing changed).
        self.both("HSET", "h", "f", "v")
        self.assertIsNone(self.watched_block(
            "h", lambda: self.other("HSET", "h", "f", "v")))
        self.both("SADD", "s", "a")
        self.assertEqual(self.watched_block(
            "s", lambda: self.other("SADD", "s", "a")), [1, 1])

    def test_expired_collection_key_fails_exec(self):
        for setup, key in ((("HSET", "h", "f", "v"), "h"),
                           (("ZADD", "z", "1", "a"), "z")):
            self.both(*setup)

            def expire(key=key):
                self.other("PEXPIRE", key, "1")
                time.sleep(0.05)
            self.assertIsNone(self.watched_block(key, expire))
            self.both("EXISTS", key)

    def test_watched_key_written_by_another_block_or_script(self):
        self.both("ZADD", "z", "1", "a")

        def other_block():
            self.other("MULTI")
            self.other("SET", "x", "1")
            self.other("ZREM", "z", "a")
            self.other("EXEC")
        self.assertIsNone(self.watched_block("z", other_block))
        self.both("HSET", "h", "f", "v")
        self.assertIsNone(self.watched_block("h", lambda: self.other(
            "EVAL", "return redis.call('HDEL', KEYS[1], 'f')", "1", "h")))
        self.both("RPUSH", "l", "a")
        # A script that fails before touching the key leaves it unmarked.
        self.assertEqual(self.watched_block("l", lambda: self.other(
            "EVAL", "return redis.call('LPUSH', KEYS[1])", "1", "l")),
            [1, 1])

    def test_watched_key_written_by_the_block_itself(self):
        self.both("RPUSH", "l", "a")
        self.both("WATCH", "l")
        self.both("MULTI")
        self.both("RPUSH", "l", "b")
        self.both("LPOP", "l")
        self.assertEqual(self.both("EXEC"), [2, b"a"])


class CollScriptTest(PeerTestCase):
    def test_script_writes_and_reads_every_type(self):
        script = """
            redis.call('HSET', KEYS[1], 'f', ARGV[1])
            redis.call('LPUSH', KEYS[2], 'a', 'b')
            redis.call('ZADD', KEYS[3], 1, 'm', 2, 'n')
            redis.call('SADD', KEYS[4], 'x')
            redis.call('SET', KEYS[5], 'plain')
            return {redis.call('HGET', KEYS[1], 'f'),
                    redis.call('LRANGE', KEYS[2], 0, -1),
                    redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES'),
                    redis.call('SISMEMBER', KEYS[4], 'x'),
                    redis.call('ZSCORE', KEYS[3], 'n'),
                    redis.call('TYPE', KEYS[1]),
                    redis.call('GET', KEYS[5])}
        """
        self.both("EVAL", script, "5", "h", "l", "z", "s", "str", "val")
        self.both("HGETALL", "h")
        self.both("LRANGE", "l", "0", "-1")
        self.both("DBSIZE")

    def test_pcall_error_tables(self):
        self.both("SET", "str", "v")
        script = """
            local r = redis.pcall('HSET', KEYS[1], 'f', 'v')
            local w = redis.pcall('LPUSH', KEYS[2])
            redis.call('SADD', KEYS[3], 'after')
            return {r['err'], w['err'], redis.call('SCARD', KEYS[3])}
        """
        self.both("EVAL", script, "3", "str", "l", "s")
        self.both("TYPE", "str")
        self.both("EXISTS", "l")
        self.both("SMEMBERS", "s")

    def test_script_error_after_writing_keeps_the_writes(self):
        self.both("SET", "str", "v")
        script = """
            redis.call('HSET', KEYS[1], 'f', 'v')
            redis.call('RPUSH', KEYS[2], 'a')
            redis.call('ZADD', KEYS[3], 1, 'm')
            redis.call('LPUSH', KEYS[4], 'x')
            redis.call('SADD', KEYS[3], 'never')
        """
        self.both("EVAL", script, "4", "h", "l", "z", "str")
        for cmd in (("HGET", "h", "f"), ("LRANGE", "l", "0", "-1"),
                    ("ZRANGE", "z", "0", "-1"), ("GET", "str"),
                    ("DBSIZE",)):
            self.both(*cmd)

    def test_lua_error_after_writing_keeps_the_writes(self):
        script = """
            redis.call('ZADD', KEYS[1], 3, 'm')
            redis.call('HINCRBY', KEYS[2], 'n', 1)
            error('boom')
        """
        reply = self.c.cmd("EVAL", script, "2", "z", "h")
        self.assertIn("boom", str(reply))
        self.ref.cmd("EVAL", script, "2", "z", "h")
        self.both("ZSCORE", "z", "m")
        self.both("HGET", "h", "n")

    def test_undeclared_keys(self):
        script = """
            redis.call('SADD', 'u1', 'a', 'b')
            redis.call('SMOVE', 'u1', 'u2', 'a')
            return {redis.call('SCARD', 'u1'), redis.call('SCARD', 'u2')}
        """
        self.both("EVAL", script, "0")
        self.both("SMEMBERS", "u2")

    def test_functions_over_collections(self):
        lib = ("#!lua name=colllib\n"
               "redis.register_function('qpush', function(keys, args) "
               "redis.call('RPUSH', keys[1], args[1]) "
               "return redis.call('LLEN', keys[1]) end)")
        self.both("FUNCTION", "LOAD", lib)
        try:
            self.both("FCALL", "qpush", "1", "q", "a")
            self.both("FCALL", "qpush", "1", "q", "b")
            self.both("LRANGE", "q", "0", "-1")
        finally:
            self.both("FUNCTION", "FLUSH")


class FillWakesBlockedClientsTest(PeerTestCase):
    """RENAME, RENAMENX and COPY that give a blocked client's key a list,
    sorted set or stream serve it as Redis does (signalKeyAsReady), plain,
    inside MULTI/EXEC (served once EXEC ran) and from a script. daxkv
    serves in the rename's own Txn (docs/collections.md §8)."""

    exec_block = CollMultiExecTest.block

    def test_rename_onto_a_waited_key(self):
        pair = self.block_on_both("BLPOP", "q", "0")
        self.both("RPUSH", "tmp", "r1", "r2")
        self.both("RENAME", "tmp", "q")
        self.served_equal(pair)
        self.both("LRANGE", "q", "0", "-1")

    def test_rename_inside_multi(self):
        pair = self.block_on_both("BLPOP", "q", "0")
        self.exec_block(("RPUSH", "tmp", "a", "b"), ("RENAME", "tmp", "q"),
                        ("LLEN", "q"))
        self.served_equal(pair)
        self.both("LRANGE", "q", "0", "-1")
        self.both("EXISTS", "tmp")

    def test_renamenx_and_copy_inside_multi(self):
        self.both("RPUSH", "src", "x", "y")
        pair = self.block_on_both("BLMOVE", "n", "d", "LEFT", "RIGHT", "0")
        self.exec_block(("RENAMENX", "src", "n"), ("LRANGE", "n", "0", "-1"))
        self.served_equal(pair)
        self.both("LRANGE", "d", "0", "-1")
        self.both("ZADD", "zs", "1", "a", "2", "b")
        pair = self.block_on_both("BZPOPMAX", "z", "0")
        self.exec_block(("COPY", "zs", "z"), ("ZCARD", "z"))
        self.served_equal(pair)
        for key in ("z", "zs"):
            self.both("ZRANGE", key, "0", "-1", "WITHSCORES")

    def test_a_rename_rolled_back_by_its_own_error_serves_nothing(self):
        self.both("SET", "str", "v")
        pair = self.block_on_both("BLPOP", "q", "0.5")
        self.exec_block(("RENAME", "nokey", "q"), ("LPUSH", "str", "x"))
        self.served_equal(pair)  # the timeout's null

    def test_script_renames_onto_a_waited_stream(self):
        self.both("XADD", "tmp", "1-1", "f", "v")
        pair = self.block_on_both("XREAD", "BLOCK", "0", "STREAMS", "s", "0")
        self.both("EVAL", "return redis.call('RENAME', KEYS[1], KEYS[2])",
                  "2", "tmp", "s")
        self.served_equal(pair)

    def test_copy_onto_a_waited_key(self):
        self.both("RPUSH", "src", "c1")
        pair = self.block_on_both("BRPOP", "q", "0")
        self.both("COPY", "src", "q")
        self.served_equal(pair)
        self.both("EXISTS", "q")
        self.both("LRANGE", "src", "0", "-1")


if __name__ == "__main__":
    unittest.main()
