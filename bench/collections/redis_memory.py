#!/usr/bin/env python3
"""Redis's DRAM per collection element, measured: the baseline of issue 14's
memory goal (daxkv's DRAM per element must be at most half of it).

Starts Debian's redis-server (no persistence) on a free loopback port, loads
each shape (type x collections x elements per collection) into an empty
server and reports (used_memory after - used_memory before) / elements from
INFO memory, plus the encoding Redis chose (OBJECT ENCODING). Elements are
small strings shaped like a job queue's or a cache's: field "f:%07d" with a
value "v:%06d" (hash), member "m:%07d" (set, zset with an integer score),
element "e:%07d" (list), and small integers ("intset": set members 0..99).
JSON on stdout (or --out).

Usage: redis_memory.py [--server redis-server] [--out FILE] [--quick]
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SHAPES = [  # (type, collections, elements per collection)
    ("hash", 100000, 100), ("hash", 10, 100000),
    ("list", 100000, 100), ("list", 10, 100000),
    ("set", 100000, 100), ("set", 10, 100000),
    ("zset", 100000, 100), ("zset", 10, 100000),
    # Small integer members: Redis's intset, its most compact encoding.
    ("intset", 100000, 100),
]
QUICK_SHAPES = [(t, c // 10, n) for (t, c, n) in SHAPES]


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind in (b"+", b":"):
            return rest
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(1 << 20)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise RuntimeError("unexpected reply %r" % line)

    def pipeline(self, commands):
        self.sock.sendall(b"".join(commands))
        for _ in commands:
            self.reply()

    def call(self, *args):
        self.sock.sendall(encode(*args))
        return self.reply()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def used_memory(conn):
    info = conn.call("INFO", "memory").decode()
    for line in info.splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    raise RuntimeError("INFO memory has no used_memory")


def load_command(kind, key, lo, hi):
    if kind == "hash":
        args = ["HSET", key]
        for i in range(lo, hi):
            args += ["f:%07d" % i, "v:%06d" % (i % 1000000)]
    elif kind == "list":
        args = ["RPUSH", key] + ["e:%07d" % i for i in range(lo, hi)]
    elif kind == "set":
        args = ["SADD", key] + ["m:%07d" % i for i in range(lo, hi)]
    elif kind == "intset":
        args = ["SADD", key] + [str(i) for i in range(lo, hi)]
    else:
        args = ["ZADD", key]
        for i in range(lo, hi):
            args += [str(i), "m:%07d" % i]
    return encode(*args)


def measure(conn, kind, collections, per):
    conn.call("FLUSHALL")
    time.sleep(0.2)  # lazyfree of the previous shape
    before = used_memory(conn)
    batch = []
    step = min(per, 1000)
    for c in range(collections):
        key = "%s:%07d" % (kind, c)
        for lo in range(0, per, step):
            batch.append(load_command(kind, key, lo, min(per, lo + step)))
            if len(batch) >= 64:
                conn.pipeline(batch)
                batch = []
    if batch:
        conn.pipeline(batch)
    after = used_memory(conn)
    enc = conn.call("OBJECT", "ENCODING", "%s:%07d" % (kind, 0)).decode()
    elements = collections * per
    return {
        "type": kind, "collections": collections, "elements_per": per,
        "elements": elements, "encoding": enc,
        "used_memory_delta": after - before,
        "bytes_per_element": (after - before) / elements,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default=shutil.which("redis-server"))
    ap.add_argument("--out")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if not args.server:
        print("SKIP: redis-server not installed", file=sys.stderr)
        return 0
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="redis-mem-")
    proc = subprocess.Popen(
        [args.server, "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                conn = Conn(port)
                conn.call("PING")
                break
            except OSError:
                time.sleep(0.05)
        version = conn.call("INFO", "server").decode()
        version = [l for l in version.splitlines()
                   if l.startswith("redis_version:")][0].split(":")[1]
        results = [measure(conn, *s)
                   for s in (QUICK_SHAPES if args.quick else SHAPES)]
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    doc = {"redis_version": version, "results": results}
    text = json.dumps(doc, indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
