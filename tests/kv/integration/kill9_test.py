#!/usr/bin/env python3
"""Kill -9 test: no acknowledged write is ever lost.

  kill9_test.py --target daxkv|redis --server PATH [--rounds 20]
                [--seed N] [--writers 3] [--pool-kind shm|file]

Each round, several writer connections send pipelined SETs; a writer records
a write as acknowledged only when its +OK reply has arrived. At a random
moment the server gets SIGKILL, restarts on the same pool, and every key must
hold its last acknowledged value or a value the client sent later (a write
applied but not yet acknowledged when the server died). Values encode
(key, sequence) and are checked byte for byte. Writers also send pipelined
INCRs (a counter must hold at least its last acknowledged reply) and
MULTI/EXEC pairs (both keys of a pair must carry the same sequence: EXEC is
all-or-nothing after a crash). Against redis-server the test
runs with appendonly yes + appendfsync always (the only meaningful mode).
"""

import argparse
import os
import random
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77  # ctest SKIP_RETURN_CODE
KEYS_PER_WRITER = 400
TX_PAIRS = 50
COUNTERS = 20


def value_for(key, seq, rng_pad):
    return b"%s|%d|" % (key, seq) + b"v" * rng_pad


class Writer:
    """Owns keys w<id>:<n>; per key tracks the last acked and last sent seq."""

    def __init__(self, wid, seed):
        self.wid = wid
        self.rng = random.Random(seed * 1000 + wid)
        self.acked = {}  # key -> seq of the last acknowledged SET
        self.sent = {}  # key -> highest seq sent
        self.seq = 0
        self.port = None
        self.acks_this_round = 0
        self.error = None
        self.incr_acked = {}  # counter key -> last INCR reply received
        self.incr_sent = {}  # counter key -> INCRs sent

    def run_round(self, port, stop):
        self.port, self.stop, self.acks_this_round = port, stop, 0
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        from harness import ConnectionClosed, RespClient, encode_command
        try:
            c = RespClient(self.port, timeout=5.0)
        except OSError:
            return
        try:
            while not self.stop.is_set():
                pick = self.rng.randrange(8)
                if pick == 0:
                    self.transaction(c, encode_command)
                    continue
                if pick == 1:
                    self.increments(c, encode_command)
                    continue
                batch = []
                for _ in range(self.rng.randint(1, 32)):
                    key = b"w%d:%d" % (self.wid, self.rng.randrange(
                        KEYS_PER_WRITER))
                    self.seq += 1
                    batch.append((key, self.seq))
                    self.sent[key] = self.seq
                c.send_raw(b"".join(
                    encode_command([b"SET", k, value_for(k, s, s % 200)])
                    for k, s in batch))
                for key, s in batch:
                    reply = c.read()
                    if reply != "OK":
                        raise AssertionError("SET %r -> %r" % (key, reply))
                    self.acked[key] = s
                    self.acks_this_round += 1
        except AssertionError as e:
            self.error = e
        except (OSError, ConnectionClosed):
            pass  # the kill ends the round
        finally:
            c.close()

    def increments(self, c, encode_command):
        """Pipelined INCRs: after a crash a counter must be at least its last
        acknowledged reply and at most the number of INCRs sent."""
        keys = [b"w%d:ctr:%d" % (self.wid, self.rng.randrange(COUNTERS))
                for _ in range(self.rng.randint(1, 16))]
        for k in keys:
            self.incr_sent[k] = self.incr_sent.get(k, 0) + 1
        c.send_raw(b"".join(encode_command([b"INCR", k]) for k in keys))
        for k in keys:
            reply = c.read()
            if not isinstance(reply, int) or reply <= self.incr_acked.get(
                    k, 0):
                raise AssertionError("INCR %r -> %r" % (k, reply))
            self.incr_acked[k] = reply
            self.acks_this_round += 1

    def transaction(self, c, encode_command):
        """MULTI/EXEC writing a pair of keys with one seq: after any crash
        both keys must hold the same seq (all-or-nothing)."""
        n = self.rng.randrange(TX_PAIRS)
        self.seq += 1
        keys = [b"w%d:txa:%d" % (self.wid, n), b"w%d:txb:%d" % (self.wid, n)]
        for k in keys:
            self.sent[k] = self.seq
        c.send_raw(encode_command([b"MULTI"]) + b"".join(
            encode_command([b"SET", k, value_for(k, self.seq, self.seq % 200)])
            for k in keys) + encode_command([b"EXEC"]))
        replies = [c.read() for _ in range(4)]
        if replies != ["OK", "QUEUED", "QUEUED", ["OK", "OK"]]:
            raise AssertionError("MULTI/EXEC -> %r" % replies)
        for k in keys:
            self.acked[k] = self.seq
        self.acks_this_round += 1

    def join_round(self):
        self.thread.join(30)


