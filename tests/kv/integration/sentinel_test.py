#!/usr/bin/env python3
"""Sentinel failover of daxkv-server (issue 15, part 4).

  sentinel_test.py --daxkv PATH [--sentinel PATH] [--cycles 3] [-v]

A daxkv master and two daxkv replicas (/dev/shm pools: they survive
kill -9; each started with a --config file CONFIG REWRITE writes back),
three Debian redis-sentinel processes (quorum 2, down-after 1 s, each with
its own writable config file). A client thread finds the master through
Sentinel (redis.sentinel.Sentinel) and writes unique keys, each followed by
WAIT 1 1000; a write counts as acknowledged only when WAIT returned >= 1.
Each cycle kill -9s the current master and asserts: Sentinel elects a new
master (get-master-addr-by-name changes, +switch-master in the logs), the
other replica follows it (ROLE, INFO replication, its config file names the
new master), every acknowledged write so far is on the new master with its
value, the writer goes on. The killed process is then restarted on its pool:
Sentinel converts it into a replica of the new master (+convert-to-slave)
and it converges. The failover times (kill -> +switch-master, kill -> first
acknowledged write) and the write counts are printed.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
import replication_test as rt  # noqa: E402

SKIP = 77
SENTINEL = shutil.which("redis-sentinel") or ""
CYCLES = 3
NAME = "mymaster"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 4000
PAUSE_S = 0.003  # between writes: a few hundred a second


def poll(pred, timeout, what):
    """rt.wait_for, with connection errors (Sentinel's CLIENT KILL) read
    as "not yet"."""
    def safe():
        try:
            return pred()
        except Exception:  # noqa: BLE001 (redis errors of every kind)
            return None
    return rt.wait_for(safe, timeout, what)


def ask(server, *cmd):
    """One command on a fresh connection (Sentinel kills normal clients
    during a failover)."""
    r = server.redis(socket_timeout=5)
    try:
        return r.execute_command(*cmd)
    finally:
        r.close()


class SentinelProcess:
    def __init__(self, binary, master_port):
        self.binary = binary
        self.port = harness.free_port()
        self.dir = tempfile.mkdtemp(prefix="daxkv-sentinel-")
        self.conf = os.path.join(self.dir, "sentinel.conf")
        self.log_path = os.path.join(self.dir, "sentinel.log")
        with open(self.conf, "w") as f:
            f.write("port %d\nbind 127.0.0.1\ndaemonize no\ndir %s\n"
                    "sentinel monitor %s 127.0.0.1 %d 2\n"
                    "sentinel down-after-milliseconds %s %d\n"
                    "sentinel failover-timeout %s %d\n"
                    "sentinel parallel-syncs %s 1\n"
                    % (self.port, self.dir, NAME, master_port, NAME,
                       DOWN_AFTER_MS, NAME, FAILOVER_TIMEOUT_MS, NAME))
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([binary, self.conf], stdout=log,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        log.close()

    def redis(self, **kw):
        import redis
        return redis.Redis(host="127.0.0.1", port=self.port,
                           decode_responses=True, **kw)

    def master_port(self):
        r = self.redis(socket_timeout=2)
        try:
            addr = r.execute_command("SENTINEL", "get-master-addr-by-name",
                                     NAME)
        finally:
            r.close()
        return int(addr[1]) if addr else None

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Writer:
    """Writes w:<i> = <value> through Sentinel, each followed by WAIT 1;
    records the acknowledged ones (WAIT >= 1) and when."""

    def __init__(self, sentinel_ports):
        from redis.sentinel import Sentinel
        self.sentinel = Sentinel([("127.0.0.1", p) for p in sentinel_ports],
                                 socket_timeout=1.0)
        self.mu = threading.Lock()
        self.acked = {}
        self.ack_times = []
        self.error_times = []
        self.attempts = self.failures = self.unacked = 0
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        import redis
        m = self.sentinel.master_for(NAME, socket_timeout=2.0,
                                     socket_connect_timeout=1.0)
        i = 0
        while not self.stop_flag.is_set():
            key, value = "w:%d" % i, "v%d-%d" % (i, time.monotonic_ns())
            i += 1
            self.attempts += 1
            try:
                m.set(key, value)
                n = m.execute_command("WAIT", 1, 1000)
            except (redis.ConnectionError, redis.TimeoutError,
                    redis.ResponseError):
                with self.mu:
                    self.failures += 1
                    self.error_times.append(time.monotonic())
                time.sleep(0.02)
                continue
            with self.mu:
                if n >= 1:
                    self.acked[key] = value
                    self.ack_times.append(time.monotonic())
                else:
                    self.unacked += 1
            time.sleep(PAUSE_S)

    def snapshot(self):
        with self.mu:
            return dict(self.acked), list(self.ack_times)

    def first_ack_after(self, t, timeout=60.0):
        """When the first write acknowledged by the new master was: the
        first acknowledged after an error that followed t (a write the
        old master acknowledged may return just after t)."""
        def first():
            with self.mu:
                errors = [x for x in self.error_times if x > t]
                later = [x for x in self.ack_times
                         if errors and x > errors[0]]
            return later[0] if later else None
        return rt.wait_for(first, timeout, "an acknowledged write")

    def stop(self):
        self.stop_flag.set()
        self.thread.join(30)


def missing_acked(server, acked):
    """Keys of `acked` absent from `server` or holding another value."""
    r = server.redis(socket_timeout=10)
    try:
        keys = sorted(acked)
        bad = []
        for j in range(0, len(keys), 500):
            chunk = keys[j:j + 500]
            for k, v in zip(chunk, r.mget(chunk)):
                if v is None or v.decode() != acked[k]:
                    bad.append((k, acked[k], v))
        return bad
    finally:
        r.close()


class SentinelFailoverTest(rt.ServerTestCase):
    pool_kind = "shm"  # a kill -9'd master restarts on its pool

    def node(self, replicaof=None):
        confdir = tempfile.mkdtemp(prefix="daxkv-sentinel-conf-")
        self.addCleanup(shutil.rmtree, confdir, True)
        conf = os.path.join(confdir, "daxkv.conf")
        with open(conf, "w") as f:
            f.write("# daxkv-server node of the Sentinel test\n")
            if replicaof:
                f.write("replicaof 127.0.0.1 %d\n" % replicaof)
        s = self.start("daxkv", rt.DAXKV, extra_args=["--config", conf])
        s.conf = conf
        return s

    def config_replicaof(self, s):
        with open(s.conf) as f:
            m = re.search(r"^replicaof 127\.0\.0\.1 (\d+)$", f.read(), re.M)
        return int(m.group(1)) if m else None

    def follows(self, rep, master):
        """The replica's view: ROLE and INFO both name `master`, link up."""
        role = ask(rep, "ROLE")
        i = rt.info(rep.redis(socket_timeout=5))
        return (role[0] == b"slave" and role[2] == master.port and
                role[3] == b"connected" and
                i.get("master_port") == master.port and
                i.get("master_link_status") == "up")

    def sentinels_see(self, master, replicas):
        """Every sentinel names `master` and lists `replicas` as healthy
        replicas of it."""
        for s in self.sentinels:
            if s.master_port() != master.port:
                return False
            r = s.redis(socket_timeout=2)
            try:
                reps = r.execute_command("SENTINEL", "REPLICAS", NAME)
                others = r.execute_command("SENTINEL", "SENTINELS", NAME)
            finally:
                r.close()
            ok = set()
            for rep in reps:
                d = dict(zip(rep[::2], rep[1::2]))
                if (d["flags"] == "slave" and d["master-link-status"] == "ok"
                        and int(d["master-port"]) == master.port):
                    ok.add(int(d["port"]))
            if not {x.port for x in replicas} <= ok or len(others) != 2:
                return False
        return True

    def sentinel_logs(self):
        return "".join(s.log() for s in self.sentinels)

    def test_failover_cycles(self):
        master = self.node()
        replicas = [self.node(replicaof=master.port) for _ in range(2)]
        for rep in replicas:
            rt.wait_in_sync(master.redis(), rep.redis())
        self.sentinels = []
        for _ in range(3):
            s = SentinelProcess(SENTINEL, master.port)
            self.addCleanup(s.cleanup)
            self.sentinels.append(s)
        poll(lambda: self.sentinels_see(master, replicas), 60,
             "sentinels monitoring the master, its replicas and each other")
        writer = Writer([s.port for s in self.sentinels])
        self.addCleanup(writer.stop)
        nodes = [master] + replicas
        results = []
        for cycle in range(CYCLES):
            results.append(self.cycle(cycle, writer, nodes))
            master = [n for n in nodes if n.port == results[-1]["final"]][0]
        time.sleep(1.0)
        writer.stop()
        acked, _ = writer.snapshot()
        for rep in nodes:
            if rep is not master:
                rt.wait_in_sync(master.redis(), rep.redis())
                self.assertEqual(rep.redis().dbsize(), master.redis().dbsize())
            self.assertEqual(missing_acked(rep, acked), [])
        logs = self.sentinel_logs()
        self.assertGreaterEqual(logs.count("+switch-master"), CYCLES)
        self.report(results, writer, logs)

    def cycle(self, cycle, writer, nodes):
        old_port = self.sentinels[0].master_port()
        old = [n for n in nodes if n.port == old_port][0]
        others = [n for n in nodes if n is not old]
        # Writes acknowledged by the master about to die.
        before = len(writer.snapshot()[0])
        poll(lambda: len(writer.snapshot()[0]) >= before + 50, 30,
             "writes acknowledged before the kill")
        acked_at_kill = len(writer.snapshot()[0])
        t_kill = time.monotonic()
        old.kill9()

        def switched():
            for s in self.sentinels:
                p = s.master_port()
                if p is not None and p != old_port:
                    return p
            return None
        new_port = poll(switched, 60, "a new master named by Sentinel")
        t_switch = time.monotonic()
        new = [n for n in others if n.port == new_port][0]
        t_write = writer.first_ack_after(t_kill)
        poll(lambda: self.sentinel_logs().count("+switch-master") >=
             3 * (cycle + 1), 30, "+switch-master in every sentinel's log")
        self.assertEqual(rt.info(new.redis())["role"], "master")
        other = [n for n in others if n is not new][0]
        poll(lambda: self.follows(other, new), 60,
             "the other replica following the new master")
        # Sentinel's MULTI; SLAVEOF; CONFIG REWRITE; ...; EXEC reached the
        # config files.
        self.assertIsNone(self.config_replicaof(new))
        self.assertEqual(self.config_replicaof(other), new.port)
        acked, _ = writer.snapshot()
        lost = missing_acked(new, acked)
        if lost:
            self.diagnose(lost, nodes, writer)
        self.assertEqual(lost, [],
                         "acknowledged writes lost in failover %d" % cycle)
        # The killed master comes back on its pool: Sentinel makes it a
        # replica of the master, and it converges. That is the master the
        # sentinels name now: with down-after at 1 s, a sentinel that gets
        # no PING reply from the just-promoted master within a second of
        # its switch takes it for down and fails over once more (seen about
        # once in six runs); the checks below then hold for that master.
        old.start()

        def follows_named_master():
            cur = self.named_master(nodes)
            return cur if cur not in (None, old) and \
                self.follows(old, cur) else None
        cur = poll(follows_named_master, 90,
                   "the restarted old master following the named master")
        rt.wait_in_sync(cur.redis(), old.redis())
        self.assertEqual(missing_acked(old, writer.snapshot()[0]), [])
        self.assertEqual(self.config_replicaof(old), cur.port)
        poll(lambda: self.sentinels_see(
            cur, [n for n in nodes if n is not cur]), 60,
            "sentinels seeing both replicas of the master")
        return {"old": old_port, "new": new_port, "final": cur.port,
                "switch_s": t_switch - t_kill, "write_s": t_write - t_kill,
                "acked_at_kill": acked_at_kill,
                "acked_now": len(writer.snapshot()[0])}

    def named_master(self, nodes):
        """The node every sentinel names as the master (None while they
        disagree)."""
        ports = {s.master_port() for s in self.sentinels}
        if len(ports) != 1:
            return None
        port = ports.pop()
        return next((n for n in nodes if n.port == port), None)

    def diagnose(self, lost, nodes, writer):
        if not os.environ.get("DAXKV_SENTINEL_DEBUG"):
            return
        print("\nLOST:", lost[:5], "of", len(lost))
        for n in nodes:
            print("=== node :%d alive=%s" % (n.port, n.alive()))
            if n.alive():
                print(ask(n, "GET", lost[0][0]), ask(n, "INFO", "replication"))
            print(n.log_tail(60))
        for s in self.sentinels:
            print("=== sentinel :%d" % s.port)
            print(s.log()[-6000:])

    def report(self, results, writer, logs):
        print()
        for i, r in enumerate(results):
            print("failover %d: master :%d -> :%d  kill->+switch-master "
                  "%.2f s  kill->first acknowledged write %.2f s  "
                  "acknowledged writes: %d at the kill, %d after the "
                  "restarted master converged%s"
                  % (i + 1, r["old"], r["new"], r["switch_s"], r["write_s"],
                     r["acked_at_kill"], r["acked_now"],
                     "" if r["final"] == r["new"] else
                     "  (then failed over again to :%d)" % r["final"]))
        acked, _ = writer.snapshot()
        print("writes: %d attempted, %d acknowledged (WAIT 1 >= 1, all "
              "present on the final master), %d with WAIT 0, %d failed "
              "(connection lost, READONLY)"
              % (writer.attempts, len(acked), writer.unacked,
                 writer.failures))
        events = {e: logs.count(e) for e in (
            "+sdown", "+odown", "+try-failover", "+elected-leader",
            "+failover-end", "+switch-master", "+convert-to-slave",
            "-failover-abort")}
        print("sentinel events (3 sentinels): " +
              " ".join("%s %d" % kv for kv in events.items()))


def main():
    global SENTINEL, CYCLES
    p = argparse.ArgumentParser()
    p.add_argument("--daxkv", default="")
    p.add_argument("--sentinel", default=SENTINEL)
    p.add_argument("--cycles", type=int, default=CYCLES)
    p.add_argument("-v", dest="verbose", action="store_true")
    a = p.parse_args()
    rt.DAXKV, SENTINEL, CYCLES = a.daxkv, a.sentinel, a.cycles
    if not a.daxkv or not os.access(a.daxkv, os.X_OK):
        print("SKIP: missing daxkv-server binary (%r)" % a.daxkv)
        return SKIP
    if not SENTINEL or not os.access(SENTINEL, os.X_OK):
        print("SKIP: redis-sentinel not installed (scripts/deps.sh installs "
              "it)")
        return SKIP
    suite = unittest.TestLoader().loadTestsFromTestCase(SentinelFailoverTest)
    res = unittest.TextTestRunner(verbosity=2 if a.verbose else 1).run(suite)
    return 0 if res.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
