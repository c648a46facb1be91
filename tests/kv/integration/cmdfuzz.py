"""A grammar-based differential command fuzzer (issue 14).

For every hash, list, set, sorted-set, stream and generic keyspace command daxkv
serves, Fuzzer generates argument lists from per-command grammars, then
mutates some of them (dropped, inserted, replaced and duplicated tokens)
with tokens chosen to hit parsing edge cases: numbers that are valid and
invalid integers/floats, range bounds, option keywords in and out of place,
numkeys that are too large, small or negative. Keys are named after the
type they are populated with (h*, l*, s*, z*, str*) plus missing and
expired-but-not-yet-reaped keys; commands pick a key of their own family
most of the time and any key otherwise, so WRONGTYPE paths are hit too.

Each command goes to both servers (the server under test and a reference
redis-server 7.0) and the replies must be equal, errors included, after a
normalisation that only touches what Redis leaves unspecified (see
normalize()). Every `check_every` commands the whole keyspaces are compared
(TYPE, type-aware sorted contents, TTL presence).

Used by test_fuzz_commands.py (bounded runs in the suite) and, run as a
script, to hunt for divergences over many seeds:

  /usr/bin/python3 cmdfuzz.py --daxkv build/bin/daxkv-server \
      --seeds 100 --commands 5000 [--seed S] [--family hash] [--resp3]

It prints the first divergence of each command name (with the seed and
the commands before it) and carries on with the next seed.
"""

import time

from harness import RespError

# ---------------------------------------------------------------- tokens

NUMBERS = [
    "0", "-1", "1", "2", "3", "5", "-2", "-5", "100", "9223372036854775807",
    "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551616", "1e400", "-1e400", "inf", "+inf", "-inf", "nan",
    "1.5", "-1.5", "1e3", "0x10", " 1", "1 ", "", "-0", "0.1", "1e-400",
    "3.0", "017", "+1", "abc", "5e", "2147483648", "4294967296",
    "9223372036854775806", "-9223372036854775807", "4611686018427387904",
    "-4611686018427387904", "2147483647", "-2147483649",
]
BOUNDS = ["(1", "(inf", "(-inf", "(+inf", "[a", "(a", "-", "+", "[", "(",
          "[c", "(b", "[-", "(+", "[]", "a", "(1.5", "(nan", "((1", "(abc"]
KEYWORDS = [
    "WITHSCORES", "LIMIT", "BYSCORE", "BYLEX", "REV", "COUNT", "NX", "XX",
    "GT", "LT", "CH", "INCR", "LEFT", "RIGHT", "BEFORE", "AFTER", "RANK",
    "MAXLEN", "MATCH", "TYPE", "WITHVALUES", "WEIGHTS", "AGGREGATE", "SUM",
    "MIN", "MAX", "STORE", "BY", "GET", "ALPHA", "ASC", "DESC", "REPLACE",
    "KEEPTTL", "DB", "nosort", "#", "withscores", "limit", "rev", "ENCODING",
]
MEMBERS = ["a", "b", "c", "d", "1", "2", "-1", "1.5", "10", "", "x y",
           "\x00\xff", "inf", "a" * 70]
VALUES = MEMBERS + ["100", "-100", "9223372036854775807", "1e3", "0x10",
                    "3.0", "nan", "  2", "-9223372036854775808"]
SCORES = ["0", "1", "2", "-1", "1.5", "3", "-inf", "inf", "+inf", "1e400",
          "nan", "10", "-0", "0.1", "1e-5", "abc", ""]
TOKENS = NUMBERS + BOUNDS + KEYWORDS + MEMBERS

FAMILIES = {
    "hash": ["h1", "h2", "h3"],
    "list": ["l1", "l2", "l3"],
    "set": ["s1", "s2", "s3", "si"],   # si: an intset
    "zset": ["z1", "z2", "z3"],
    "stream": ["x1", "x2"],
    "geo": ["g1", "g2"],  # sorted sets of geohash scores
    "string": ["str", "num"],
    "none": ["missing", "gone", "lgone"],  # *gone: expired, maybe not reaped
}
ALL_KEYS = [k for ks in FAMILIES.values() for k in ks]

# Expire times that cannot expire during a run: a relative TTL (s or ms)
# that is small and positive would expire at a different moment on each
# server, which is timing, not behaviour.
EXPIRE_TIMES = ["0", "-1", "-100", "1000000", "2000000000", "abc", "",
                "1.5", "9223372036854775807", "9223372036854775808",
                "-9223372036854775808", "92233720368547758", " 5", "0x10",
                "9223372036854775", "100000000000000"]
EXPIRE_AT = ["1", "0", "-1", "100", "4000000000", "4000000001",
             "4000000000000", "9223372036854775807", "abc"]


class Gen:
    """Random pieces of commands for one family."""

    def __init__(self, rng, family):
        self.rng = rng
        self.family = family

    def pick(self, seq):
        return self.rng.choice(seq)

    def chance(self, p):
        return self.rng.random() < p

    def key(self, family=None):
        fam = family or self.family
        if fam in FAMILIES and self.chance(0.75):
            return self.pick(FAMILIES[fam])
        if self.chance(0.1):
            return self.pick(["dst", "dst2", ""])  # "": Redis's empty key
        return self.pick(ALL_KEYS)

    def keys(self, lo=1, hi=4, family=None):
        return [self.key(family) for _ in range(self.rng.randint(lo, hi))]

    def member(self):
        return self.pick(MEMBERS)

    def value(self):
        return self.pick(VALUES) if self.chance(0.9) else self.pick(TOKENS)

    def int(self):
        if self.chance(0.6):
            return str(self.rng.randint(-6, 6))
        return self.pick(NUMBERS)

    def count(self):
        if self.chance(0.7):
            return str(self.rng.randint(-4, 8))
        return self.pick(NUMBERS)

    def score(self):
        return self.pick(SCORES) if self.chance(0.85) else self.pick(NUMBERS)

    def sbound(self):
        r = self.rng.random()
        if r < 0.4:
            return self.pick(SCORES[:12])
        if r < 0.7:
            return "(" + self.pick(["1", "2", "0", "1.5", "inf", "-inf"])
        return self.pick(BOUNDS + NUMBERS)

    def lbound(self):
        r = self.rng.random()
        if r < 0.7:
            return self.pick(["-", "+"]) if self.chance(0.3) else \
                self.pick("[(") + self.member()
        return self.pick(BOUNDS + NUMBERS)

    def numkeys(self, keys):
        if self.chance(0.8):
            return str(len(keys))
        return self.pick(["0", "-1", str(len(keys) + 1), str(len(keys) + 5),
                          "abc", "9223372036854775807", "2147483648", "1.5"])

    def kw(self):
        return self.pick(KEYWORDS)

    def token(self):
        r = self.rng.random()
        if r < 0.35:
            return self.pick(NUMBERS)
        if r < 0.5:
            return self.pick(BOUNDS)
        if r < 0.75:
            return self.pick(KEYWORDS)
        if r < 0.9:
            return self.member()
        return self.pick(ALL_KEYS)

    def times(self, lo, hi, fn):
        out = []
        for _ in range(self.rng.randint(lo, hi)):
            out += fn()
        return out

    def opts(self, options):
        """Some of the (words...) options, shuffled."""
        chosen = [o for o in options if self.chance(0.35)]
        self.rng.shuffle(chosen)
        out = []
        for o in chosen:
            out += o() if callable(o) else list(o)
        return out


# ---------------------------------------------------------------- grammars
# Each grammar returns the full argument list (command name first).

def _hash(g):
    k = g.key
    return {
        "HSET": lambda: ["HSET", k()] + g.times(1, 4, lambda: [g.member(), g.value()]),
        "HMSET": lambda: ["HMSET", k()] + g.times(1, 3, lambda: [g.member(), g.value()]),
        "HSETNX": lambda: ["HSETNX", k(), g.member(), g.value()],
        "HGET": lambda: ["HGET", k(), g.member()],
        "HMGET": lambda: ["HMGET", k()] + [g.member() for _ in range(g.rng.randint(1, 4))],
        "HDEL": lambda: ["HDEL", k()] + [g.member() for _ in range(g.rng.randint(1, 3))],
        "HEXISTS": lambda: ["HEXISTS", k(), g.member()],
        "HLEN": lambda: ["HLEN", k()],
        "HSTRLEN": lambda: ["HSTRLEN", k(), g.member()],
        "HKEYS": lambda: ["HKEYS", k()],
        "HVALS": lambda: ["HVALS", k()],
        "HGETALL": lambda: ["HGETALL", k()],
        "HINCRBY": lambda: ["HINCRBY", k(), g.member(), g.int()],
        "HINCRBYFLOAT": lambda: ["HINCRBYFLOAT", k(), g.member(), g.score()],
        "HRANDFIELD": lambda: ["HRANDFIELD", k()] + (
            [g.count()] + (["WITHVALUES"] if g.chance(0.5) else [])
            if g.chance(0.8) else []),
        "HSCAN": lambda: _scan(g, "HSCAN", [k()]),
    }


def _scan(g, name, head):
    cursor = "0" if g.chance(0.8) else g.pick(["1", "-1", "abc", "18446744073709551615",
                                                "18446744073709551616", "1.5", ""])
    opts = g.opts([lambda: ["MATCH", g.pick(["*", "a*", "*1*", "[ab]", "h?", "\\*", "*[", ""])],
                   lambda: ["COUNT", g.pick(["1", "10", "0", "-1", "abc", "1000"])]]
                  + ([lambda: ["TYPE", g.pick(["hash", "list", "set", "zset", "string", "foo"])]]
                     if name == "SCAN" else []))
    return [name] + head + [cursor] + opts


def _list(g):
    k = g.key
    side = lambda: g.pick(["LEFT", "RIGHT"]) if g.chance(0.9) else g.token()
    return {
        "LPUSH": lambda: ["LPUSH", k()] + [g.value() for _ in range(g.rng.randint(1, 4))],
        "RPUSH": lambda: ["RPUSH", k()] + [g.value() for _ in range(g.rng.randint(1, 4))],
        "LPUSHX": lambda: ["LPUSHX", k(), g.value()],
        "RPUSHX": lambda: ["RPUSHX", k(), g.value(), g.value()],
        "LPOP": lambda: ["LPOP", k()] + ([g.count()] if g.chance(0.5) else []),
        "RPOP": lambda: ["RPOP", k()] + ([g.count()] if g.chance(0.5) else []),
        "LLEN": lambda: ["LLEN", k()],
        "LINDEX": lambda: ["LINDEX", k(), g.int()],
        "LRANGE": lambda: ["LRANGE", k(), g.int(), g.int()],
        "LSET": lambda: ["LSET", k(), g.int(), g.value()],
        "LINSERT": lambda: ["LINSERT", k(), g.pick(["BEFORE", "AFTER", "before", "MIDDLE"]),
                            g.value(), g.value()],
        "LREM": lambda: ["LREM", k(), g.int(), g.value()],
        "LTRIM": lambda: ["LTRIM", k(), g.int(), g.int()],
        "LPOS": lambda: ["LPOS", k(), g.value()] + g.opts(
            [lambda: ["RANK", g.count()], lambda: ["COUNT", g.count()],
             lambda: ["MAXLEN", g.count()]]),
        "LMOVE": lambda: ["LMOVE", k(), k(), side(), side()],
        "RPOPLPUSH": lambda: ["RPOPLPUSH", k(), k()],
        "LMPOP": lambda: _lmpop(g, side),
    }


def _lmpop(g, side):
    keys = g.keys(1, 3)
    return (["LMPOP", g.numkeys(keys)] + keys + [side()]
            + (["COUNT", g.count()] if g.chance(0.5) else []))


def _set(g):
    k = g.key
    multi = lambda name: lambda: [name] + g.keys(1, 3)
    store = lambda name: lambda: [name, g.key() if g.chance(0.5) else "dst"] + g.keys(1, 3)
    return {
        "SADD": lambda: ["SADD", k()] + [g.value() for _ in range(g.rng.randint(1, 4))],
        "SREM": lambda: ["SREM", k()] + [g.value() for _ in range(g.rng.randint(1, 3))],
        "SISMEMBER": lambda: ["SISMEMBER", k(), g.value()],
        "SMISMEMBER": lambda: ["SMISMEMBER", k()] + [g.value() for _ in range(g.rng.randint(1, 3))],
        "SCARD": lambda: ["SCARD", k()],
        "SMEMBERS": lambda: ["SMEMBERS", k()],
        "SRANDMEMBER": lambda: ["SRANDMEMBER", k()] + ([g.count()] if g.chance(0.7) else []),
        "SPOP": lambda: ["SPOP", k()] + ([g.count()] if g.chance(0.5) else []),
        "SMOVE": lambda: ["SMOVE", k(), k(), g.value()],
        "SINTER": multi("SINTER"),
        "SUNION": multi("SUNION"),
        "SDIFF": multi("SDIFF"),
        "SINTERSTORE": store("SINTERSTORE"),
        "SUNIONSTORE": store("SUNIONSTORE"),
        "SDIFFSTORE": store("SDIFFSTORE"),
        "SINTERCARD": lambda: _numkeys_cmd(g, "SINTERCARD", [lambda: ["LIMIT", g.count()]]),
        "SSCAN": lambda: _scan(g, "SSCAN", [k()]),
    }


def _numkeys_cmd(g, name, options, dst=False):
    keys = g.keys(1, 3)
    head = [name] + (["dst" if g.chance(0.5) else g.key()] if dst else [])
    return head + [g.numkeys(keys)] + keys + g.opts(options)