def verify(server, writers):
    """Returns a list of problems (empty = every acked write is present)."""
    problems = []
    with server.client(timeout=60) as c:
        for w in writers:
            keys = sorted(w.sent)
            seen = {}
            values = c.pipeline([("GET", k) for k in keys])
            for key, got in zip(keys, values):
                acked = w.acked.get(key)
                if got is None:
                    if acked is not None:
                        problems.append("%s lost (acked seq %d)"
                                        % (key.decode(), acked))
                    seen[key] = None
                    continue
                parts = got.split(b"|")
                seq = int(parts[1]) if len(parts) == 3 else -1
                ok = (parts[0] == key and got == value_for(key, seq, seq % 200)
                      and seq >= (acked or 0) and seq <= w.sent[key])
                if not ok:
                    problems.append("%s has %r, acked seq %s, sent up to %d"
                                    % (key.decode(), got[:60], acked,
                                       w.sent[key]))
                seen[key] = seq
            ctrs = sorted(w.incr_sent)
            for key, got in zip(ctrs, c.pipeline([("GET", k) for k in ctrs])):
                low, high = w.incr_acked.get(key, 0), w.incr_sent[key]
                if not (low <= int(got or 0) <= high):
                    problems.append("%s = %r, acked %d, sent %d"
                                    % (key.decode(), got, low, high))
            for n in range(TX_PAIRS):
                a = seen.get(b"w%d:txa:%d" % (w.wid, n))
                b = seen.get(b"w%d:txb:%d" % (w.wid, n))
                if a != b:
                    problems.append("w%d tx pair %d torn: seq %s vs %s"
                                    % (w.wid, n, a, b))
    return problems


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--target", choices=["redis", "daxkv"], required=True)
    p.add_argument("--server", required=True)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--writers", type=int, default=3)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--pool-kind", choices=["shm", "file"], default="shm")
    p.add_argument("--negative-control", action="store_true",
                   help="redis-server without persistence: the test must "
                   "detect lost writes (proves the checker can fail)")
    a = p.parse_args()
    if a.negative_control:
        a.target = "redis"
    if not os.access(a.server, os.X_OK):
        print("SKIP: server binary %r not built" % a.server)
        return SKIP
    os.environ["DAXKV_IT_TARGET"] = a.target
    os.environ["DAXKV_IT_SERVER"] = a.server
    os.environ["DAXKV_IT_POOL_KIND"] = a.pool_kind
    sys.path.insert(0, HERE)
    from harness import ServerProcess

    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(
        1 << 31)
    print("kill9: seed=%d target=%s rounds=%d writers=%d (rerun with --seed)"
          % (seed, a.target, a.rounds, a.writers), flush=True)
    rng = random.Random(seed)
    writers = [Writer(i, seed) for i in range(a.writers)]
    server = ServerProcess(persistent=not a.negative_control).start()
    total_acks = 0
    try:
        for rnd in range(a.rounds):
            stop = threading.Event()
            for w in writers:
                w.run_round(server.port, stop)
            time.sleep(rng.uniform(0.05, 0.5))
            server.kill9()
            stop.set()
            for w in writers:
                w.join_round()
                if w.error:
                    print("FAIL: writer %d: %s" % (w.wid, w.error))
                    return 1
            acks = sum(w.acks_this_round for w in writers)
            total_acks += acks
            t0 = time.monotonic()
            server.start()
            restart_ms = (time.monotonic() - t0) * 1000
            problems = verify(server, writers)
            print("round %2d: %6d acked writes, restart %.0f ms, %s"
                  % (rnd, acks, restart_ms,
                     "OK" if not problems else "%d PROBLEMS" % len(problems)),
                  flush=True)
            if problems and a.negative_control:
                print("PASS: negative control detected %d lost writes"
                      % len(problems))
                return 0
            if problems:
                for line in problems[:20]:
                    print("  " + line)
                print("FAIL: acknowledged writes lost (seed=%d)" % seed)
                return 1
        if a.negative_control:
            print("FAIL: negative control lost nothing: checker is blind")
            return 1
        if total_acks == 0:
            print("FAIL: no write was ever acknowledged")
            return 1
        print("PASS: %d rounds, %d acknowledged writes, all present (seed=%d)"
              % (a.rounds, total_acks, seed))
        return 0
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
