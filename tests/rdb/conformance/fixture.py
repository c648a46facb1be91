"""Shared pieces of the RDB conformance tests: a redis-server on a free
loopback port, the rdb_tool co-process, and a Python model of Redis values
to compare them in.

Model of a value: ("string", bytes) | ("list", [bytes]) | ("set", [bytes]
sorted) | ("hash", [(field, value)] sorted) | ("zset", [(member, score)]
sorted by member). Scores are floats (inf allowed).
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import redis

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_CHECK_RDB = shutil.which("redis-check-rdb") or "/usr/bin/redis-check-rdb"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """redis-server in its own temp dir; stop() removes both."""

    def __init__(self, *extra, directory=None, dbfilename="dump.rdb"):
        self.dir = directory or tempfile.mkdtemp(prefix="daxkv-rdb-it-")
        self.port = free_port()
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--dbfilename", dbfilename, "--enable-debug-command", "yes",
                "--logfile", os.path.join(self.dir, "redis.log")]
        args += [str(a) for a in extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.client = redis.Redis(port=self.port, socket_timeout=120)
        deadline = time.time() + 30
        while True:
            try:
                if self.client.ping():
                    break
            except redis.exceptions.BusyLoadingError:
                pass
            except redis.exceptions.ConnectionError:
                if self.proc.poll() is not None:
                    raise RuntimeError("redis-server exited: " + self.log())
            if time.time() > deadline:
                raise RuntimeError("redis-server did not start: " + self.log())
            time.sleep(0.05)

    def log(self):
        try:
            with open(os.path.join(self.dir, "redis.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def stop(self, remove=True):
        if self.proc.poll() is None:
            try:
                self.client.shutdown(nosave=True)
            except redis.exceptions.ConnectionError:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)


class Tool:
    """rdb_tool as a JSON-lines co-process."""

    def __init__(self, path):
        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def call(self, **request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("rdb_tool died")
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _score(text):
    return float(text)


def _fmt_score(x):
    if x == float("inf"):
        return "inf"
    if x == float("-inf"):
        return "-inf"
    return repr(float(x))


def from_tool(v):
    """Tool JSON value -> model."""
    t = v["type"]
    h = bytes.fromhex
    if t == "string":
        return ("string", h(v["value"]))
    if t == "list":
        return ("list", [h(e) for e in v["elements"]])
    if t == "set":
        return ("set", sorted(h(e) for e in v["members"]))
    if t == "hash":
        return ("hash", sorted((h(f), h(x)) for f, x in v["fields"]))
    return ("zset", sorted((h(m), _score(s)) for m, s in v["entries"]))


def to_tool(model, keep_order=None):
    """Model -> tool JSON value. keep_order: the original element order for
    sets, hashes, zsets (the tool's decode order), else model order."""
    t, data = model
    items = keep_order if keep_order is not None else data
    if t == "string":
        return {"type": "string", "value": data.hex()}
    if t == "list":
        return {"type": "list", "elements": [e.hex() for e in data]}
    if t == "set":
        return {"type": "set", "members": [e.hex() for e in items]}
    if t == "hash":
        return {"type": "hash", "fields": [[f.hex(), v.hex()] for f, v in items]}
    return {"type": "zset",
            "entries": [[m.hex(), _fmt_score(s)] for m, s in items]}


def read_back(r, key):
    """The model of `key` as redis-server's commands report it."""
    t = r.type(key).decode()
    if t == "string":
        return ("string", r.get(key))
    if t == "list":
        return ("list", r.lrange(key, 0, -1))
    if t == "set":
        return ("set", sorted(r.smembers(key)))
    if t == "hash":
        return ("hash", sorted(r.hgetall(key).items()))
    if t == "zset":
        return ("zset", sorted((m, float(s)) for m, s in
                               r.zrange(key, 0, -1, withscores=True)))
    return (t, None)