def _zset(g):
    k = g.key
    zadd_flags = [("NX",), ("XX",), ("GT",), ("LT",), ("CH",), ("INCR",)]
    weights = lambda: ["WEIGHTS"] + [g.score() for _ in range(g.rng.randint(1, 3))]
    aggregate = lambda: ["AGGREGATE", g.pick(["SUM", "MIN", "MAX", "sum", "AVG"])]
    algebra = [weights, aggregate, ("WITHSCORES",)]
    rng_opts = lambda: g.opts([("BYSCORE",), ("BYLEX",), ("REV",),
                               lambda: ["LIMIT", g.int(), g.count()], ("WITHSCORES",)])

    def zrange(name, store=False):
        mode = g.rng.random()
        if mode < 0.4:
            lo, hi = g.int(), g.int()
        elif mode < 0.7:
            lo, hi = g.sbound(), g.sbound()
        else:
            lo, hi = g.lbound(), g.lbound()
        head = [name] + (["dst" if g.chance(0.6) else k()] if store else []) + [k(), lo, hi]
        return head + rng_opts()

    def byscore(name):
        return [name, k(), g.sbound(), g.sbound()] + g.opts(
            [("WITHSCORES",), lambda: ["LIMIT", g.int(), g.count()]])

    def bylex(name):
        return [name, k(), g.lbound(), g.lbound()] + g.opts(
            [lambda: ["LIMIT", g.int(), g.count()]])

    return {
        "ZADD": lambda: ["ZADD", k()] + g.opts(zadd_flags)
        + g.times(1, 3, lambda: [g.score(), g.member()]),
        "ZINCRBY": lambda: ["ZINCRBY", k(), g.score(), g.member()],
        "ZREM": lambda: ["ZREM", k()] + [g.member() for _ in range(g.rng.randint(1, 3))],
        "ZCARD": lambda: ["ZCARD", k()],
        "ZSCORE": lambda: ["ZSCORE", k(), g.member()],
        "ZMSCORE": lambda: ["ZMSCORE", k()] + [g.member() for _ in range(g.rng.randint(1, 3))],
        "ZRANK": lambda: ["ZRANK", k(), g.member()],
        "ZREVRANK": lambda: ["ZREVRANK", k(), g.member()],
        "ZPOPMIN": lambda: ["ZPOPMIN", k()] + ([g.count()] if g.chance(0.5) else []),
        "ZPOPMAX": lambda: ["ZPOPMAX", k()] + ([g.count()] if g.chance(0.5) else []),
        "ZRANDMEMBER": lambda: ["ZRANDMEMBER", k()] + (
            [g.count()] + (["WITHSCORES"] if g.chance(0.5) else [])
            if g.chance(0.8) else []),
        "ZSCAN": lambda: _scan(g, "ZSCAN", [k()]),
        "ZUNION": lambda: _numkeys_cmd(g, "ZUNION", algebra),
        "ZINTER": lambda: _numkeys_cmd(g, "ZINTER", algebra),
        "ZDIFF": lambda: _numkeys_cmd(g, "ZDIFF", [("WITHSCORES",)]),
        "ZUNIONSTORE": lambda: _numkeys_cmd(g, "ZUNIONSTORE", algebra[:2], dst=True),
        "ZINTERSTORE": lambda: _numkeys_cmd(g, "ZINTERSTORE", algebra[:2], dst=True),
        "ZDIFFSTORE": lambda: _numkeys_cmd(g, "ZDIFFSTORE", [], dst=True),
        "ZINTERCARD": lambda: _numkeys_cmd(g, "ZINTERCARD", [lambda: ["LIMIT", g.count()]]),
        "ZMPOP": lambda: _zmpop(g),
        "ZRANGE": lambda: zrange("ZRANGE"),
        "ZRANGESTORE": lambda: zrange("ZRANGESTORE", store=True),
        "ZREVRANGE": lambda: ["ZREVRANGE", k(), g.int(), g.int()]
        + (["WITHSCORES"] if g.chance(0.4) else []),
        "ZRANGEBYSCORE": lambda: byscore("ZRANGEBYSCORE"),
        "ZREVRANGEBYSCORE": lambda: byscore("ZREVRANGEBYSCORE"),
        "ZRANGEBYLEX": lambda: bylex("ZRANGEBYLEX"),
        "ZREVRANGEBYLEX": lambda: bylex("ZREVRANGEBYLEX"),
        "ZCOUNT": lambda: ["ZCOUNT", k(), g.sbound(), g.sbound()],
        "ZLEXCOUNT": lambda: ["ZLEXCOUNT", k(), g.lbound(), g.lbound()],
        "ZREMRANGEBYRANK": lambda: ["ZREMRANGEBYRANK", k(), g.int(), g.int()],
        "ZREMRANGEBYSCORE": lambda: ["ZREMRANGEBYSCORE", k(), g.sbound(), g.sbound()],
        "ZREMRANGEBYLEX": lambda: ["ZREMRANGEBYLEX", k(), g.lbound(), g.lbound()],
    }


def _zmpop(g):
    keys = g.keys(1, 3)
    return (["ZMPOP", g.numkeys(keys)] + keys
            + [g.pick(["MIN", "MAX"]) if g.chance(0.9) else g.token()]
            + (["COUNT", g.count()] if g.chance(0.5) else []))


def _generic(g):
    k = lambda: g.key("any")
    exp_opt = lambda: [g.pick(["NX", "XX", "GT", "LT", "nx", "KEEPTTL"])] if g.chance(0.3) else []
    return {
        "DEL": lambda: ["DEL"] + g.keys(1, 3, "any"),
        "UNLINK": lambda: ["UNLINK"] + g.keys(1, 3, "any"),
        "EXISTS": lambda: ["EXISTS"] + g.keys(1, 4, "any"),
        "TOUCH": lambda: ["TOUCH"] + g.keys(1, 3, "any"),
        "TYPE": lambda: ["TYPE", k()],
        "RENAME": lambda: ["RENAME", k(), k() if g.chance(0.7) else "dst"],
        "RENAMENX": lambda: ["RENAMENX", k(), k() if g.chance(0.7) else "dst"],
        "COPY": lambda: ["COPY", k(), k() if g.chance(0.6) else "dst"] + g.opts(
            [("REPLACE",), lambda: ["DB", g.pick(["0", "-1", "abc", "16", "2147483648",
                                     "-9223372036854775808"])]]),
        "EXPIRE": lambda: ["EXPIRE", k(), g.pick(EXPIRE_TIMES)] + exp_opt(),
        "PEXPIRE": lambda: ["PEXPIRE", k(), g.pick(EXPIRE_TIMES)] + exp_opt(),
        "EXPIREAT": lambda: ["EXPIREAT", k(), g.pick(EXPIRE_AT)] + exp_opt(),
        "PEXPIREAT": lambda: ["PEXPIREAT", k(), g.pick(EXPIRE_AT)] + exp_opt(),
        "TTL": lambda: ["TTL", k()],
        "PTTL": lambda: ["PTTL", k()],
        "EXPIRETIME": lambda: ["EXPIRETIME", k()],
        "PEXPIRETIME": lambda: ["PEXPIRETIME", k()],
        "PERSIST": lambda: ["PERSIST", k()],
        "KEYS": lambda: ["KEYS", g.pick(["*", "h*", "?1", "[sz]*", "*[", "", "s\\i", "*i*"])],
        "SCAN": lambda: _scan(g, "SCAN", []),
        "RANDOMKEY": lambda: ["RANDOMKEY"],
        "DBSIZE": lambda: ["DBSIZE"],
        "SORT": lambda: _sort(g, "SORT"),
        "SORT_RO": lambda: _sort(g, "SORT_RO"),
        "OBJECT": lambda: ["OBJECT", g.pick(["ENCODING", "REFCOUNT", "encoding", "FOO"]), k()],
        # To port -1, which no connect can even start (sanitize() keeps it
        # so): the argument checks, NOKEY and the connecting error.
        "MIGRATE": lambda: ["MIGRATE", "127.0.0.1", "-1", k() if g.chance(0.7) else "",
                            g.pick(["0", "1", "-1", "abc", "16"]),
                            g.pick(["0", "100", "-5", "abc", "1000"])] + g.opts(
            [("COPY",), ("REPLACE",), ("copy",), lambda: ["AUTH", "pw"],
             lambda: ["AUTH2", "u", "pw"]]) + (
            ["KEYS"] + g.keys(0, 3, "any") if g.chance(0.4) else []),
    }


