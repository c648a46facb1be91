#!/usr/bin/env python3
"""Abuse suite: hostile, greedy and crashing clients, each case run against
Debian's redis-server (the reference) and daxkv-server, and compared.

  abuse_test.py --daxkv PATH --redis PATH [--case NAME ...]
                [--exclude NAME ...] [--list] [--pool-kind shm|file]

Every case starts its own servers on free loopback ports, runs the same
client behaviour against both, records what each server did (replies,
whether it closed the client, peak anonymous RSS from /proc, ...) and checks
daxkv against its expectation and against Redis's behaviour. A table of both
observations is printed; the exit status is non-zero when a daxkv check
fails (or 77, skipped, when a server binary is missing).

Cases live in abuse_clients.py and abuse_durability.py; each is bounded in
time (the whole suite runs in about a minute).
"""

import argparse
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import abuse_clients  # noqa: E402,F401  (registers its cases)
import abuse_durability  # noqa: E402,F401
from abuse_support import CASES, Servers  # noqa: E402

SKIP = 77


def brief(observation):
    """The observation with long values (per-payload results) elided."""
    out = {}
    for k, v in observation.items():
        r = repr(v)
        out[k] = v if len(r) <= 160 else "<%d items>" % len(v)
    return out


def run_case(servers, name, cls):
    obs = {}
    for target in ("redis", "daxkv"):
        t0 = time.monotonic()
        try:
            obs[target] = cls.run(servers, target)
        except Exception as e:  # a crash of the case is a failure
            obs[target] = {"error": "%s: %s" % (type(e).__name__, e)}
        obs[target]["seconds"] = round(time.monotonic() - t0, 1)
    if "error" in obs["daxkv"]:
        fails = ["daxkv run failed: " + obs["daxkv"]["error"]]
    elif "error" in obs["redis"]:
        fails = ["redis run failed: " + obs["redis"]["error"]]
    else:
        fails = cls.check(obs["redis"], obs["daxkv"])
    return obs, fails


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--daxkv", default="")
    p.add_argument("--redis", default=shutil.which("redis-server") or "")
    p.add_argument("--pool-kind", choices=["shm", "file"], default="shm")
    p.add_argument("--case", action="append", default=[])
    p.add_argument("--exclude", action="append", default=[])
    p.add_argument("--list", action="store_true")
    a = p.parse_args()
    if a.list:
        for name, note, _ in CASES:
            print("%-28s %s" % (name, note))
        return 0
    for what, path in (("daxkv", a.daxkv), ("redis", a.redis)):
        if not path or not os.access(path, os.X_OK):
            print("SKIP: no %s server binary (%r)" % (what, path))
            return SKIP
    servers = Servers({"daxkv": a.daxkv, "redis": a.redis}, a.pool_kind)
    selected = [c for c in CASES if (not a.case or c[0] in a.case) and
                c[0] not in a.exclude]
    unknown = set(a.case + a.exclude) - {c[0] for c in CASES}
    if unknown:
        print("unknown case(s): %s" % ", ".join(sorted(unknown)))
        return 2
    failed = 0
    for name, note, cls in selected:
        print("== %s: %s" % (name, note), flush=True)
        obs, fails = run_case(servers, name, cls)
        for target in ("redis", "daxkv"):
            print("   %-6s %s" % (target, brief(obs[target])), flush=True)
        for f in fails:
            print("   FAIL   " + f, flush=True)
        if not fails:
            print("   ok", flush=True)
        failed += bool(fails)
    print("SUMMARY abuse cases=%d failed=%d" % (len(selected), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
