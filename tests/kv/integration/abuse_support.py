"""Shared pieces of the abuse suite (abuse_test.py): the case registry,
server start-up per kind, peak RSS sampling and raw-socket helpers."""

import resource
import select
import socket
import threading
import time

from harness import ServerProcess

MB = 1 << 20

CASES = []


def case(name, note=""):
    """Registers run(target, server) -> observation dict, and check(redis,
    daxkv) -> list of failure strings (empty = pass)."""
    def register(cls):
        CASES.append((name, note, cls))
        return cls
    return register


class Servers:
    """Starts one server of the requested kind with per-kind arguments."""

    def __init__(self, binaries, pool_kind):
        self.binaries = binaries
        self.pool_kind = pool_kind

    def start(self, target, redis_args=(), daxkv_args=(), **kw):
        extra = list(redis_args if target == "redis" else daxkv_args)
        srv = ServerProcess(target=target, server=self.binaries[target],
                            extra_args=extra, pool_kind=self.pool_kind, **kw)
        return srv.start_or_cleanup()


class RssSampler:
    """Peak RssAnon of a server process while a case runs (10 ms samples)."""

    def __init__(self, server):
        self.server = server
        self.base_kb = server.rss_anon_kb()
        self.peak_kb = self.base_kb
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak_kb = max(self.peak_kb, self.server.rss_anon_kb())
            except (OSError, AssertionError):
                return
            time.sleep(0.01)

    def stop(self):
        self._stop.set()
        self._t.join()
        return (self.peak_kb - self.base_kb) / 1024.0


def wait_closed_by_peer(sock, timeout):
    """Without reading, waits until the peer closed `sock` (POLLRDHUP);
    returns the seconds it took, or None on timeout."""
    start = time.monotonic()
    p = select.poll()
    p.register(sock, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    while time.monotonic() - start < timeout:
        if p.poll(100):
            return time.monotonic() - start
    return None


def greedy_socket(port):
    """A client socket with a small receive buffer that will never read."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    return s


def send_all_background(sock, data):
    """Sends `data` from a thread (the server may stop reading)."""
    def run():
        try:
            sock.sendall(data)
        except OSError:
            pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def probe_raw(port, payload, wait):
    """Sends payload on a fresh connection; returns (bytes received, closed
    by the server) after `wait` seconds of silence or the close."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(wait)
    data, closed = b"", False
    try:
        s.sendall(payload)
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                closed = True
                break
            data += chunk
    except socket.timeout:
        pass
    except (ConnectionResetError, BrokenPipeError):
        closed = True
    finally:
        s.close()
    return data, closed


def raise_fd_limit(want):
    """Raises this process's (and so the servers') open-file limit towards
    `want`; returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        soft = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft
