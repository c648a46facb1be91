"""Key-space commands: DEL/EXISTS/TYPE, expiry family, KEYS/SCAN, RENAME,
COPY, DBSIZE/FLUSH*, and lazy + active expiry."""

import itertools
import random
import time
import unittest

from glob_model import stringmatch
from harness import ServerTestCase

NOT_INT = "ERR value is not an integer or out of range"


class KeyBasicsTest(ServerTestCase):
    def test_del_unlink_exists(self):
        c = self.c
        c.cmd("MSET", "a", "1", "b", "2", "c", "3")
        self.assertEqual(c.cmd("EXISTS", "a", "a", "b", "nokey"), 3)
        self.assertEqual(c.cmd("DEL", "a", "nokey"), 1)
        self.assertEqual(c.cmd("UNLINK", "b", "c", "b"), 2)
        self.assertEqual(c.cmd("EXISTS", "a", "b", "c"), 0)

    def test_type(self):
        c = self.c
        c.cmd("SET", "s", "v")
        self.assertEqual(c.cmd("TYPE", "s"), "string")
        self.assertEqual(c.cmd("TYPE", "nokey"), "none")

    def test_dbsize_flushdb_flushall(self):
        c = self.c
        c.cmd("MSET", "a", "1", "b", "2")
        self.assertEqual(c.cmd("DBSIZE"), 2)
        self.assertEqual(c.cmd("FLUSHDB"), "OK")
        self.assertEqual(c.cmd("DBSIZE"), 0)
        c.cmd("SET", "a", "1")
        self.assertEqual(c.cmd("FLUSHALL", "SYNC"), "OK")
        self.assertEqual(c.cmd("DBSIZE"), 0)
        c.cmd("SET", "a", "1")
        self.assertEqual(c.cmd("FLUSHALL", "ASYNC"), "OK")
        self.assertEqual(c.cmd("GET", "a"), None)
        self.assertErr(c.cmd("FLUSHALL", "BOGUS"), "ERR syntax error")

    def test_rename(self):
        c = self.c
        c.cmd("SET", "a", "1", "EX", 100)
        self.assertEqual(c.cmd("RENAME", "a", "b"), "OK")
        self.assertEqual(c.cmd("GET", "b"), b"1")
        self.assertTrue(c.cmd("TTL", "b") > 90)
        self.assertEqual(c.cmd("EXISTS", "a"), 0)
        self.assertErr(c.cmd("RENAME", "a", "b"), "ERR no such key")
        self.assertEqual(c.cmd("RENAME", "b", "b"), "OK")
        c.cmd("SET", "c", "3")
        self.assertEqual(c.cmd("RENAMENX", "b", "c"), 0)
        self.assertEqual(c.cmd("RENAMENX", "b", "d"), 1)
        self.assertEqual(c.cmd("GET", "d"), b"1")
        self.assertErr(c.cmd("RENAMENX", "nokey", "e"), "ERR no such key")

    def test_copy(self):
        c = self.c
        c.cmd("SET", "a", "1", "EX", 100)
        self.assertEqual(c.cmd("COPY", "a", "b"), 1)
        self.assertEqual(c.cmd("GET", "b"), b"1")
        self.assertTrue(c.cmd("TTL", "b") > 90)
        c.cmd("SET", "a", "2")
        self.assertEqual(c.cmd("COPY", "a", "b"), 0)
        self.assertEqual(c.cmd("COPY", "a", "b", "REPLACE"), 1)
        self.assertEqual(c.cmd("GET", "b"), b"2")
        self.assertEqual(c.cmd("TTL", "b"), -1)
        self.assertEqual(c.cmd("COPY", "nokey", "z"), 0)
        self.assertEqual(c.cmd("COPY", "a", "c", "DB", 0), 1)
        self.assertErr(c.cmd("COPY", "a", "c", "BOGUS"), "ERR syntax error")

    def test_randomkey(self):
        c = self.c
        self.assertIsNone(c.cmd("RANDOMKEY"))
        c.cmd("MSET", "a", "1", "b", "2")
        self.assertIn(c.cmd("RANDOMKEY"), (b"a", b"b"))


    def test_touch_counts_and_restarts_idle_time(self):
        c = self.c
        c.cmd("SET", "s", "v")
        c.cmd("HSET", "h", "f", "v")
        payload = c.cmd("DUMP", "s")
        self.assertEqual(c.cmd("RESTORE", "idle", 0, payload, "IDLETIME",
                               5000), "OK")
        self.assertEqual(c.cmd("TOUCH", "s", "h", "nosuch", "s"), 3)
        self.assertEqual(c.cmd("EXISTS", "idle"), 1)  # not an access
        self.assertGreaterEqual(c.cmd("OBJECT", "IDLETIME", "idle"), 5000)
        self.assertEqual(c.cmd("TOUCH", "idle"), 1)
        self.assertLess(c.cmd("OBJECT", "IDLETIME", "idle"), 5000)
        self.assertErr(c.cmd("TOUCH"),
                       "ERR wrong number of arguments for 'touch' command")


