"""The keys the conformance tests put into redis-server: every type at each
encoding boundary of Redis 7.0's defaults (hash listpacks of 512 entries,
sorted-set listpacks of 128, 64-byte elements for both,
intset 512 members of each width, quicklist nodes of 8 KiB), integer-like
and binary strings, strings long enough for LZF, +-inf scores.

populate(r) writes them with ordinary commands and returns
{key: (model, canonical)}: canonical is True when Redis's DUMP bytes depend
only on the contents and on insertion order (so daxkv's encoder must
reproduce them byte for byte with rdbcompression off).
"""

import random

INF = float("inf")

STRINGS = {
    b"s:empty": b"", b"s:0": b"0", b"s:-1": b"-1", b"s:127": b"127",
    b"s:128": b"128", b"s:-128": b"-128", b"s:-129": b"-129",
    b"s:32767": b"32767", b"s:32768": b"32768", b"s:-32768": b"-32768",
    b"s:-32769": b"-32769", b"s:2147483647": b"2147483647",
    b"s:2147483648": b"2147483648", b"s:-2147483648": b"-2147483648",
    b"s:-2147483649": b"-2147483649", b"s:i64max": b"9223372036854775807",
    b"s:i64min": b"-9223372036854775808", b"s:overflow": b"9223372036854775808",
    b"s:lead0": b"007", b"s:plus": b"+1", b"s:space": b" 1", b"s:neg0": b"-0",
    b"s:float": b"1.5", b"s:12digits": b"123456789012",
    b"s:bin": bytes(range(256)), b"s:20": b"a" * 20, b"s:21": b"a" * 21,
}

INT_WIDTHS = [b"0", b"127", b"128", b"-1", b"-4096", b"4095", b"4096",
              b"-32768", b"32767", b"32768", b"8388607", b"-8388608",
              b"8388608", b"2147483647", b"-2147483648", b"2147483648",
              b"9223372036854775807", b"-9223372036854775808"]

SCORES = [0.0, 1.5, 0.1, 1e20, -1e-300, INF, -INF, 2.0 ** 53,
          4503599627370496.0, 4503599627370495.0, 1 / 3, -2.5, 123456789.0]


def _rand_bytes(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def populate(r, seed=1):
    rng = random.Random(seed)
    out = {}

    def add(key, model, canonical=True):
        out[key] = (model, canonical)

    for k, v in STRINGS.items():
        r.set(k, v)
        add(k, ("string", v))
    big_comp = b"abc" * 350000
    big_rand = _rand_bytes(rng, 1 << 20)
    r.set(b"s:1m_comp", big_comp)
    add(b"s:1m_comp", ("string", big_comp))
    r.set(b"s:1m_rand", big_rand)
    add(b"s:1m_rand", ("string", big_rand))

    lists = {
        b"l:small": [b"a", b"1", b""],
        b"l:ints": INT_WIDTHS,
        b"l:strs": [b"x" * n for n in (63, 64, 4095, 4096, 70000)],
        b"l:many": [str(i).encode() * (1 + i % 5) for i in range(20000)],
        b"l:bigelems": [_rand_bytes(rng, 10000) for _ in range(30)],
        b"l:bin": [_rand_bytes(rng, rng.randrange(0, 300)) for _ in range(200)],
    }
    for k, elements in lists.items():
        for i in range(0, len(elements), 1000):
            r.rpush(k, *elements[i:i + 1000])
        add(k, ("list", elements))
    lp = [str(i).encode() * 3 for i in range(5000)]
    for e in lp:
        r.lpush(b"l:lpush", e)
    add(b"l:lpush", ("list", lp[::-1]), canonical=False)  # head-filled nodes

    sets = {
        b"set:i16": ([b"-32768", b"5", b"32767"], True),
        b"set:i32": ([b"1", b"-2147483648", b"70000"], True),
        b"set:i64": ([b"-1", b"9223372036854775807", b"-9223372036854775808"], True),
        b"set:512": ([str(i * 7 - 1000).encode() for i in range(512)], True),
        b"set:513": ([str(i).encode() for i in range(513)], False),
        b"set:str": ([b"a", b"b", b"c"], False),
        b"set:mixed": ([b"1", b"x"], False),
        b"set:neg0": ([b"-0", b"0"], False),
        b"set:big": (list({_rand_bytes(rng, 12) for _ in range(5000)}), False),
    }
    for k, (members, canonical) in sets.items():
        shuffled = members[:]
        rng.shuffle(shuffled)
        r.sadd(k, *shuffled)
        add(k, ("set", sorted(members)), canonical)

    def hash_of(n, flen=4, vlen=4):
        return [((b"f%d" % i).ljust(flen, b"."), (b"v%d" % i).ljust(vlen, b"."))
                for i in range(n)]
    hashes = {
        b"h:small": ([(b"f1", b"v1"), (b"12", b"-3"), (b"", b"")], True),
        b"h:512": (hash_of(512), True),
        b"h:513": (hash_of(513), False),
        b"h:v64": (hash_of(3, vlen=64), True),
        b"h:v65": (hash_of(3, vlen=65), False),
        b"h:f65": (hash_of(3, flen=65), False),
        b"h:ints": ([(w, w) for w in INT_WIDTHS], True),
        b"h:big": (hash_of(3000), False),
        b"h:bin": ([(_rand_bytes(rng, 10), _rand_bytes(rng, 30))
                    for _ in range(50)], True),
    }
    for k, (pairs, canonical) in hashes.items():
        for f, v in pairs:  # one HSET each: listpack order is insertion order
            r.hset(k, f, v)
        add(k, ("hash", sorted(pairs)), canonical)

    def zset_of(n, mlen=4):
        return [((b"m%d" % i).ljust(mlen, b"."), float(i % 17) - 8.5)
                for i in range(n)]
    zsets = {
        b"z:small": [(b"a", 1.0)],
        b"z:scores": [(b"m%d" % i, s) for i, s in enumerate(SCORES)],
        b"z:128": zset_of(128), b"z:129": zset_of(129),
        b"z:m64": zset_of(3, 64), b"z:m65": zset_of(3, 65),
        b"z:big": [(b"r%d" % i, rng.uniform(-1e6, 1e6)) for i in range(3000)],
        b"z:ties": list({_rand_bytes(rng, 5): 1.0 for _ in range(300)}.items()),
        b"z:infbig": [(b"i%d" % i, (INF, -INF, float(i))[i % 3])
                      for i in range(200)],
    }
    for k, entries in zsets.items():
        r.zadd(k, dict(entries))
        add(k, ("zset", sorted(entries)))
    return out