def _stream(g):
    """Stream commands with explicit IDs (`*` reads each server's clock)
    and exact trims (`~` follows Redis's node model, which XDEL of a whole
    newest node can make differ: docs/collections.md §12, S6); no BLOCK."""
    k = lambda: g.key("stream")

    def sid():
        r = g.rng.random()
        if r < 0.6:
            return "%d-%s" % (g.rng.randint(0, 40), g.pick(["0", "1", "2", "*"]))
        if r < 0.8:
            return str(g.rng.randint(0, 40))
        return g.pick(["0-0", "-", "+", "$", "(5", "abc", "1-x", "18446744073709551615",
                       "18446744073709551615-18446744073709551615", "5-18446744073709551615",
                       "-1", "1-2-3", ""])

    def bound():
        return g.pick(["-", "+", "(" + sid(), sid()]) if g.chance(0.8) else g.token()

    trim = lambda: [g.pick(["MAXLEN", "MINID", "maxlen"])] + (
        ["="] if g.chance(0.3) else []) + [g.count() if g.chance(0.5) else sid()]
    fields = lambda: g.times(1, 3, lambda: [g.member(), g.value()])
    return {
        "XADD": lambda: ["XADD", k()] + g.opts([("NOMKSTREAM",), trim]) + [sid()] + fields(),
        "XLEN": lambda: ["XLEN", k()],
        "XRANGE": lambda: ["XRANGE", k(), bound(), bound()]
        + (["COUNT", g.count()] if g.chance(0.4) else []),
        "XREVRANGE": lambda: ["XREVRANGE", k(), bound(), bound()]
        + (["COUNT", g.count()] if g.chance(0.4) else []),
        "XDEL": lambda: ["XDEL", k()] + [sid() for _ in range(g.rng.randint(1, 3))],
        "XTRIM": lambda: ["XTRIM", k()] + trim(),
        "XREAD": lambda: ["XREAD"] + (["COUNT", g.count()] if g.chance(0.4) else [])
        + ["STREAMS"] + (lambda ks: ks + [sid() for _ in ks])(g.keys(1, 2, "stream")),
        "XSETID": lambda: ["XSETID", k(), sid()] + g.opts(
            [lambda: ["ENTRIESADDED", g.count()], lambda: ["MAXDELETEDID", sid()]]),
        **_stream_groups(g, k, sid),
    }


def _stream_groups(g, k, sid):
    """Consumer-group commands whose replies hold no times: min-idle 0,
    XPENDING's summary form only, no XINFO (idle and seen times)."""
    group = lambda: g.pick(["g1", "g2", "G1"])
    consumer = lambda: g.pick(["c1", "c2", "c3"])
    read_id = lambda: g.pick([">", ">", ">", "0", sid()])
    entries_read = lambda: ["ENTRIESREAD", g.pick(["-1", "0", "3", "-2", "x"])]
    return {
        "XGROUP": lambda: g.pick([
            lambda: ["XGROUP", "CREATE", k(), group(), g.pick(["$", "0", sid()])]
            + g.opts([("MKSTREAM",), entries_read]),
            lambda: ["XGROUP", "SETID", k(), group(), g.pick(["$", "0", sid()])]
            + g.opts([entries_read]),
            lambda: ["XGROUP", "DESTROY", k(), group()],
            lambda: ["XGROUP", "CREATECONSUMER", k(), group(), consumer()],
            lambda: ["XGROUP", "DELCONSUMER", k(), group(), consumer()],
        ])(),
        "XREADGROUP": lambda: ["XREADGROUP", "GROUP", group(), consumer()]
        + g.opts([lambda: ["COUNT", g.count()], ("NOACK",)])
        + ["STREAMS"] + (lambda ks: ks + [read_id() for _ in ks])(g.keys(1, 2, "stream")),
        "XACK": lambda: ["XACK", k(), group()] + [sid() for _ in range(g.rng.randint(1, 3))],
        "XPENDING": lambda: ["XPENDING", k(), group()],
        "XCLAIM": lambda: ["XCLAIM", k(), group(), consumer(), "0"]
        + [sid() for _ in range(g.rng.randint(1, 3))]
        + g.opts([("FORCE",), ("JUSTID",), lambda: ["RETRYCOUNT", g.count()],
                  lambda: ["LASTID", sid()], lambda: ["IDLE", g.count()]]),
        "XAUTOCLAIM": lambda: ["XAUTOCLAIM", k(), group(), consumer(), "0", sid()]
        # Small counts: Redis allocates COUNT * 16 bytes first, and fails
        # a large one with an out-of-memory error daxkv has no cause for.
        + g.opts([lambda: ["COUNT", str(g.rng.randint(-2, 8))], ("JUSTID",)]),
    }


# Points cluster around these (irregular, so that two points rarely lie
# at exactly the same distance from a centre); the last is beside the
# antimeridian.
GEO_CENTRES = [(13.361389, 38.115556), (-73.985130, 40.758896),
               (151.209296, -33.868820), (179.95, 0.5)]
GEO_LONS = ["180", "-180", "180.0001", "0", "-0", "inf", "nan", "abc",
            "1e400", "13.361389", ""]
GEO_LATS = ["85.05112878", "-85.05112878", "85.06", "90", "0", "-inf",
            "38.115556", "1e-400", "x"]
GEO_UNITS = ["m", "km", "mi", "ft", "KM", "Mi", "parsec", ""]
GEO_SIZES = ["0", "1", "50", "200", "1000", "5000", "20000", "-1", "abc",
             "inf", "1e400", "0.5"]


def geo_point(g):
    """A longitude and latitude, mostly near a centre."""
    if g.chance(0.85):
        lon, lat = g.pick(GEO_CENTRES)
        return ["%.5f" % max(-180, min(180, lon + g.rng.uniform(-3, 3))),
                "%.5f" % (lat + g.rng.uniform(-3, 3))]
    return [g.pick(GEO_LONS), g.pick(GEO_LATS)]


def geo_member(g):
    return "p%d" % g.rng.randrange(12) if g.chance(0.8) else g.member()


