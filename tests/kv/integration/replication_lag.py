#!/usr/bin/env python3
"""Replication lag under load: redis-benchmark (SET, -P 16) writes to a
master for --seconds while a replica follows; the master's offset minus the
replica's is sampled every 50 ms. For a daxkv replica its offset is the
durable one it ACKs (daxkv_repl_durable_offset), for redis-server the one
it applied in memory. Reports, per (master -> replica) pair, the median and
maximum lag in bytes during the load and the catch-up time after it (load
stop to offsets equal). The redis -> redis pair is the baseline, measured
in the same run. Not a ctest entry: run by hand (loopback, free ports).

  replication_lag.py --daxkv PATH [--redis PATH] [--seconds 10]
                     [--pairs redis->redis,redis->daxkv,daxkv->redis,...]
                     [--repeats 3] [--json OUT]
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
import os

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402

DEFAULT_PAIRS = "redis->redis,redis->daxkv,daxkv->redis,daxkv->daxkv"


def replica_offset(r):
    i = r.info("replication")
    return i.get("daxkv_repl_durable_offset", i.get("slave_repl_offset", 0))


def wait_linked(m, r, timeout=60):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        i = r.info("replication")
        if (i.get("master_link_status") == "up" and
                replica_offset(r) == m.info("replication")["master_repl_offset"]):
            return
        time.sleep(0.05)
    raise RuntimeError("replica did not link up")


def one_run(a, master_kind, replica_kind):
    binary = {"redis": a.redis, "daxkv": a.daxkv}
    procs = []
    try:
        for kind in (master_kind, replica_kind):
            p = harness.ServerProcess(target=kind, server=binary[kind],
                                      pool_kind="shm", pool_size="2G")
            p.start_or_cleanup()
            procs.append(p)
        master, replica = procs
        m, r = master.redis(), replica.redis()
        r.execute_command("REPLICAOF", "127.0.0.1", master.port)
        wait_linked(m, r)
        bench = subprocess.Popen(
            ["redis-benchmark", "-p", str(master.port), "-t", "set", "-P",
             "16", "-c", "50", "-d", "100", "-r", "1000000", "-n",
             "100000000", "-q"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        lags = []
        t_end = time.monotonic() + a.seconds
        while time.monotonic() < t_end:
            mo = m.info("replication")["master_repl_offset"]
            lags.append(max(0, mo - replica_offset(r)))
            time.sleep(0.05)
        bench.kill()
        bench.wait()
        t_stop = time.monotonic()
        target = m.info("replication")["master_repl_offset"]
        while replica_offset(r) < target:
            if time.monotonic() - t_stop > 120:
                raise RuntimeError("replica did not catch up")
            time.sleep(0.005)
            target = m.info("replication")["master_repl_offset"]
        catch_up = time.monotonic() - t_stop
        written = target
        return {"lag_median_bytes": statistics.median(lags),
                "lag_max_bytes": max(lags), "catch_up_s": catch_up,
                "stream_bytes": written}
    finally:
        for p in procs:
            p.cleanup()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--daxkv", required=True)
    p.add_argument("--redis", default=shutil.which("redis-server") or "")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--pairs", default=DEFAULT_PAIRS)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", default="")
    a = p.parse_args()
    pairs = a.pairs.split(",")
    runs = {pair: [] for pair in pairs}
    for _ in range(a.repeats):  # alternating rounds
        for pair in pairs:
            mk, rk = pair.split("->")
            runs[pair].append(one_run(a, mk, rk))
    print("replication lag under redis-benchmark SET -P 16 -c 50 -d 100, "
          "%.0f s per run, medians of %d runs" % (a.seconds, a.repeats))
    summary = {}
    for pair, rs in runs.items():
        s = {k: statistics.median(x[k] for x in rs) for k in rs[0]}
        summary[pair] = s
        print("  %-14s lag median %6.2f MB  max %6.2f MB  catch-up %.2f s  "
              "stream %.0f MB" % (pair, s["lag_median_bytes"] / 1e6,
                                  s["lag_max_bytes"] / 1e6, s["catch_up_s"],
                                  s["stream_bytes"] / 1e6))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"runs": runs, "median": summary}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
