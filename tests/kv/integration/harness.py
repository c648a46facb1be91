"""Shared harness for the daxkv-server integration tests.

Every test runs against a real server process on a free loopback port: either
Debian's redis-server (to prove the expectations are real Redis 7.0
behaviour) or daxkv-server (the system under test). The target comes from the
environment, set by run_suite.py:

  DAXKV_IT_TARGET     redis | daxkv
  DAXKV_IT_SERVER     path of the server binary
  DAXKV_IT_POOL_KIND  shm (a /dev/shm pool persisted with cache-line flushes)
                      | file (an ordinary file, msync)
  DAXKV_IT_DAXKV_ARGS extra daxkv-server flags for every daxkv server the
                      tests start (e.g. "--io_engine io_uring")

RespClient is a small RESP2/RESP3 client over a raw socket: it returns error
replies as RespError values (full text, prefix included) instead of raising,
so tests can compare exact Redis error texts.
"""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

TARGET = os.environ.get("DAXKV_IT_TARGET", "redis")
SERVER = os.environ.get("DAXKV_IT_SERVER", shutil.which("redis-server") or "")
if os.sep in SERVER:
    SERVER = os.path.abspath(SERVER)  # servers run with cwd = their data dir
POOL_KIND = os.environ.get("DAXKV_IT_POOL_KIND", "shm")
POOL_SIZE = os.environ.get("DAXKV_IT_POOL_SIZE", "256M")
DAXKV_ARGS = os.environ.get("DAXKV_IT_DAXKV_ARGS", "").split()
START_TIMEOUT_S = 60.0


def is_daxkv():
    return TARGET == "daxkv"


def client_addr(client):
    """The ip:port the server sees `client` at (CLIENT INFO's addr)."""
    info = client.cmd("CLIENT", "INFO").decode()
    return next(f[5:] for f in info.split() if f.startswith("addr="))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RespError:
    """An error reply; compares equal to its full text ("ERR ...")."""

    def __init__(self, text):
        self.text = text

    def __eq__(self, other):
        if isinstance(other, RespError):
            return self.text == other.text
        return self.text == other

    def __hash__(self):
        return hash(self.text)

    def __repr__(self):
        return "RespError(%r)" % self.text


class Push(list):
    """A RESP3 push ('>') frame."""


class Verbatim(bytes):
    """A RESP3 verbatim string ('='); the bytes exclude the 'txt:' prefix."""


def encode_command(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, (int, float)):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class ConnectionClosed(Exception):
    pass


class RespClient:
    """Blocking RESP client. Simple strings decode to str, bulk strings to
    bytes, integers to int, nulls to None, errors to RespError."""

    def __init__(self, port, timeout=60.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, *args):
        self.send_raw(encode_command(args))

    def cmd(self, *args):
        self.send(*args)
        return self.read()

    def pipeline(self, commands):
        self.send_raw(b"".join(encode_command(c) for c in commands))
        return [self.read() for _ in commands]

    def _fill(self):
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionClosed("server closed the connection")
        self.buf += data

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return None
            items = [self.read() for _ in range(n)]
            if kind == b"~":
                return set(items)
            return Push(items) if kind == b">" else items
        if kind == b"%":
            n = int(rest)
            return {self._key(self.read()): self.read() for _ in range(n)}
        if kind == b"_":
            return None
        if kind == b",":
            return float(rest)
        if kind == b"#":
            return rest == b"t"
        if kind == b"(":
            return int(rest)
        if kind == b"=":
            return Verbatim(self._exact(int(rest))[4:])
        if kind == b"|":
            n = int(rest)
            for _ in range(2 * n):
                self.read()
            return self.read()
        raise AssertionError("bad reply type byte in %r" % line)

    @staticmethod
    def _key(k):
        return k.decode() if isinstance(k, bytes) else k

    def read_until_closed(self, timeout=5.0):
        """Returns all bytes the server sends until it closes the socket."""
        self.sock.settimeout(timeout)
        data = self.buf
        self.buf = b""
        while True:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                return data
            data += chunk