class ExpireTest(ServerTestCase):
    def test_expire_ttl_persist(self):
        c = self.c
        self.assertEqual(c.cmd("EXPIRE", "nokey", 10), 0)
        self.assertEqual(c.cmd("TTL", "nokey"), -2)
        self.assertEqual(c.cmd("PTTL", "nokey"), -2)
        c.cmd("SET", "k", "v")
        self.assertEqual(c.cmd("TTL", "k"), -1)
        self.assertEqual(c.cmd("EXPIRETIME", "k"), -1)
        self.assertEqual(c.cmd("EXPIRETIME", "nokey"), -2)
        self.assertEqual(c.cmd("EXPIRE", "k", 100), 1)
        self.assertTrue(95 <= c.cmd("TTL", "k") <= 100)
        self.assertEqual(c.cmd("PERSIST", "k"), 1)
        self.assertEqual(c.cmd("PERSIST", "k"), 0)
        self.assertEqual(c.cmd("TTL", "k"), -1)
        self.assertEqual(c.cmd("PEXPIRE", "k", 100000), 1)
        self.assertTrue(95000 <= c.cmd("PTTL", "k") <= 100000)
        at = int(time.time()) + 500
        self.assertEqual(c.cmd("EXPIREAT", "k", at), 1)
        self.assertEqual(c.cmd("EXPIRETIME", "k"), at)
        self.assertEqual(c.cmd("PEXPIREAT", "k", at * 1000 + 7), 1)
        self.assertEqual(c.cmd("PEXPIRETIME", "k"), at * 1000 + 7)

    def test_expire_in_past_deletes(self):
        c = self.c
        c.cmd("SET", "k", "v")
        self.assertEqual(c.cmd("EXPIRE", "k", -1), 1)
        self.assertEqual(c.cmd("EXISTS", "k"), 0)
        c.cmd("SET", "k", "v")
        self.assertEqual(c.cmd("EXPIREAT", "k", 1), 1)
        self.assertIsNone(c.cmd("GET", "k"))

    def test_expire_flags(self):
        c = self.c
        c.cmd("SET", "k", "v")
        self.assertEqual(c.cmd("EXPIRE", "k", 100, "XX"), 0)
        self.assertEqual(c.cmd("EXPIRE", "k", 100, "GT"), 0)
        self.assertEqual(c.cmd("EXPIRE", "k", 100, "LT"), 1)
        self.assertEqual(c.cmd("EXPIRE", "k", 200, "NX"), 0)
        self.assertEqual(c.cmd("EXPIRE", "k", 200, "XX"), 1)
        self.assertEqual(c.cmd("EXPIRE", "k", 100, "GT"), 0)
        self.assertEqual(c.cmd("EXPIRE", "k", 300, "GT"), 1)
        self.assertEqual(c.cmd("EXPIRE", "k", 400, "LT"), 0)
        self.assertEqual(c.cmd("EXPIRE", "k", 50, "LT"), 1)
        self.assertTrue(c.cmd("TTL", "k") <= 50)
        c.cmd("SET", "p", "v")
        self.assertEqual(c.cmd("PEXPIRE", "p", 5000, "NX"), 1)
        self.assertErr(c.cmd("EXPIRE", "k", 10, "NX", "XX"),
                       "ERR NX and XX, GT or LT options at the same time "
                       "are not compatible")
        self.assertErr(c.cmd("EXPIRE", "k", 10, "GT", "LT"),
                       "ERR GT and LT options at the same time are not "
                       "compatible")
        self.assertErr(c.cmd("EXPIRE", "k", 10, "BOGUS"),
                       "ERR Unsupported option BOGUS")
        self.assertErr(c.cmd("EXPIRE", "k", "ten"), NOT_INT)
        self.assertErr(c.cmd("EXPIRE", "k", str(2**62)),
                       "ERR invalid expire time in 'expire' command")

    def test_lazy_expiry(self):
        c = self.c
        self.assertEqual(c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", 0), "OK")
        try:
            c.cmd("SET", "k", "v", "PX", 50)
            c.cmd("SET", "keep", "v")
            time.sleep(0.15)
            self.assertIsNone(c.cmd("GET", "k"))
            self.assertEqual(c.cmd("TTL", "k"), -2)
            self.assertEqual(c.cmd("EXISTS", "k"), 0)
            self.assertEqual(c.cmd("KEYS", "*"), [b"keep"])
        finally:
            c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", 1)

    def test_active_expiry(self):
        c = self.c
        for i in range(50):
            c.cmd("SET", "k%d" % i, "v", "PX", 20)
        c.cmd("SET", "keep", "v")
        deadline = time.monotonic() + 5
        while c.cmd("DBSIZE") > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        # DBSIZE counts keys not yet reclaimed: only active expiry shrinks it.
        self.assertEqual(c.cmd("DBSIZE"), 1)


class ScanTest(ServerTestCase):
    def fill(self, n):
        self.c.pipeline([("SET", "user:%d" % i, i) for i in range(n)] +
                        [("SET", "other:%d" % i, i) for i in range(n)])

    def test_keys_patterns(self):
        c = self.c
        c.cmd("MSET", "hello", "1", "hallo", "2", "hxllo", "3", "hllo", "4",
              "heeeello", "5", "a[b", "6")
        self.assertEqual(sorted(c.cmd("KEYS", "h?llo")),
                         [b"hallo", b"hello", b"hxllo"])
        self.assertEqual(sorted(c.cmd("KEYS", "h*llo")),
                         [b"hallo", b"heeeello", b"hello", b"hllo", b"hxllo"])
        self.assertEqual(sorted(c.cmd("KEYS", "h[ae]llo")),
                         [b"hallo", b"hello"])
        self.assertEqual(sorted(c.cmd("KEYS", "h[^e]llo")),
                         [b"hallo", b"hxllo"])
        self.assertEqual(sorted(c.cmd("KEYS", "h[a-b]llo")), [b"hallo"])
        self.assertEqual(c.cmd("KEYS", "a\\[b"), [b"a[b"])
        self.assertEqual(len(c.cmd("KEYS", "*")), 6)

    def test_scan_full_iteration(self):
        self.fill(500)
        seen, cursor, rounds = set(), b"0", 0
        while True:
            cursor, keys = self.c.cmd("SCAN", cursor, "COUNT", 50)
            seen.update(keys)
            rounds += 1
            if cursor == b"0" or rounds > 10000:
                break
        self.assertEqual(len(seen), 1000)

    def test_scan_match_type(self):
        self.fill(200)
        r = self.server.redis()
        users = set(r.scan_iter(match="user:*", count=100))
        self.assertEqual(len(users), 200)
        strings = set(r.scan_iter(count=100, _type="string"))
        self.assertEqual(len(strings), 400)
        hashes = set(r.scan_iter(count=100, _type="hash"))
        self.assertEqual(hashes, set())
        r.close()

    def test_scan_errors(self):
        c = self.c
        self.assertErr(c.cmd("SCAN", "abc"), "ERR invalid cursor")
        self.assertErr(c.cmd("SCAN", 0, "COUNT", 0), "ERR syntax error")
        self.assertErr(c.cmd("SCAN", 0, "BOGUS", 1), "ERR syntax error")


# Patterns whose Redis 7.0 results are easy to get wrong: unterminated and
# empty classes, escapes inside and outside classes, reversed ranges, a
# trailing backslash, bytes >= 0x80, the 1000-level nesting limit.
GLOB_TRICKY = [b"[a-aaaa", b"[a-a", b"[a", b"[a-", b"[]", b"[]a]", b"[^a",
               b"[\\", b"[b-a]", b"a[", b"[]]", b"\\", b"a\\",
               b"[a\\]", b"[\\]]", b"[^]", b"[--a]", b"[a-]", b"*[",
               b"\\*", b"*\\", b"[\x01-\xff]", b"[\xff-\x01]",
               b"[\x80-a]", b"[^\x80-\xff]*", b"?*?", b"**a**",
               b"*a" * 1000, b"*a" * 1001, b"a*" * 1001, b"a*" * 1002]


class GlobTest(ServerTestCase):
    """KEYS and SCAN MATCH against the model of Redis 7.0's matcher
    (glob_model.py): against redis-server this checks the model, against
    daxkv it checks daxkv, pattern by pattern."""

    def fill(self):
        keys = set()
        for n in (1, 2, 3):
            keys.update(bytes(t) for t in itertools.product(b"ab-[]\\^",
                                                            repeat=n))
        rng = random.Random(11)
        alphabet = b"ab*?[]-^\\\x80\xff"
        for _ in range(200):
            keys.add(bytes(rng.choice(alphabet)
                           for _ in range(rng.randint(1, 6))))
        keys.add(b"a" * 1500)
        self.c.pipeline([("SET", k, 1) for k in keys])
        return keys, rng, alphabet

    def test_keys_matches_redis_matcher(self):
        keys, rng, alphabet = self.fill()
        patterns = list(GLOB_TRICKY)
        patterns += [bytes(rng.choice(alphabet)
                           for _ in range(rng.randint(1, 10)))
                     for _ in range(1500)]
        replies = self.c.pipeline([("KEYS", p) for p in patterns])
        wrong = []
        for p, got in zip(patterns, replies):
            want = {k for k in keys if stringmatch(p, k)}
            if set(got) != want:
                wrong.append((p[:40], sorted(set(got) - want)[:3],
                              sorted(want - set(got))[:3]))
        self.assertEqual(wrong[:5], [], "(pattern, extra keys, missing "
                         "keys): %d of %d patterns" % (len(wrong),
                                                       len(patterns)))

    def test_scan_match_matches_redis_matcher(self):
        keys, _, _ = self.fill()
        for p in GLOB_TRICKY:
            got, cursor = set(), b"0"
            while True:
                cursor, batch = self.c.cmd("SCAN", cursor, "MATCH", p,
                                           "COUNT", 1000)
                got.update(batch)
                if cursor == b"0":
                    break
            self.assertEqual(got, {k for k in keys if stringmatch(p, k)},
                             p[:40])


if __name__ == "__main__":
    unittest.main()
