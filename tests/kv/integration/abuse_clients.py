"""Abuse cases about what clients send and hold: greedy pipeliners and
the output limit (issue 11, finding 9), hostile RESP, thousands of idle
connections, slowloris. Registered in abuse_support.CASES."""

import socket
import threading
import time

from abuse_support import (MB, RssSampler, case, greedy_socket, probe_raw,
                           raise_fd_limit, send_all_background,
                           wait_closed_by_peer)
from harness import encode_command


# --- finding 9: the output limit holds inside a pipelined batch -----------

OUTPUT_LIMIT = {"redis_args": ["--client-output-buffer-limit",
                               "normal 1mb 0 0"],
                "daxkv_args": ["--client_output_limit", "1M"]}
# Generous: daxkv measured ~30 MB here, Redis ~10 MB, main at c0dae04 2.5 GB.
OUTPUT_LIMIT_RSS_MB = 128


def greedy_run(servers, target, commands, probe):
    """With the 1 MB output limit and a 10 MB value in "big": a client
    sends `commands` and never reads. Returns whether the server closed it,
    the peak RSS growth, and probe(other client)."""
    srv = servers.start(target, **OUTPUT_LIMIT)
    try:
        with srv.client() as c:
            c.cmd("SET", "big", b"x" * (10 * MB))
            rss = RssSampler(srv)
            s = greedy_socket(srv.port)
            send_all_background(
                s, b"".join(encode_command(x) for x in commands))
            closed_after = wait_closed_by_peer(s, 20)
            time.sleep(0.3)
            growth = rss.stop()
            s.close()
            return {"closed": closed_after is not None,
                    "rss_growth_mb": round(growth, 1), "probe": probe(c)}
    finally:
        srv.cleanup()


def check_greedy(redis, daxkv):
    fails = []
    if not daxkv["closed"]:
        fails.append("the non-reading client was not disconnected")
    if daxkv["rss_growth_mb"] > OUTPUT_LIMIT_RSS_MB:
        fails.append("RSS grew %.0f MB (bound %d MB; redis %.0f MB)" % (
            daxkv["rss_growth_mb"], OUTPUT_LIMIT_RSS_MB,
            redis["rss_growth_mb"]))
    if redis["closed"] != daxkv["closed"]:
        fails.append("redis closed=%s, daxkv closed=%s" % (
            redis["closed"], daxkv["closed"]))
    if redis["probe"] != daxkv["probe"]:
        fails.append("after it: redis %r, daxkv %r" % (redis["probe"],
                                                        daxkv["probe"]))
    return fails


@case("nonreading_pipeline", "output limit 1M, 150 x GET of 10 MB, never "
      "reads: closed at the first reply, memory bounded (#11 finding 9)")
class NonReadingPipeline:
    @staticmethod
    def run(servers, target):
        return greedy_run(servers, target, [["GET", "big"]] * 150,
                          lambda c: c.cmd("PING"))

    check = staticmethod(check_greedy)


@case("exec_over_output_limit", "output limit 1M, MULTI with 30 x GET of "
      "10 MB and an INCR, never reads: closed, memory bounded, the block "
      "still committed")
class ExecOverOutputLimit:
    @staticmethod
    def run(servers, target):
        block = ([["MULTI"]] + [["GET", "big"]] * 30 +
                 [["INCR", "ctr"], ["EXEC"]])
        return greedy_run(servers, target, block,
                          lambda c: c.cmd("GET", "ctr"))

    check = staticmethod(check_greedy)


@case("slow_reader_pipeline", "no output limit, 60 x GET of 10 MB "
      "pipelined, reads only after 3 s: daxkv pauses the client (memory "
      "bounded by its 64 MB backpressure, Redis buffers all of it), then "
      "every reply arrives intact")