def _geo(g):
    k = g.key
    size = lambda: [g.pick(GEO_SIZES), g.pick(GEO_UNITS[:4])
                    if g.chance(0.9) else g.pick(GEO_UNITS)]
    count = lambda: ["COUNT", g.pick(["1", "2", "3", "5", "50", "0", "-1",
                                      "abc"])] + (["ANY"] if g.chance(0.5) else [])
    out = [("WITHDIST",), ("WITHCOORD",), ("WITHHASH",), ("ASC",), ("DESC",),
           count]
    store = lambda: [g.pick(["STORE", "STOREDIST"]), g.pick(["dst", "dst2"])]
    frm = lambda: (["FROMMEMBER", geo_member(g)] if g.chance(0.5)
                   else ["FROMLONLAT"] + geo_point(g))
    by = lambda: (["BYRADIUS"] + size() if g.chance(0.5)
                  else ["BYBOX", g.pick(GEO_SIZES)] + size())

    def search(name, head, options):
        if g.chance(0.1):  # FROM... or BY... missing or repeated
            return [name] + head + g.opts([frm, by, frm]) + g.opts(options)
        return [name] + head + _shuffled(g, [frm(), by()]) + g.opts(options)

    return {
        "GEOADD": lambda: ["GEOADD", k()] + g.opts([("NX",), ("XX",), ("CH",)])
        + g.times(1, 3, lambda: geo_point(g) + [geo_member(g)]),
        "GEOPOS": lambda: ["GEOPOS", k()] + [geo_member(g) for _ in range(g.rng.randint(1, 3))],
        "GEOHASH": lambda: ["GEOHASH", k()] + [geo_member(g) for _ in range(g.rng.randint(1, 3))],
        "GEODIST": lambda: ["GEODIST", k(), geo_member(g), geo_member(g)]
        + ([g.pick(GEO_UNITS)] if g.chance(0.6) else []),
        "GEORADIUS": lambda: ["GEORADIUS", k()] + geo_point(g) + size()
        + g.opts(out + [store]),
        "GEORADIUS_RO": lambda: ["GEORADIUS_RO", k()] + geo_point(g) + size()
        + g.opts(out),
        "GEORADIUSBYMEMBER": lambda: ["GEORADIUSBYMEMBER", k(), geo_member(g)]
        + size() + g.opts(out + [store]),
        "GEORADIUSBYMEMBER_RO": lambda: ["GEORADIUSBYMEMBER_RO", k(),
                                         geo_member(g)] + size() + g.opts(out),
        "GEOSEARCH": lambda: search("GEOSEARCH", [k()], out),
        "GEOSEARCHSTORE": lambda: search(
            "GEOSEARCHSTORE", [g.pick(["dst", "dst2"]), k()],
            [("ASC",), ("DESC",), count, ("STOREDIST",)]),
    }


def _shuffled(g, parts):
    g.rng.shuffle(parts)
    return [x for p in parts for x in p]


GEO_SEARCHES = {"GEORADIUS", "GEORADIUS_RO", "GEORADIUSBYMEMBER",
                "GEORADIUSBYMEMBER_RO", "GEOSEARCH", "GEOSEARCHSTORE"}


def geo_partial_sort(cmd):
    """A GEO search with COUNT and no ANY: Redis then sorts by distance
    with pqsort, which is not stable, so points at equal distances (the
    same point under two members, or mirror images about the centre) may
    come in another order, or another of them at the cut."""
    return (cmd[0].upper() in GEO_SEARCHES and _has(cmd, "COUNT")
            and not _has(cmd, "ANY"))


def geo_store_target(cmd):
    if cmd[0].upper() == "GEOSEARCHSTORE" and len(cmd) > 1:
        return [cmd[1]]
    return [cmd[i + 1] for i, a in enumerate(cmd[:-1])
            if a.upper() in ("STORE", "STOREDIST")]


def _sort(g, name):
    key = g.key(g.pick(["list", "set", "zset", "any"]))
    opts = [lambda: ["BY", g.pick(["nosort", "w_*", "h_*->f", "nokey", "*"])],
            lambda: ["LIMIT", g.int(), g.count()],
            lambda: ["GET", g.pick(["#", "w_*", "h_*->f", "x"])],
            ("ASC",), ("DESC",), ("ALPHA",)]
    if name == "SORT":
        opts.append(lambda: ["STORE", g.pick(["dst", "l1", "s1", "str"])])
    return [name, key] + g.opts(opts)


GRAMMARS = {"hash": _hash, "list": _list, "set": _set, "zset": _zset,
            "stream": _stream, "generic": _generic, "geo": _geo}


def sanitize(args):
    """Keeps a mutated command away from what is timing, configuration or
    undefined behaviour in Redis rather than behaviour: a small positive
    relative TTL expires at a different moment on each server; COPY ... DB
    1..15 names a database that Redis has by default and daxkv (one
    database) does not; MIGRATE goes nowhere (127.0.0.1, port -1)."""
    name = args[0].upper()
    if name in ("EXPIRE", "PEXPIRE") and len(args) > 2 and _int(args[2]) \
            and 0 < int(args[2]) < 1000000:
        args = args[:2] + ["1000000"] + args[3:]
    if name == "LPOS":
        # LPOS ... RANK -9223372036854775808: Redis 7.0 negates the rank
        # (signed overflow, undefined) and then ignores COUNT; 7.2 makes
        # it an error. Not a behaviour to copy.
        args = [a if a != "-9223372036854775808" else "-9223372036854775807"
                for a in args]
    if name == "COPY":
        args = [a if not (_int(a) and 0 < int(a) < 16) else "16"
                for a in args]
    if name == "MIGRATE" and len(args) > 2:
        # Never a host name (no lookups leave the machine) nor a port that
        # could answer: port -1 fails before any connect, on both servers.
        args = ["MIGRATE", "127.0.0.1", "-1"] + args[3:]
    return args


def mutate(g, args):
    """A random syntactic mutation of an argument list (name kept)."""
    args = list(args)
    for _ in range(g.rng.randint(1, 2)):
        r = g.rng.random()
        if r < 0.25 and len(args) > 1:
            del args[g.rng.randrange(1, len(args))]
        elif r < 0.5:
            args.insert(g.rng.randrange(1, len(args) + 1), g.token())
        elif r < 0.75 and len(args) > 1:
            args[g.rng.randrange(1, len(args))] = g.token()
        elif r < 0.85:
            args = args[:g.rng.randrange(1, len(args) + 1)]
        else:
            i = g.rng.randrange(1, len(args) + 1)
            args = args[:i] + args[1:i] + args[i:]
    return args


# ---------------------------------------------------------------- comparing

UNORDERED = {"SMEMBERS", "SINTER", "SUNION", "SDIFF", "HKEYS", "HVALS", "KEYS"}
PAIRS = {"HGETALL"}
RANDOM = {"SPOP", "SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER", "RANDOMKEY"}
SCANS = {"SCAN", "HSCAN", "SSCAN", "ZSCAN"}
CLOCK = {"TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"}


def _sorted(items):
    return sorted(items, key=repr)


def _shape(reply):
    """Type and length only: what two random draws have in common."""
    if isinstance(reply, (list, set, dict)):
        return (type(reply).__name__, len(reply))
    if isinstance(reply, bytes):
        return ("bulk",)
    return reply


def normalize(cmd, reply):
    """The comparable part of a reply to cmd. Errors, integers and the
    replies of deterministic commands stay as they are."""
    if isinstance(reply, RespError) or reply is None:
        return reply
    name = cmd[0].upper()
    if name in UNORDERED and isinstance(reply, list):
        # Redis leaves the order of set members and hash fields unspecified
        # (dict iteration order).
        return _sorted(reply)
    if name in PAIRS and isinstance(reply, list):
        return _sorted(zip(reply[::2], reply[1::2]))
    if name in RANDOM:
        # Random draws: only the reply's type and size are specified.
        return _shape(reply)
    if name in SCANS and isinstance(reply, list) and len(reply) == 2:
        # Cursors are each server's own; a scan that ends in one call
        # (cursor 0 -> 0) must return the same elements, as pairs for
        # HSCAN/ZSCAN.
        cursor, items = reply
        start = _scan_cursor(cmd)
        if start == "0" and cursor == b"0" and isinstance(items, list):
            if name == "ZSCAN":
                # A score's text follows Redis's encoding history (a
                # listpack writes 2^62 as an integer, a skiplist with
                # %.17g); daxkv follows the current size: compared as
                # numbers.
                return ("complete", _sorted(
                    (m, float(x)) for m, x in zip(items[::2], items[1::2])))
            if name == "HSCAN":
                return ("complete", _sorted(zip(items[::2], items[1::2])))
            return ("complete", _sorted(items))
        return ("partial", type(cursor), isinstance(items, list))
    return normalize_more(cmd, reply)


