#!/usr/bin/env python3
"""Full-sync time: redis-server replica (the baseline) vs daxkv-server
replica of a redis-server 7.0 master, same data, same run; or, with
--master daxkv, redis-server and daxkv replicas of a daxkv-server master
next to the redis-server -> redis-server baseline.

  replication_bench.py --daxkv PATH [--redis PATH] [--keys 1000000]
                       [--value-size 100] [--repeats 3] [--diskless yes|no]
                       [--pool-kind shm|file] [--master redis|daxkv]
                       [--json OUT]

The master is filled with DEBUG POPULATE (strings of --value-size bytes);
a daxkv master (no DEBUG POPULATE) and, with --master daxkv, the baseline
redis-server master get the same keys and values through redis-cli --pipe.
Each measurement starts a fresh replica process, sends REPLICAOF and times
until the replica reports master_link_status:up with its offset equal to the
master's (for daxkv: its durable, ACKable offset). Prints the medians and the
ratio daxkv / redis. Not a ctest entry: run by hand (loopback, free ports).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402


def time_sync(replica, master):
    r = replica.redis()
    t0 = time.monotonic()
    r.execute_command("REPLICAOF", "127.0.0.1", master.port)
    m = master.redis()
    while True:
        i = r.info("replication")
        off = i.get("daxkv_repl_durable_offset", i.get("slave_repl_offset"))
        # The master's offset moves (its PINGs every 10 s): read it each time.
        master_offset = m.info("replication")["master_repl_offset"]
        if i.get("master_link_status") == "up" and off == master_offset:
            return time.monotonic() - t0
        if time.monotonic() - t0 > 1800:
            raise RuntimeError("sync did not finish:\n" + replica.log_tail())
        time.sleep(0.01)


def populate(master, keys, value_size):
    """DEBUG POPULATE's keys and values ("key:<i>" -> "value:<i>" padded),
    through redis-cli --pipe."""
    def commands():
        for i in range(keys):
            v = ("value:%d" % i).ljust(value_size, "x").encode()
            k = b"key:%d" % i
            yield b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
                len(k), k, len(v), v)
    cli = subprocess.Popen(["redis-cli", "-p", str(master.port), "--pipe"],
                           stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    batch = []
    for c in commands():
        batch.append(c)
        if len(batch) == 10000:
            cli.stdin.write(b"".join(batch))
            batch = []
    cli.stdin.write(b"".join(batch))
    cli.stdin.close()
    if cli.wait() != 0:
        raise RuntimeError("redis-cli --pipe failed")


def daxkv_master_bench(a):
    """Pairs (master kind, replica kind): daxkv -> redis, daxkv -> daxkv,
    and redis -> redis, the baseline, with the same data."""
    results = {"redis->redis": [], "daxkv->redis": [], "daxkv->daxkv": []}
    masters = {}
    try:
        for kind, binary in (("redis", a.redis), ("daxkv", a.daxkv)):
            masters[kind] = harness.ServerProcess(
                target=kind, server=binary, pool_kind=a.pool_kind,
                pool_size=a.pool_size,
                extra_args=(["--repl-diskless-sync", a.diskless,
                             "--repl-diskless-sync-delay", "0"]
                            if kind == "redis" else [])).start_or_cleanup()
            populate(masters[kind], a.keys, a.value_size)
            assert masters[kind].redis().dbsize() == a.keys
        for _ in range(a.repeats):
            for pair in results:
                mk, rk = pair.split("->")
                rep = harness.ServerProcess(
                    target=rk, server=a.redis if rk == "redis" else a.daxkv,
                    pool_kind=a.pool_kind, pool_size=a.pool_size)
                rep.start_or_cleanup()
                try:
                    results[pair].append(time_sync(rep, masters[mk]))
                    assert rep.redis().dbsize() == a.keys, "key count"
                finally:
                    rep.cleanup()
    finally:
        for m in masters.values():
            m.cleanup()
    med = {k: statistics.median(v) for k, v in results.items()}
    print("full sync of %d keys (%d-byte values, pool=%s)"
          % (a.keys, a.value_size, a.pool_kind))
    for k, v in results.items():
        print("  %-13s median %.2f s  runs %s" %
              (k, med[k], " ".join("%.2f" % x for x in v)))
    print("  ratio daxkv->redis / redis->redis: %.2f" %
          (med["daxkv->redis"] / med["redis->redis"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"keys": a.keys, "value_size": a.value_size,
                       "runs": results, "median_s": med}, f, indent=1)
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--daxkv", required=True)
    p.add_argument("--redis", default=shutil.which("redis-server") or "")
    p.add_argument("--keys", type=int, default=1000000)
    p.add_argument("--value-size", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--diskless", choices=["yes", "no"], default="yes")
    p.add_argument("--pool-kind", choices=["shm", "file"], default="shm")
    p.add_argument("--pool-size", default="2G")
    p.add_argument("--master", choices=["redis", "daxkv"], default="redis")
    p.add_argument("--json", default="")
    a = p.parse_args()
    if a.master == "daxkv":
        return daxkv_master_bench(a)
    master = harness.ServerProcess(
        target="redis", server=a.redis,
        extra_args=["--repl-diskless-sync", a.diskless,
                    "--repl-diskless-sync-delay", "0"]).start_or_cleanup()
    results = {"redis": [], "daxkv": []}
    try:
        m = master.redis()
        m.execute_command("DEBUG", "POPULATE", a.keys, "key", a.value_size)
        for _ in range(a.repeats):
            for kind, binary in (("redis", a.redis), ("daxkv", a.daxkv)):
                rep = harness.ServerProcess(target=kind, server=binary,
                                            pool_kind=a.pool_kind,
                                            pool_size=a.pool_size)
                rep.start_or_cleanup()
                try:
                    results[kind].append(time_sync(rep, master))
                    assert rep.redis().dbsize() == a.keys, "key count"
                finally:
                    rep.cleanup()
    finally:
        master.cleanup()
    med = {k: statistics.median(v) for k, v in results.items()}
    print("full sync of %d keys (%d-byte values, diskless=%s, pool=%s)"
          % (a.keys, a.value_size, a.diskless, a.pool_kind))
    for k in ("redis", "daxkv"):
        print("  %-6s replica: median %.2f s  runs %s" %
              (k, med[k], " ".join("%.2f" % x for x in results[k])))
    print("  ratio daxkv/redis: %.2f" % (med["daxkv"] / med["redis"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"keys": a.keys, "value_size": a.value_size,
                       "diskless": a.diskless, "runs": results,
                       "median_s": med}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