class SlowReaderPipeline:
    N = 60

    @classmethod
    def run(cls, servers, target):
        srv = servers.start(target)
        try:
            with srv.client() as c:
                value = b"x" * (10 * MB)
                c.cmd("SET", "big", value)
                rss = RssSampler(srv)
                with srv.client(timeout=60) as g:
                    g.send_raw((encode_command(["GET", "big"]) +
                                encode_command(["INCR", "n"])) * cls.N)
                    time.sleep(3)
                    growth = rss.stop()
                    good = 0
                    for i in range(cls.N):
                        good += g.read() == value
                        good += g.read() == i + 1
            return {"intact_replies": good,
                    "rss_growth_mb": round(growth, 1)}
        finally:
            srv.cleanup()

    @classmethod
    def check(cls, redis, daxkv):
        fails = []
        if daxkv["intact_replies"] != 2 * cls.N:
            fails.append("%d of %d replies intact" % (
                daxkv["intact_replies"], 2 * cls.N))
        if daxkv["rss_growth_mb"] > 160:
            fails.append("RSS grew %.0f MB while paused (bound 160 MB)" %
                         daxkv["rss_growth_mb"])
        return fails


# --- hostile RESP ----------------------------------------------------------

HOSTILE = [
    b"*abc\r\n", b"*-5\r\n", b"*0\r\n", b"*\r\n", b"*01\r\n$4\r\nPING\r\n",
    b"*+1\r\n$4\r\nPING\r\n", b"*2147483648\r\n", b"*1048577\r\n",
    b"*2147483647\r\n", b"*9999999999999999999999\r\n",
    b"*1\r\n$-5\r\n", b"*1\r\n$\r\n", b"*1\r\n$04\r\nPING\r\n",
    b"*1\r\n$+4\r\nPING\r\n", b"*1\r\n$99999999999999\r\n",
    b"*1\r\n$" + b"9" * 70000, b"*1\r" + b"1" * 70000,
    b"*1\r\n*1\r\n$4\r\nPING\r\n", b"*2\r\n*1\r\n*1\r\n*1\r\n",
    b"*1\r\n$4\r\nPINGXX", b"*1\r\n$4\r\nPI\r\n", b"*1\r\n$4\r\nPING\r",
    b"*1\r\n$0\r\n\r\n", b"*1\r\n$1\r\n\r\r\n",
    b"*2\r\n$4\r\nECHO\r\n$1\r\nab\r\n", b"$4\r\nPING\r\n",
    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n", b"x" * 70000,
    b"\x00\xff\xfe garbage\r\n", b"\"unbalanced\r\n", b"PING\r\n" * 3,
    b"\r\n\r\nPING\r\n", b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nECHO\r\n",
    bytes(range(256)) * 4,
]


@case("hostile_resp", "%d malformed or hostile requests (bad lengths, huge "
      "multibulk counts, nested garbage, inline overflow, binary noise), "
      "each on its own connection: replies byte for byte and whether the "
      "server closes, then the server still serves" % len(HOSTILE))
