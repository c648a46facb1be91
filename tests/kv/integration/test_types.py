"""Every type against every family: WRONGTYPE from each command family on
a key of each other type, and the keyspace commands (TYPE, OBJECT
ENCODING, SCAN TYPE, COPY, RENAME, EXPIRE, DUMP) on keys of each type,
differentially against redis-server."""

from differential import PeerTestCase

MAKERS = {
    "string": ("SET", "k", "v"),
    "hash": ("HSET", "k", "f", "v"),
    "list": ("RPUSH", "k", "a", "b"),
    # Integers: an intset, whose order (and DUMP bytes) are fixed.
    "set": ("SADD", "k", "1", "2"),
    "zset": ("ZADD", "k", "1", "a"),
}

# One read and one write of each family on key "k".
PROBES = [
    ("GET", "k"), ("APPEND", "k", "x"), ("STRLEN", "k"), ("INCR", "k"),
    ("HGET", "k", "f"), ("HSET", "k", "f", "v"), ("HLEN", "k"),
    ("LLEN", "k"), ("LPUSH", "k", "x"), ("LRANGE", "k", "0", "-1"),
    ("SCARD", "k"), ("SADD", "k", "x"), ("SINTER", "k"),
    ("ZCARD", "k"), ("ZADD", "k", "1", "x"), ("ZRANGE", "k", "0", "-1"),
    ("ZUNION", "1", "k"), ("SETBIT", "k", "1", "1"), ("PFCOUNT", "k"),
]


class TypesDifferentialTest(PeerTestCase):
    def test_wrongtype_across_families(self):
        for kind, maker in MAKERS.items():
            for probe in PROBES:
                self.both("DEL", "k")
                self.both(*maker)
                self.both_unordered(*probe)
            self.both("TYPE", "k")

    def test_keyspace_commands_on_every_type(self):
        for kind, maker in MAKERS.items():
            self.both("FLUSHALL")
            self.both(*maker)
            self.both_script([
                "TYPE k", "EXISTS k", "OBJECT ENCODING k", "DUMP k",
                "COPY k c", "TYPE c", "RENAME c r", "TYPE r", "EXPIRE r 100",
                "TTL r", "PERSIST r", "TTL r", "PEXPIRE r 0", "EXISTS r",
                "RANDOMKEY", "DBSIZE", "SCAN 0 TYPE " + kind, "SCAN 0 TYPE none",
                "UNLINK k", "EXISTS k",
            ])

    def test_set_replaces_every_type(self):
        for kind, maker in MAKERS.items():
            self.both("DEL", "k")
            self.both(*maker)
            self.both("SET", "k", "plain", "GET")
            self.both("SET", "k", "plain")
            self.both("TYPE", "k")
            self.both("GET", "k")

    def test_fuzzer_findings(self):
        """Divergences cmdfuzz.py found (issue 14): SCAN's cursor is
        strtoul's ("" is 0), MATCH "" matches only ""; errors that Redis
        formats with %s end at a NUL byte."""
        self.both_script(["SET a 1", "SCAN 0 MATCH", "SCAN x"])
        self.both("SCAN", "", "", "COUNT", "-1")
        self.both("SCAN", "", "COUNT", "10")
        self.both("SCAN", "0", "MATCH", "")
        self.both("OBJECT", "\x00\xff", "a")
        self.both("OBJECT", "x" * 200, "a")
        self.both("EXPIRE", "a", "100", "\x00\xff")
        self.both("EXPIRE", "a", "100", "ab\x00cd")
        # DEL/UNLINK of "" (a key daxkv cannot hold) is 0, not an error
        # after the keys before it were deleted.
        self.both_script(["SET b 1", "SET c 1"])
        self.both("DEL", "b", "", "c")
        self.both("UNLINK", "", "a")
        self.both_script(["EXISTS a b c", "SET a 1"])
        # COPY's DB is an int (Redis's getIntFromObjectOrReply) first.
        self.both_script([
            "COPY a b DB 2147483648", "COPY a b DB -9223372036854775808",
            "COPY a b DB abc", "COPY a b DB 0", "GET b",
        ])


    def test_encodings(self):
        self.both_script([
            "SADD ints 1 2 3", "OBJECT ENCODING ints", "SADD ints x",
            "OBJECT ENCODING ints", "RPUSH l a", "OBJECT ENCODING l",
            "ZADD z 1 a", "OBJECT ENCODING z", "ZADD zl 1 " + "m" * 65,
            "OBJECT ENCODING zl",
        ])
        self.both("SADD", "big", *range(513))
        self.both("OBJECT", "ENCODING", "big")
        self.both("ZADD", "bz", *[x for i in range(129) for x in (i, i)])
        self.both("OBJECT", "ENCODING", "bz")

    def test_encodings_convert_one_way(self):
        # Redis converts to the big encoding and never back, whatever
        # shrinks: by count, by a long element (field, value or member, each
        # judged alone), or, for a set, by a member an intset cannot hold.
        self.both("HSET", "h", *[x for i in range(513) for x in ("f%d" % i, i)])
        self.both("HDEL", "h", *["f%d" % i for i in range(1, 513)])
        self.both("ZADD", "z", *[x for i in range(129) for x in (i, i)])
        self.both("ZREMRANGEBYRANK", "z", 1, -1)
        self.both("SADD", "s", *range(513))
        self.both("SREM", "s", *range(1, 513))
        self.both_script([
            "OBJECT ENCODING h", "OBJECT ENCODING z", "OBJECT ENCODING s",
            "ZSCAN z 0",
            "HSET hl f " + "v" * 65, "HSET hl f short", "OBJECT ENCODING hl",
            "HSET hf " + "f" * 40 + " " + "v" * 40, "OBJECT ENCODING hf",
            "ZADD zm 1 " + "m" * 60, "OBJECT ENCODING zm",
            "ZADD zl 1 " + "m" * 65, "ZREM zl " + "m" * 65, "ZADD zl 2 a",
            "OBJECT ENCODING zl",
            "SADD si 1 x", "SREM si x", "OBJECT ENCODING si",
            "SADD sz 0 -5 007", "OBJECT ENCODING sz",
            "SADD sm -0", "OBJECT ENCODING sm",
        ])
