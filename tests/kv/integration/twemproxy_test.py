#!/usr/bin/env python3
"""Scale-out test: examples/twemproxy/nutcracker.yml with three servers.

  twemproxy_test.py --target daxkv|redis --server PATH [--pool-kind shm|file]

Starts three servers and nutcracker on free loopback ports (the example's
config with its ports rewritten), runs redis-benchmark through the proxy
(SET/GET, -n 10000), then checks that keys landed on all three shards, that
keys written through the proxy read back through it, and that each such key
lives on exactly one shard.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77  # ctest SKIP_RETURN_CODE
EXAMPLE = os.path.join(HERE, "..", "..", "..", "examples", "twemproxy",
                       "nutcracker.yml")


def write_config(path, proxy_port, shard_ports):
    with open(EXAMPLE) as f:
        text = f.read()
    text = text.replace("127.0.0.1:22121", "127.0.0.1:%d" % proxy_port)
    for i, port in enumerate(shard_ports, start=1):
        text = re.sub(r"127\.0\.0\.1:700%d:" % i, "127.0.0.1:%d:" % port,
                      text)
    with open(path, "w") as f:
        f.write(text)


def wait_proxy(port, deadline_s=20):
    from harness import RespClient
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with RespClient(port, timeout=2) as c:
                if c.cmd("SET", "proxy-probe", "1") == "OK":
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("nutcracker not answering on %d" % port)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok: " + what, flush=True)


def run(shards, proxy_port):
    from harness import RespClient
    bench = subprocess.run(
        ["redis-benchmark", "-p", str(proxy_port), "-t", "set,get",
         "-n", "10000", "-r", "100000", "-c", "20", "-d", "100", "--csv"],
        capture_output=True, timeout=300)
    out = bench.stdout.decode()
    print(out.strip())
    check(bench.returncode == 0, "redis-benchmark through the proxy exits 0")
    rows = {l.split(",")[0].strip('"'): float(l.split(",")[1].strip('"'))
            for l in out.splitlines()[1:] if l.startswith('"')}
    check(rows.get("SET", 0) > 0 and rows.get("GET", 0) > 0,
          "redis-benchmark reports SET and GET rates")
    sizes = []
    for s in shards:
        with s.client() as c:
            sizes.append(c.cmd("DBSIZE"))
    check(all(n > 0 for n in sizes), "keys on all three shards %s" % sizes)
    with RespClient(proxy_port) as p:
        n = 3000
        replies = p.pipeline([("SET", "tp:%d" % i, "val:%d" % i)
                              for i in range(n)])
        check(replies == ["OK"] * n, "%d SETs through the proxy" % n)
        got = p.pipeline([("GET", "tp:%d" % i) for i in range(n)])
        check(got == [b"val:%d" % i for i in range(n)],
              "%d keys read back through the proxy" % n)
        check(p.cmd("MGET", "tp:1", "tp:2", "nokey") ==
              [b"val:1", b"val:2", None], "MGET split across shards")
    per_shard = []
    for s in shards:
        with s.client() as c:
            per_shard.append(sum(1 for v in c.pipeline(
                [("EXISTS", "tp:%d" % i) for i in range(n)]) if v))
    check(sum(per_shard) == n and min(per_shard) > n // 10,
          "each key on exactly one shard, spread %s" % per_shard)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", choices=["redis", "daxkv"], required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--pool-kind", choices=["shm", "file"], default="shm")
    a = ap.parse_args()
    if not os.access(a.server, os.X_OK):
        print("SKIP: server binary %r not built" % a.server)
        return SKIP
    if not shutil.which("nutcracker"):
        print("SKIP: nutcracker (Debian package) not installed")
        return SKIP
    os.environ["DAXKV_IT_TARGET"] = a.target
    os.environ["DAXKV_IT_SERVER"] = a.server
    os.environ["DAXKV_IT_POOL_KIND"] = a.pool_kind
    sys.path.insert(0, HERE)
    from harness import ServerProcess, free_port
    shards, proxy, tmp = [], None, tempfile.mkdtemp(prefix="daxkv-tp-")
    try:
        shards = [ServerProcess().start() for _ in range(3)]
        proxy_port = free_port()
        conf = os.path.join(tmp, "nutcracker.yml")
        write_config(conf, proxy_port, [s.port for s in shards])
        log = open(os.path.join(tmp, "nutcracker.log"), "wb")
        proxy = subprocess.Popen(
            ["nutcracker", "-c", conf, "-s", str(free_port()),
             "-a", "127.0.0.1"], stdout=log, stderr=subprocess.STDOUT)
        wait_proxy(proxy_port)
        run(shards, proxy_port)
        print("PASS: twemproxy over three %s shards" % a.target)
        return 0
    except AssertionError as e:
        print("FAIL: %s" % e)
        return 1
    finally:
        if proxy is not None:
            proxy.kill()
            proxy.wait()
        for s in shards:
            s.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
