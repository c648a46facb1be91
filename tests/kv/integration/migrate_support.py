"""What test_migrate.py shares: the targets (redis-server and
daxkv-server, plain and with requirepass, started once per module), fake
targets (silent, slow), the keys of every type it moves, and MigrateBase,
which runs a scenario from both sources and compares their reply logs."""

import os
import shutil
import socket
import threading
import time
import unittest

from differential import PeerTestCase
from harness import SERVER, ServerProcess, is_daxkv

HERE = os.path.dirname(os.path.abspath(__file__))
BUSY = ("ERR Target instance replied with error: BUSYKEY Target key name "
        "already exists.")
NOAUTH = "ERR Target instance replied with error: NOAUTH Authentication required."
WRONGPASS = ("ERR Target instance replied with error: WRONGPASS invalid "
             "username-password pair or user is disabled.")
WRITING = "IOERR error or timeout writing to target instance"
READING = "IOERR error or timeout reading to target instance"
CONNECTING = "IOERR error or timeout connecting to the client"
PASS = "s3cret"


def daxkv_binary():
    if is_daxkv():
        return SERVER
    path = os.environ.get("DAXKV_IT_DAXKV_SERVER") or os.path.join(
        HERE, "..", "..", "..", "build", "bin", "daxkv-server")
    return os.path.abspath(path) if os.access(path, os.X_OK) else None


def value_of(c, key, db=None):
    """(type, contents) of key, read in a fixed order."""
    t = c.cmd("TYPE", key)
    read = {"string": ("GET", key), "list": ("LRANGE", key, 0, -1),
            "set": ("SMEMBERS", key), "hash": ("HGETALL", key),
            "zset": ("ZRANGE", key, 0, -1, "WITHSCORES"),
            "stream": ("XRANGE", key, "-", "+")}.get(t)
    if read is None:
        return (t, None)
    v = c.cmd(*read)
    if t == "set":
        v = sorted(v)
    elif t == "hash":
        v = sorted(zip(v[::2], v[1::2]))
    return (t, v)


# Every type, some with a TTL (ms) and some without.
POPULATE = [
    (("SET", "str", "hello"), 100000),
    (("SET", "num", "12345"), None),
    (("HSET", "hash", "f1", "v1", "f2", "22"), 200000),
    (("HSET", "bighash") + tuple(
        x for i in range(300) for x in ("f%d" % i, "v" * 80)), None),
    (("RPUSH", "list", "a", "b", "c", "1", "x" * 100), 300000),
    (("SADD", "set", "a", "b", "c"), None),
    (("SADD", "iset", 1, 2, 3, -70000), 400000),
    (("ZADD", "zset", 1, "a", 2.5, "b", "-inf", "c"), 500000),
    (("XADD", "stream", "1-1", "f", "v"), 600000),
    (("XADD", "stream", "2-0", "g", "w"), None),
]
KEYS = ["str", "num", "hash", "bighash", "list", "set", "iset", "zset",
        "stream"]


def populate(c):
    for cmd, ttl in POPULATE:
        c.cmd(*cmd)
        if ttl:
            c.cmd("PEXPIRE", cmd[1], ttl)


def raw_reply(c, *cmd):
    """The reply's bytes (RESP3 sets of maps do not parse into Python)."""
    c.send(*cmd)
    c.send("PING")
    while not c.buf.endswith(b"+PONG\r\n"):
        c._fill()
    data, c.buf = c.buf[:-len(b"+PONG\r\n")], b""
    return data


class SilentServer:
    """Accepts connections, reads everything, never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self._accepted(conn)

    def _accepted(self, conn):
        """Called for each accepted connection (here: left unanswered)."""

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


class SlowOkServer(SilentServer):
    """Answers +OK to every command of a request, `delay` s after it."""

    def __init__(self, delay):
        self.delay = delay
        super().__init__()

    def _accepted(self, conn):
        threading.Thread(target=self._answer, args=(conn,),
                         daemon=True).start()

    def _answer(self, conn):
        while True:
            try:
                data = conn.recv(1 << 16)
                if not data:
                    return
                time.sleep(self.delay)
                conn.setblocking(False)
                try:
                    data += conn.recv(1 << 20)
                except BlockingIOError:
                    pass
                conn.setblocking(True)
                n = sum(data.count(b"\r\n%s\r\n" % w) for w in
                        (b"$7\r\nRESTORE", b"$6\r\nSELECT", b"$4\r\nAUTH"))
                conn.sendall(b"+OK\r\n" * n)
            except OSError:
                return


TARGETS = {}


def start_targets():
    """The targets, shared by every class: redis-server and daxkv-server,
    each plain and with requirepass."""
    binary = daxkv_binary()
    if not binary:
        raise unittest.SkipTest("no daxkv-server binary for the targets")
    redis = shutil.which("redis-server")
    if not redis:
        raise unittest.SkipTest("no redis-server for the targets")
    try:
        for name, kw in [
                ("redis", dict(target="redis", server=redis)),
                ("redis_auth", dict(target="redis", server=redis,
                                    requirepass=PASS)),
                ("daxkv", dict(target="daxkv", server=binary)),
                ("daxkv_auth", dict(target="daxkv", server=binary,
                                    requirepass=PASS))]:
            TARGETS[name] = ServerProcess(
                pool_kind="shm", pool_size="64M", **kw).start_or_cleanup()
    except Exception:
        stop_targets()
        raise


def stop_targets():
    for t in TARGETS.values():
        t.cleanup()
    TARGETS.clear()


class MigrateBase(PeerTestCase):
    """self.c (the server under test) and self.ref (a reference
    redis-server) are the two sources; TARGETS are where they migrate."""

    targets = TARGETS

    def target(self, name):
        t = self.targets[name]
        c = t.client()
        self.addCleanup(c.close)
        if t.requirepass:
            c.cmd("AUTH", t.requirepass)
        return c

    def flush_targets(self):
        for name in self.targets:
            c = self.target(name)
            for db in ((0, 1) if name.startswith("redis") else (0,)):
                c.cmd("SELECT", db)
                c.cmd("FLUSHDB")

    def sources(self, scenario):
        """Runs scenario(src) from both sources on fresh targets; their
        reply logs must be equal. Returns the log."""
        logs = []
        for src in (self.c, self.ref):
            src.cmd("FLUSHALL")
            self.flush_targets()
            logs.append(scenario(src))
        self.assertEqual(logs[0], logs[1], "daxkv vs redis source")
        return logs[0]

    def migrate(self, src, target, key, *opts, db=0, timeout=5000):
        port = (self.targets[target].port if target in self.targets
                else target)
        return src.cmd("MIGRATE", "127.0.0.1", port, key, db, timeout, *opts)