class HostileResp:
    @staticmethod
    def run(servers, target):
        srv = servers.start(target)
        try:
            results = [None] * len(HOSTILE)

            def one(i):
                results[i] = probe_raw(srv.port, HOSTILE[i], 1.0)
            threads = [threading.Thread(target=one, args=(i,))
                       for i in range(len(HOSTILE))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            with srv.client() as c:
                alive = c.cmd("PING") == "PONG"
            return {"results": results, "alive": alive,
                    "closed": sum(bool(r and r[1]) for r in results)}
        finally:
            srv.cleanup()

    @staticmethod
    def check(redis, daxkv):
        fails = [] if daxkv["alive"] else ["server stopped answering"]
        for payload, r, d in zip(HOSTILE, redis["results"],
                                 daxkv["results"]):
            if r != d:
                fails.append("%r: redis %r, daxkv %r" % (
                    payload[:24], r and (r[0][:60], r[1]),
                    d and (d[0][:60], d[1])))
        return fails


# --- many idle clients ---------------------------------------------------------

def idle_client_count():
    return max(100, min(3000, (raise_fd_limit(8192) - 200) // 2))


@case("idle_clients", "thousands of idle connections (3000, or what the "
      "fd limit allows): all accepted, a new client is served at once, "
      "all released")
class IdleClients:
    @staticmethod
    def run(servers, target):
        n = idle_client_count()
        srv = servers.start(target)
        conns = []
        try:
            rss = RssSampler(srv)
            for _ in range(n):
                s = socket.create_connection(("127.0.0.1", srv.port))
                s.sendall(b"PING\r\n")
                conns.append(s)
            pongs = 0
            for s in conns:
                s.settimeout(30)
                pongs += s.recv(64) == b"+PONG\r\n"
            with srv.client() as c:
                t0 = time.monotonic()
                c.cmd("SET", "k", "v")
                latency_ms = (time.monotonic() - t0) * 1000
                info = c.cmd("INFO", "clients")
                connected = int(info.split(b"connected_clients:")[1]
                                .split(b"\r\n")[0])
            growth = rss.stop()
            for s in conns:
                s.close()
            conns = []
            deadline = time.monotonic() + 20
            with srv.client() as c:
                while time.monotonic() < deadline:
                    info = c.cmd("INFO", "clients")
                    left = int(info.split(b"connected_clients:")[1]
                               .split(b"\r\n")[0])
                    if left == 1:
                        break
                    time.sleep(0.05)
            return {"clients": n, "pongs": pongs, "connected": connected,
                    "after_close": left,
                    "set_ms": round(latency_ms, 1),
                    "rss_per_client_kb": round(growth * 1024 / n, 1)}
        finally:
            for s in conns:
                s.close()
            srv.cleanup()

    @staticmethod
    def check(redis, daxkv):
        n = daxkv["clients"]
        fails = []
        if daxkv["pongs"] != n or daxkv["connected"] != n + 1:
            fails.append("%d of %d idle clients served, %d connected" % (
                daxkv["pongs"], n, daxkv["connected"]))
        if daxkv["after_close"] != 1:
            fails.append("%d clients left after closing" %
                         daxkv["after_close"])
        if daxkv["set_ms"] > 1000:
            fails.append("a SET among them took %.0f ms" % daxkv["set_ms"])
        if (redis["pongs"], redis["connected"]) != (daxkv["pongs"],
                                                    daxkv["connected"]):
            fails.append("redis served %d/%d, daxkv %d/%d" % (
                redis["pongs"], redis["connected"], daxkv["pongs"],
                daxkv["connected"]))
        return fails


# --- slowloris -----------------------------------------------------------------

@case("slowloris", "200 clients trickle SETs a few bytes at a time for 4 s "
      "(partial requests held open): others are served without delay, "
      "every trickled SET lands whole")
class Slowloris:
    CLIENTS = 200

    @classmethod
    def run(cls, servers, target):
        srv = servers.start(target)
        try:
            frames = [encode_command(["SET", "slow:%d" % i, "v%d" % i * 20])
                      for i in range(cls.CLIENTS)]
            socks = [socket.create_connection(("127.0.0.1", srv.port))
                     for _ in range(cls.CLIENTS)]
            stop = threading.Event()
            worst = [0.0]

            def normal():
                with srv.client() as c:
                    while not stop.is_set():
                        t0 = time.monotonic()
                        c.cmd("INCR", "fast")
                        worst[0] = max(worst[0], time.monotonic() - t0)
                        time.sleep(0.005)
            t = threading.Thread(target=normal)
            t.start()
            longest = max(len(f) for f in frames)
            step = max(1, longest // 40)  # 40 slices over about 4 s
            for off in range(0, longest, step):
                for s, f in zip(socks, frames):
                    if off < len(f):
                        s.sendall(f[off:off + step])
                time.sleep(0.1)
            ok = 0
            for s in socks:
                s.settimeout(30)
                ok += s.recv(64) == b"+OK\r\n"
                s.close()
            stop.set()
            t.join()
            with srv.client() as c:
                intact = sum(c.cmd("GET", "slow:%d" % i) ==
                             ("v%d" % i * 20).encode()
                             for i in range(cls.CLIENTS))
            return {"acked": ok, "intact": intact,
                    "worst_other_ms": round(worst[0] * 1000, 1)}
        finally:
            srv.cleanup()

    @classmethod
    def check(cls, redis, daxkv):
        fails = []
        if daxkv["acked"] != cls.CLIENTS or daxkv["intact"] != cls.CLIENTS:
            fails.append("%d acked, %d intact of %d" % (
                daxkv["acked"], daxkv["intact"], cls.CLIENTS))
        if daxkv["worst_other_ms"] > 1000:
            fails.append("another client waited %.0f ms" %
                         daxkv["worst_other_ms"])
        return fails
