#!/usr/bin/env python3
"""Side-by-side table of a daxkv-bench JSON run: daxkv vs LMDB and RocksDB
(medians of the repetitions), ratios, and the engine's performance targets
(durable Put and Get per thread, Put vs the peers, recovery time and DRAM
bytes per key; set when the engine was specified, on /dev/shm with forced
cache-line granularity).

Usage: bench/engine/summary.py build/bench/engine.json
"""
import json
import re
import sys

NAME = re.compile(r"^(?P<op>[^/]+)/(?P<engine>[^/]+)/(?P<rest>.*)$")


def medians(path):
    with open(path) as f:
        doc = json.load(f)
    out = {}
    for b in doc["benchmarks"]:
        if b.get("error_occurred"):
            out[b.get("run_name", b["name"])] = {"error": b.get("error_message")}
            continue
        # Medians when repeated; the plain run otherwise.
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        out[b.get("run_name", b["name"])] = b
    return doc.get("context", {}), out


def mops(b, key="items_per_second"):
    return b[key] / 1e6 if b and key in b else None


def cpu_rate(b):
    """M operations per CPU-second of the benchmark threads."""
    if not b or not b.get("cpu_time"):
        return None
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
    return 1e-6 / (b["cpu_time"] * scale)


def fmt(v, width=8, digits=3):
    return f"{v:{width}.{digits}f}" if v is not None else f"{'-':>{width}}"


def ratio(a, b):
    return a / b if a is not None and b else None


def main():
    context, runs = medians(sys.argv[1])
    rows = {}
    for name, b in runs.items():
        m = NAME.match(name)
        if not m:
            continue
        rows.setdefault((m["op"], m["rest"]), {})[m["engine"]] = b
    print(f"daxkv-bench: pool {context.get('daxkv_pool')}, "
          f"PMEM2_FORCE_GRANULARITY={context.get('pmem2_force_granularity')}, "
          f"{context.get('keys')} keys, load average "
          f"{context.get('load_avg')}")
    print()
    # Wall-clock throughput (all threads), daxkv per thread, and daxkv's
    # rate per CPU-second of the calling threads ("cpu"): on a loaded
    # machine the wall numbers include time spent waiting for a core.
    print(f"{'benchmark':<28} {'daxkv':>8} {'/thread':>8} {'cpu':>8} "
          f"{'lmdb':>8} {'rocksdb':>8} {'x lmdb':>7} {'x rocks':>7}"
          "   (M ops/s)")
    for (op, rest), engines in sorted(rows.items()):
        if op == "Recovery":
            continue
        d, l, r = (mops(engines.get(e)) for e in ("daxkv", "lmdb", "rocksdb"))
        per = mops(engines.get("daxkv"), "per_thread")
        print(f"{op + '/' + rest:<28} {fmt(d)} {fmt(per)} "
              f"{fmt(cpu_rate(engines.get('daxkv')))} {fmt(l)} {fmt(r)} "
              f"{fmt(ratio(d, l), 7, 1)} {fmt(ratio(d, r), 7, 1)}")
    print()
    # The whole process's CPU per op, every thread's (background compaction,
    # a peer's flushes and compactions included), and the bytes daxkv's
    # compaction copied per op: where a second writer thread's core goes.
    print(f"{'CPU per op, all threads':<28} {'daxkv':>8} {'lmdb':>8} "
          f"{'rocksdb':>8} {'copied':>8}   (ns; daxkv copied B/op)")
    for (op, rest), engines in sorted(rows.items()):
        if op == "Recovery":
            continue
        cpu = [engines.get(e, {}).get("cpu_ns_per_op")
               for e in ("daxkv", "lmdb", "rocksdb")]
        copied = engines.get("daxkv", {}).get("relocated_bytes_per_op")
        print(f"{op + '/' + rest:<28} {fmt(cpu[0], 8, 0)} {fmt(cpu[1], 8, 0)} "
              f"{fmt(cpu[2], 8, 0)} {fmt(copied, 8, 1)}")
    print()
    for (op, rest), engines in sorted(rows.items()):
        if op != "Recovery":
            continue
        for engine, b in sorted(engines.items()):
            extra = ""
            if "dram_bytes_per_key" in b:
                extra = (f", engine {b['engine_recovery_ms']:.0f} ms, DRAM "
                         f"index {b['dram_bytes_per_key']:.1f} B/key")
            if "recovery_ms" in b:
                print(f"Recovery/{engine}/{rest}: {b['recovery_ms']:.1f} ms"
                      f"{extra}")
    print()
    targets(rows)


def targets(rows):
    def get(op, rest, engine, key="items_per_second"):
        return mops(rows.get((op, rest), {}).get(engine), key)

    checks = []
    for value in ("100", "1024"):
        one = f"value:{value}/threads:1"
        put, get_ = get("Put", one, "daxkv"), get("Get", one, "daxkv")
        checks.append((f"Put/thread >= 2.5 M/s (value {value})", put, 2.5))
        checks.append((f"Get/thread >= 5 M/s (value {value})", get_, 5.0))
        two = get("Put", f"value:{value}/threads:2", "daxkv")
        checks.append((f"Put 1 -> 2 threads >= 1.8x (value {value})",
                       ratio(two, put), 1.8))
        for threads in ("1", "2"):
            rest = f"value:{value}/threads:{threads}"
            d = get("Put", rest, "daxkv")
            checks.append((f"Put >= 5x LMDB ({rest})",
                           ratio(d, get("Put", rest, "lmdb")), 5.0))
            checks.append((f"Put >= 5x RocksDB ({rest})",
                           ratio(d, get("Put", rest, "rocksdb")), 5.0))
            checks.append((f"Get >= 1.5x LMDB ({rest})",
                           ratio(get("Get", rest, "daxkv"),
                                 get("Get", rest, "lmdb")), 1.5))
    for (op, rest), engines in rows.items():
        b = engines.get("daxkv")
        if op == "Recovery" and b and "recovery_ms" in b:
            keys = int(rest.split(":")[1])
            if keys >= 10_000_000:
                checks.append((f"Recovery of {keys} keys <= 1000 ms",
                               -b["recovery_ms"], -1000.0))
            checks.append(("DRAM index <= 32 B/key",
                           -b["dram_bytes_per_key"], -32.0))
    print("targets (engine acceptance, /dev/shm cache-line):")
    for what, got, want in checks:
        if got is None:
            print(f"  {'n/a':<5} {what}")
            continue
        verdict = "PASS" if got >= want else "MISS"
        print(f"  {verdict:<5} {what}: {abs(got):.2f}")


if __name__ == "__main__":
    main()