class ServerProcess:
    """One server process (redis-server or daxkv-server) with its own data
    directory; restartable on the same data (pool or AOF)."""

    def __init__(self, persistent=False, requirepass=None, extra_args=None,
                 port=None, pool_kind=None, pool_size=None, target=None,
                 server=None, debug_command="yes"):
        # target/server default to the suite's (DAXKV_IT_TARGET/SERVER);
        # the abuse suite runs both kinds side by side.
        self.target = target or TARGET
        self.binary = server or SERVER
        if os.sep in self.binary:
            self.binary = os.path.abspath(self.binary)
        self.port = port or free_port()
        self.persistent = persistent
        self.requirepass = requirepass
        self.extra_args = list(extra_args or [])
        # enable-debug-command; None = the server's default ("no").
        self.debug_command = debug_command
        self.pool_kind = pool_kind or POOL_KIND
        self.pool_size = pool_size or POOL_SIZE
        parent = "/dev/shm" if self.pool_kind == "shm" else None
        self.dir = tempfile.mkdtemp(prefix="daxkv-it-", dir=parent)
        _UNCLEANED.add(self)
        self.proc = None
        self.log_path = os.path.join(self.dir, "server.log")
        self.starts = 0

    def is_daxkv(self):
        return self.target == "daxkv"

    def command_line(self):
        if self.is_daxkv():
            args = [self.binary, "--pool", os.path.join(self.dir, "daxkv.pool"),
                    "--pool_size", self.pool_size, "--port", str(self.port),
                    "--bind", "127.0.0.1", "--threads", "2"]
            if self.requirepass:
                args += ["--requirepass", self.requirepass]
            if self.debug_command:
                args += ["--enable_debug_command", self.debug_command]
            return args + DAXKV_ARGS + self.extra_args
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--save", "", "--daemonize", "no",
                "--logfile", "", "--protected-mode", "no"]
        if self.debug_command:
            args += ["--enable-debug-command", self.debug_command]
        if self.persistent:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        if self.requirepass:
            args += ["--requirepass", self.requirepass]
        return args + self.extra_args

    def start_or_cleanup(self):
        """start(), removing the data directory if the server fails to."""
        try:
            return self.start()
        except Exception:
            self.cleanup()
            raise

    def start(self):
        env = dict(os.environ)
        if self.pool_kind == "shm":
            env["PMEM2_FORCE_GRANULARITY"] = "CACHE_LINE"
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command_line(), stdout=log,
                                     stderr=subprocess.STDOUT, env=env,
                                     cwd=self.dir)
        log.close()
        self.starts += 1
        self.wait_ready()
        return self

    def wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %s during start-up:\n%s"
                                   % (self.proc.returncode, self.log_tail()))
            try:
                with RespClient(self.port, timeout=2.0) as c:
                    reply = c.cmd("PING")
                    if reply == "PONG" or (isinstance(reply, RespError) and
                                           reply.text.startswith("NOAUTH")):
                        return
            except (OSError, ConnectionClosed):
                pass
            time.sleep(0.05)
        raise RuntimeError("server not ready after %.0fs:\n%s"
                           % (START_TIMEOUT_S, self.log_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        """Stops the process; returns its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("server ignored signal %d for %.0fs"
                                   % (sig, timeout))
        rc = self.proc.returncode
        self.proc = None
        return rc

    def rss_anon_kb(self):
        """Anonymous resident memory of the process (heap, buffers): what a
        client can make the server allocate, without the mapped pool."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
        raise AssertionError("no RssAnon in /proc/%d/status" % self.proc.pid)

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def restart(self, sig=signal.SIGTERM):
        self.stop(sig)
        return self.start()

    def client(self, **kw):
        return RespClient(self.port, **kw)

    def redis(self, **kw):
        import redis  # python3-redis from Debian
        return redis.Redis(host="127.0.0.1", port=self.port,
                           password=self.requirepass, **kw)

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return "(no log)"

    def cleanup(self):
        if self.proc is not None:
            try:
                self.stop(signal.SIGKILL)
            except RuntimeError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
        _UNCLEANED.discard(self)


# Servers whose test never called cleanup() (a failure between start and
# tearDown, a helper that forgot): killed and their directories removed
# at exit, or each run would leave pools of up to a few hundred MiB in
# /dev/shm.
_UNCLEANED = set()


@atexit.register
def _cleanup_leftovers():
    for server in list(_UNCLEANED):
        server.cleanup()


class ServerTestCase(unittest.TestCase):
    """One server per test class; every test starts on an empty keyspace.
    If a test crashes the server, the next test gets a fresh one (and the
    crash is reported as that test's failure)."""

    server_kwargs = {}

    @classmethod
    def setUpClass(cls):
        cls.server = ServerProcess(**cls.server_kwargs).start_or_cleanup()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def setUp(self):
        if not self.server.alive():
            self.server.start()
        self.c = self.server.client()
        if self.server.requirepass:
            self.c.cmd("AUTH", self.server.requirepass)
        self.assertEqual(self.c.cmd("FLUSHALL"), "OK")

    def tearDown(self):
        self.c.close()
        if not self.server.alive():
            log = self.server.log_tail()
            self.server.proc = None
            self.fail("server died during the test:\n" + log)

    def exec_after_other_writes(self, key, other_cmd, queued=("PING",)):
        """WATCH key, let a second connection run other_cmd, then MULTI,
        queue one command and return the EXEC reply (None = aborted)."""
        self.assertEqual(self.c.cmd("WATCH", key), "OK")
        with self.server.client() as other:
            if self.server.requirepass:
                other.cmd("AUTH", self.server.requirepass)
            other.cmd(*other_cmd)
        self.assertEqual(self.c.cmd("MULTI"), "OK")
        self.assertEqual(self.c.cmd(*queued), "QUEUED")
        return self.c.cmd("EXEC")

    def expect_closed_with(self, payload, text):
        """A fresh connection sends payload; the server must answer exactly
        text and close it, while other connections carry on."""
        with self.server.client() as c:
            c.send_raw(payload)
            self.assertEqual(c.read_until_closed(), text)
        self.assertEqual(self.c.cmd("PING"), "PONG")

    def assertErr(self, reply, text):
        self.assertIsInstance(reply, RespError, "expected error %r" % text)
        self.assertEqual(reply.text, text)

    def assertErrPrefix(self, reply, prefix):
        self.assertIsInstance(reply, RespError, "expected error %r" % prefix)
        self.assertTrue(reply.text.startswith(prefix), reply.text)