ENCODING_RANK = {b"listpack": 0, b"intset": 0, b"skiplist": 1,
                 b"hashtable": 1}


def unsigned_zero(reply):
    """reply with every score "-0" read as "0". Redis keeps a score of -0
    only in a skiplist-encoded sorted set (a listpack stores it as 0, and
    ZADD's first member decides the initial encoding), so whether -0
    survives depends on encoding history: a known difference that daxkv
    does not model (it stores 0 from ZADD/ZINCRBY, -0 from WEIGHTS -1)."""
    if reply == b"-0":
        return b"0"
    if isinstance(reply, list):
        return [unsigned_zero(x) for x in reply]
    return reply


def same(cmd, mine, ref):
    """Whether two replies to cmd agree on everything Redis specifies."""
    if cmd[0].upper().startswith("Z"):
        mine, ref = unsigned_zero(mine), unsigned_zero(ref)
    a, b = normalize(cmd, mine), normalize(cmd, ref)
    if a == b:
        return True
    if (cmd[0].upper() == "OBJECT" and ENCODING_RANK.get(mine, 9)
            < ENCODING_RANK.get(ref, -1)):
        # Redis converts a collection's encoding one way only (a zset
        # that once outgrew its listpack stays a skiplist); daxkv answers
        # from the current size and elements (kv/cmd_keys.cc says so), so
        # it may name the compact encoding where Redis names the big one.
        return True
    if cmd[0].upper() in SCANS and type(a) is tuple and type(b) is tuple:
        # One server may finish a scan in one call where the other needs
        # several (Redis: listpack vs hashtable encodings): a partial
        # reply only has to be well-formed; the contents are checked by
        # the keyspace comparisons.
        return ("partial" in (a[0], b[0])
                and (a[0] == "complete" or a[-1])
                and (b[0] == "complete" or b[-1]))
    return False


def normalize_more(cmd, reply):
    name = cmd[0].upper()
    if name == "OBJECT" and isinstance(reply, int):
        # OBJECT REFCOUNT counts Redis's object sharing (a small integer
        # string is shared until COPY duplicates it, ...): daxkv shares
        # nothing and answers Redis's usual figures; only the type counts.
        return "refcount"
    if name in CLOCK and isinstance(reply, int) and reply >= 0:
        # Relative TTLs were set a few ms apart on the two servers.
        return "positive"
    if geo_partial_sort(cmd):
        return _shape(reply)
    if name in ("SORT", "SORT_RO") and _sort_unordered(cmd):
        return _shape(reply) if _has(cmd, "LIMIT") else (
            _sorted(reply) if isinstance(reply, list) else reply)
    if (name in ("SORT", "SORT_RO") and _has(cmd, "ALPHA")
            and isinstance(reply, list)
            and any(isinstance(x, bytes) and b"\0" in x for x in reply)):
        # ALPHA compares with strcoll(), which stops at a NUL byte: "" and
        # "\0..." tie and come out in either order. Compared as the
        # sequence of NUL-truncated strings plus the multiset.
        truncated = [x.split(b"\0")[0] if isinstance(x, bytes) else x
                     for x in reply]
        return truncated if _has(cmd, "LIMIT") else (truncated, _sorted(reply))
    return reply


def _int(a):
    try:
        int(a)
        return a.strip() == a
    except ValueError:
        return False


def _scan_cursor(cmd):
    i = 1 if cmd[0].upper() == "SCAN" else 2
    return cmd[i] if len(cmd) > i else None


def _has(cmd, word):
    return any(a.upper() == word for a in cmd[1:])


def _sort_unordered(cmd):
    for i, a in enumerate(cmd[:-1]):
        if a.upper() != "BY":
            continue
        if "*" not in cmd[i + 1]:
            # BY nosort (or a BY pattern with no '*', which Redis treats
            # the same) returns a set in its dict order unless the result
            # is STOREd (then Redis sorts it); we cannot tell a set from
            # here, so every no-sort SORT is compared as a multiset.
            return not _has(cmd, "STORE")
        if _has(cmd, "ALPHA"):
            # ALPHA with BY weights leaves ties (equal or missing weights)
            # unbroken, in whatever order its quicksort leaves them;
            # numeric BY breaks ties by the elements' bytes.
            return True
    return False


LEX = {"ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZLEXCOUNT", "ZREMRANGEBYLEX"}


def lex_source(cmd):
    """The key a lex-range command reads, or None."""
    name = cmd[0].upper()
    if name in LEX and len(cmd) > 1:
        return cmd[1]
    if name in ("ZRANGE", "ZRANGESTORE") and _has(cmd, "BYLEX"):
        i = 2 if name == "ZRANGESTORE" else 1
        return cmd[i] if len(cmd) > i else None
    return None


def exact_minid_key(cmd):
    """The stream an exact MINID trim (XADD or XTRIM ... MINID [=] <id>)
    trims, or None."""
    name = cmd[0].upper()
    if name not in ("XADD", "XTRIM") or len(cmd) < 4:
        return None
    for i in range(2, len(cmd) - 1):
        if str(cmd[i]).upper() == "MINID":
            return None if cmd[i + 1] == "~" else cmd[1]
    return None


def xadd_auto_seq(cmd):
    """Whether cmd is an XADD that may name an ID of the form <ms>-*: on a
    stream whose last ID is <ms>-18446744073709551615, Redis 7.0 fails it
    without setting errno, so its reply depends on the errno an earlier
    call left ("Elements are too large to be stored", or with EDOM the
    "equal or smaller" error daxkv gives)."""
    return cmd[0].upper() == "XADD" and any(
        str(a).endswith("-*") and str(a)[:-2].isdigit() for a in cmd[2:])


def _stream_id(raw):
    ms, _, seq = (raw.decode() if isinstance(raw, bytes) else str(raw)).partition("-")
    return int(ms), int(seq or 0)


def needs_resync(cmd):
    """Keys whose content a random command changed differently on the two
    servers (SPOP removes random members)."""
    name = cmd[0].upper()
    if name == "SPOP" and len(cmd) > 1:
        return [cmd[1]]
    if geo_partial_sort(cmd):
        return geo_store_target(cmd)
    if name == "SORT" and _sort_unordered(cmd):
        # A SORT ... STORE whose order Redis leaves unspecified.
        return [cmd[i + 1] for i, a in enumerate(cmd[:-1])
                if a.upper() == "STORE"]
    return []


# ---------------------------------------------------------------- keyspace

def dump_key(c, key):
    """TYPE, sorted contents and TTL presence of one key."""
    t = c.cmd("TYPE", key)
    if t == "string":
        v = c.cmd("GET", key)
    elif t == "hash":
        r = c.cmd("HGETALL", key)
        v = _sorted(zip(r[::2], r[1::2]))
    elif t == "list":
        v = c.cmd("LRANGE", key, 0, -1)
    elif t == "set":
        v = _sorted(c.cmd("SMEMBERS", key))
    elif t == "zset":
        v = unsigned_zero(c.cmd("ZRANGE", key, 0, -1, "WITHSCORES"))
    elif t == "stream":
        v = c.cmd("XRANGE", key, "-", "+")
    else:
        v = None
    ttl = c.cmd("PTTL", key)
    return (t, v, "ttl" if isinstance(ttl, int) and ttl >= 0 else ttl)


