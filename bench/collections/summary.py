#!/usr/bin/env python3
"""DRAM bytes per collection element: daxkv's structures (daxkv-coll-bench
JSON, Memory/*) and its whole engine (EngineMemory/*: the heap the DB grew
by, every table and object included) next to redis-server's used_memory
(redis_memory.py JSON), for the same shapes and elements, with issue 14's
goal (at most half of Redis).

Usage: bench/collections/summary.py COLL_BENCH.json REDIS_MEMORY.json
"""
import json
import re
import sys

NAME = re.compile(r"^(?P<kind>Memory|EngineMemory)/(?P<type>\w+)/"
                  r"collections:(?P<c>\d+)/per:(?P<p>\d+)")


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        ours = json.load(f)
    with open(sys.argv[2]) as f:
        redis = json.load(f)
    theirs = {(r["type"], r["collections"], r["elements_per"]): r
              for r in redis["results"]}
    print("%-7s %9s %8s | %-10s %9s | %9s %9s %7s  %s" % (
        "type", "colls", "per", "redis enc", "redis B", "daxkv B",
        "(+coll)", "ratio", "goal <= 0.5"))
    failed = 0
    for b in ours["benchmarks"]:
        m = NAME.match(b["name"])
        if not m:
            continue
        key = (m["type"], int(m["c"]), int(m["p"]))
        r = theirs.get(key)
        engine = m["kind"] == "EngineMemory"
        total = b["heap_bytes_per_element" if engine else
                  "total_bytes_per_element"]
        label = key[0] + ("*" if engine else "")
        if r is None:
            print("%-7s %9s %8s | (no Redis figure)" % (label,) + key[1:])
            continue
        ratio = total / r["bytes_per_element"]
        ok = ratio <= 0.5
        failed += not ok
        print("%-7s %9d %8d | %-10s %9.1f | %9.2f %9.2f %7.2f  %s" % (
            label, key[1], key[2], r["encoding"], r["bytes_per_element"],
            b["heap_bytes_per_element"], total, ratio, "yes" if ok else "NO"))
    print("redis %s; daxkv B = heap per element of the structures, "
          "(+coll) adds the per-collection objects; * = the whole engine's "
          "heap growth (both columns)" % redis["redis_version"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