def dump_keyspace(c):
    keys = sorted(c.cmd("KEYS", "*"))
    return {k: dump_key(c, k) for k in keys}


def restore_key(c, key, state):
    """Recreates a key from dump_key()'s state (TTL presence only)."""
    t, v, ttl = state
    c.cmd("DEL", key)
    if t == "string":
        c.cmd("SET", key, v)
    elif t == "hash" and v:
        c.cmd("HSET", key, *[x for pair in v for x in pair])
    elif t == "list" and v:
        c.cmd("RPUSH", key, *v)
    elif t == "set" and v:
        c.cmd("SADD", key, *v)
    elif t == "zset" and v:
        args = []
        for m, s in zip(v[::2], v[1::2]):
            args += [s, m]
        c.cmd("ZADD", key, *args)
    elif t == "stream":
        for entry_id, fields in v or []:
            c.cmd("XADD", key, entry_id, *fields)
        if not v:  # an empty stream: created, then emptied
            c.cmd("XADD", key, "1-1", "f", "v")
            c.cmd("XDEL", key, "1-1")
    if ttl == "ttl" and t != "none":
        c.cmd("EXPIRE", key, 1000000)


# ---------------------------------------------------------------- fuzzer

class Divergence(Exception):
    pass


class Fuzzer:
    """Runs one seeded stream against two connections (mine, ref)."""

    def __init__(self, mine, ref, rng, families, check_every=50,
                 repopulate_every=400, admin=None, pipeline=0):
        self.mine, self.ref, self.rng = mine, ref, rng
        # >0: commands go out in pipelines of up to this many (daxkv runs
        # a pipeline's collection writes as one engine Txn), but for those
        # step() treats specially, which go alone.
        self.pipeline = pipeline
        # RESP2 connections for the comparisons and resyncs (the commands'
        # own connections may speak RESP3).
        self.amine, self.aref = admin or (mine, ref)
        self.families = families
        self.check_every = check_every
        self.repopulate_every = repopulate_every
        self.history = []
        self.commands = 0
        # Streams whose last ID an XSETID set below a deleted entry's ID
        # (docs/collections.md, S6): Redis's listpack then holds the deleted,
        # higher IDs before entries appended after, and its exact MINID trim
        # stops at the first of them; daxkv trims every entry below the
        # MINID. On these keys an exact MINID trim compares only errors and
        # reply types, then the key is resynced.
        self.lowered_streams = set()

    def both(self, *cmd):
        return self.mine.cmd(*cmd), self.ref.cmd(*cmd)

    def populate(self):
        """A fresh keyspace: every family key of its type, small and large
        (listpack and hashtable/skiplist encodings in Redis)."""
        rng = self.rng
        self.both("FLUSHALL")
        self.lowered_streams.clear()
        for key in FAMILIES["hash"]:
            n = rng.choice([0, 1, 3, 6, 140])
            args = []
            for i in range(n):
                args += [self._elem(rng, i), rng.choice(VALUES)]
            if args:
                self.both("HSET", key, *args)
        for key in FAMILIES["list"]:
            n = rng.choice([0, 1, 3, 8, 140])
            items = [rng.choice(VALUES) for _ in range(n)]
            if items:
                self.both("RPUSH", key, *items)
        for key in FAMILIES["set"]:
            n = rng.choice([0, 1, 3, 8, 140])
            if key == "si":
                items = [str(rng.randint(-20, 600)) for _ in range(n)]
            else:
                items = [self._elem(rng, i) for i in range(n)]
            if items:
                self.both("SADD", key, *items)
        for key in FAMILIES["zset"]:
            n = rng.choice([0, 1, 3, 8, 140])
            args = []
            for i in range(n):
                s = rng.choice(["0", "1", "2", "1.5", "-inf", "inf", "-3",
                                str(rng.randint(-50, 50))])
                args += [s, self._elem(rng, i)]
            if args:
                self.both("ZADD", key, *args)
        for key in FAMILIES["geo"]:
            n = rng.choice([0, 1, 3, 12, 140])
            args = []
            for i in range(n):
                lon, lat = rng.choice(GEO_CENTRES)
                args += ["%.6f" % max(-180, min(180, lon + rng.uniform(-2, 2))),
                         "%.6f" % (lat + rng.uniform(-2, 2)), "p%d" % i]
            if args:
                self.both("GEOADD", key, *args)
        for key in FAMILIES["stream"]:
            n = rng.choice([0, 1, 3, 8, 140])
            for i in range(n):
                self.both("XADD", key, "%d-%d" % (i // 3 + 1, i % 3),
                          *[x for _ in range(rng.randint(1, 2))
                            for x in (rng.choice(MEMBERS), rng.choice(VALUES))])
        self.both("SET", "str", rng.choice(["hello", "", "x" * 50]))
        self.both("SET", "num", rng.choice(["10", "-3", "1.5", "0"]))
        for e in ["a", "b", "c", "1", "2", "10"]:
            self.both("SET", "w_" + e, rng.randint(-5, 5))
            self.both("HSET", "h_" + e, "f", rng.choice(["1", "x", "2.5"]))
        if rng.random() < 0.5:
            self.both("EXPIRE", rng.choice(ALL_KEYS[:-3]), 1000000)
        # "gone" holds a value whose TTL has run out on both servers by the
        # first command; whether the server has reaped it yet is its own
        # business, but every command must see it as missing.
        self.both("SET", "gone", "v", "PX", "1")
        self.both("RPUSH", "lgone", "v")
        self.both("PEXPIRE", "lgone", "1")
        time.sleep(0.005)

    @staticmethod
    def _elem(rng, i):
        if rng.random() < 0.5:
            return rng.choice(MEMBERS)
        return "m%d" % i if rng.random() < 0.7 else str(i)

    def generate(self):
        family = self.rng.choice(self.families)
        g = Gen(self.rng, family)
        grammar = GRAMMARS[family](g)
        name = self.rng.choice(sorted(grammar))
        args = grammar[name]()
        if self.rng.random() < 0.35:
            args = mutate(g, args)
        if self.rng.random() < 0.05:
            args[0] = args[0].lower()
        args = sanitize(args)
        if args[0].upper() in RANDOM:
            # A count of -N asks for N draws with repetition: Redis 7.0
            # would build a reply of up to 2^63 elements.
            args = [a if not _int(a) or int(a) > -1000 else "-3" for a in args]
        return args

    def step(self, cmd):
        self.history.append(cmd)
        del self.history[:-25]
        if cmd[0].upper() in ("SORT", "SORT_RO"):
            # Redis 7.0's SORT tests errno == ERANGE after strtod without
            # clearing errno first, so an earlier command's out-of-range
            # number (ZADD z 1e400 m) can fail it with "One or more scores
            # can't be converted into double". Parsing a weight clears it
            # (on both: the server under test may be redis-server too).
            self.both("ZUNION", "1", "__errno", "WEIGHTS", "1")
        if xadd_auto_seq(cmd):
            # Leaves errno == EDOM in Redis (an ID below the stream's top;
            # the first XADD may create the key instead), so that an <ms>-*
            # past the last sequence fails with the "equal or smaller"
            # error, as it does after any such failure.
            for _ in range(2):
                self.both("XADD", "__errno_s", "1-1", "f", "v")
        if cmd[0].upper() == "DBSIZE":
            # DBSIZE counts keys whose TTL ran out until the server reaps
            # them (an access, or Redis's randomly sampling expire cycle):
            # reap the expired keys on both first.
            self.both("EXISTS", *FAMILIES["none"])
        if cmd[0].upper() == "XSETID" and len(cmd) > 1:
            self.compare(cmd, *self.both(*cmd))
            self.note_lowered_id(cmd[1])
            return
        trimmed = exact_minid_key(cmd)
        if (trimmed in self.lowered_streams
                and self.aref.cmd("EXISTS", trimmed) == 0):
            self.lowered_streams.discard(trimmed)  # a new stream since
        if trimmed in self.lowered_streams:
            self.compare_types(cmd, *self.both(*cmd))
            self.resync(trimmed)
            return
        lex_key = lex_source(cmd)
        if lex_key is not None and not self.uniform_scores(lex_key):
            # Redis: "if the elements in the sorted set have different
            # scores, the returned elements are unspecified" (and they
            # depend on its skiplist's random levels). Only errors and
            # the reply type are compared; a changed key is resynced.
            self.compare_types(cmd, *self.both(*cmd))
            if cmd[0].upper() in ("ZREMRANGEBYLEX", "ZRANGESTORE"):
                self.resync(cmd[1])
            return
        self.compare(cmd, *self.both(*cmd))

    def compare(self, cmd, mine, ref):
        if not same(cmd, mine, ref):
            raise Divergence("reply to %r\n  mine: %r\n  ref:  %r"
                             % (cmd, mine, ref))
        for key in needs_resync(cmd):
            self.resync(key)
        self.track_lowered(cmd)

    @staticmethod
    def compare_types(cmd, mine, ref):
        """Only errors (their text) and reply types must agree."""
        if (mine if isinstance(mine, RespError) else type(mine)) != (
                ref if isinstance(ref, RespError) else type(ref)):
            raise Divergence("reply to %r\n  mine: %r\n  ref:  %r"
                             % (cmd, mine, ref))

    def note_lowered_id(self, key):
        info = self.aref.cmd("XINFO", "STREAM", key)
        if not isinstance(info, list):
            return
        fields = dict(zip(info[::2], info[1::2]))
        deleted = fields.get(b"max-deleted-entry-id")
        last = fields.get(b"last-generated-id")
        if deleted is not None and last is not None and (
                _stream_id(deleted) > _stream_id(last)):
            self.lowered_streams.add(key)

    def track_lowered(self, cmd):
        """A renamed or copied stream keeps what note_lowered_id saw."""
        name = cmd[0].upper()
        if (name in ("RENAME", "RENAMENX", "COPY") and len(cmd) > 2
                and cmd[1] in self.lowered_streams):
            self.lowered_streams.add(cmd[2])

    def resync(self, key):
        """Makes key on both servers a copy of the reference's."""
        state = dump_key(self.aref, key)
        restore_key(self.amine, key, state)
        restore_key(self.aref, key, state)

    def uniform_scores(self, key):
        r = self.aref.cmd("ZRANGE", key, 0, -1, "WITHSCORES")
        return not isinstance(r, list) or len(set(r[1::2])) <= 1

    def check_keyspace(self):
        mine, ref = dump_keyspace(self.amine), dump_keyspace(self.aref)
        if mine != ref:
            diff = {k: (mine.get(k), ref.get(k))
                    for k in set(mine) | set(ref) if mine.get(k) != ref.get(k)}
            raise Divergence("keyspaces differ after %r: %r"
                             % (self.history[-3:], diff))

    @staticmethod
    def pipelinable(cmd):
        """Whether cmd's reply is compared as it is (see step())."""
        name = cmd[0].upper()
        return (name not in ("SORT", "SORT_RO", "DBSIZE", "XSETID")
                and name not in RANDOM and lex_source(cmd) is None
                and exact_minid_key(cmd) is None and not needs_resync(cmd)
                and not xadd_auto_seq(cmd))

    def step_pipelined(self, cmds):
        self.history.extend(cmds)
        del self.history[:-25]
        mine, ref = self.mine.pipeline(cmds), self.ref.pipeline(cmds)
        for cmd, a, b in zip(cmds, mine, ref):
            self.compare(cmd, a, b)

    def run(self, n):
        batch = []

        def flush():
            if batch:
                self.step_pipelined(batch)
                batch.clear()

        for i in range(n):
            if i % self.repopulate_every == 0:
                flush()
                self.populate()
            cmd = self.generate()
            if self.pipeline and self.pipelinable(cmd):
                batch.append(cmd)
                if len(batch) >= self.pipeline:
                    flush()
            else:
                flush()
                self.step(cmd)
            self.commands += 1
            if (i + 1) % self.check_every == 0:
                flush()
                self.check_keyspace()
        flush()
        self.check_keyspace()

    def context(self):
        return "last commands:\n" + "\n".join(
            "  %r" % (c,) for c in self.history[-10:])


# ---------------------------------------------------------------- hunting

def main():
    import argparse
    import random
    from harness import ServerProcess
    p = argparse.ArgumentParser()
    p.add_argument("--daxkv", required=True)
    p.add_argument("--redis", default="/usr/bin/redis-server")
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--commands", type=int, default=3000)
    p.add_argument("--family", action="append", default=[])
    p.add_argument("--check-every", type=int, default=50)
    p.add_argument("--resp3", action="store_true")
    a = p.parse_args()
    families = a.family or sorted(GRAMMARS)
    # --daxkv /usr/bin/redis-server runs Redis against itself: a check
    # that the normalisation hides all of Redis's own nondeterminism.
    mine_target = "redis" if "redis-server" in a.daxkv else "daxkv"
    mine_srv = ServerProcess(target=mine_target, server=a.daxkv,
                             pool_kind="shm" if mine_target == "daxkv" else "file").start_or_cleanup()
    ref_srv = ServerProcess(target="redis", server=a.redis,
                            pool_kind="file").start_or_cleanup()
    found = {}
    total = 0
    try:
        first = a.seed if a.seed is not None else random.randrange(1 << 30)
        for s in range(first, first + a.seeds):
            if not mine_srv.alive():
                print("daxkv died:\n" + mine_srv.log_tail())
                mine_srv.start()
            mine, ref = mine_srv.client(), ref_srv.client()
            admin = None
            if a.resp3:
                admin = (mine, ref)
                mine, ref = mine_srv.client(), ref_srv.client()
                mine.cmd("HELLO", "3")
                ref.cmd("HELLO", "3")
            f = Fuzzer(mine, ref, random.Random(s), families,
                       check_every=a.check_every, admin=admin)
            try:
                f.run(a.commands)
            except Divergence as e:
                text = "seed %d after %d: %s\n%s" % (s, f.commands, e, f.context())
                name = f.history[-1][0].upper()
                if name not in found:
                    found[name] = text
                    print(text, flush=True)
            except Exception as e:  # noqa: BLE001 - report and carry on
                print("seed %d: %r\n%s" % (s, e, f.context()), flush=True)
            total += f.commands
            mine.close()
            ref.close()
    finally:
        mine_srv.cleanup()
        ref_srv.cleanup()
    print("ran %d commands over %d seeds; %d divergent command names: %s"
          % (total, a.seeds, len(found), sorted(found)))


if __name__ == "__main__":
    main()
