#!/usr/bin/env python3
"""What Redis Sentinel sends a replica during a failover, sent by hand
(issue 15, part 4), run by replication_test.py (the kv_replication ctest).

Each case runs on a redis-server replica and on a daxkv-server replica of
the same redis-server master, each started with a config file, and compares
the replies: Sentinel's block MULTI; REPLICAOF; CONFIG REWRITE; CLIENT KILL
TYPE normal; CLIENT KILL TYPE pubsub; EXEC (the config file names the new
master, or none after REPLICAOF NO ONE, and a restart keeps it),
replica-priority (CONFIG SET/GET, INFO slave_priority). On daxkv alone:
failovers whose replicas were ahead of or behind the one promoted, and
REPLICAOF inside EXEC while the link applies MSETs from the master (which
take the exec lock exclusively) must not deadlock.
"""

import os
import re
import shutil
import tempfile
import threading

import harness
import replication_test as rt
from stall_proxy import StallProxy

DAXKV = ""
REDIS = ""
ROUNDS = int(os.environ.get("DAXKV_REPLICAOF_EXEC_ROUNDS", "40"))


def configure(daxkv, redis_server):
    global DAXKV, REDIS
    DAXKV, REDIS = daxkv, redis_server


def config_lines(path):
    """The replication lines of a config file, sorted (Redis appends the
    ones it adds in its own order)."""
    with open(path) as f:
        return sorted(line for line in f.read().splitlines()
                      if re.match(r"(replicaof|slaveof|replica-priority) ",
                                  line))


class SentinelCommandsTest(rt.ServerTestCase):
    pool_kind = "file"  # the daxkv replica restarts on its pool

    def with_config(self, target, binary):
        """A server started with a config file (redis-server takes it as
        its first argument, daxkv-server as --config)."""
        confdir = tempfile.mkdtemp(prefix="daxkv-conf-")
        self.addCleanup(shutil.rmtree, confdir, True)
        conf = os.path.join(confdir, "node.conf")
        with open(conf, "w") as f:
            f.write("# a replica of the Sentinel command tests\n")
        extra = ["--config", conf] if target == "daxkv" else []
        s = harness.ServerProcess(target=target, server=binary,
                                  pool_kind=self.pool_kind, extra_args=extra)
        if target == "redis":
            line = s.command_line
            s.command_line = lambda: [line()[0], conf] + line()[1:]
        s.conf = conf
        s.start_or_cleanup()
        self.addCleanup(s.cleanup)
        return s

    def sentinel_block(self, s, host, port, first=()):
        """Sentinel's sentinelSendSlaveOf block (after the commands
        `first`, on the same connection); a subscribed client of the
        server is killed by it. Returns the replies."""
        sub = s.client()
        self.assertEqual(sub.cmd("SUBSCRIBE", "__sentinel__:hello"),
                         [b"subscribe", b"__sentinel__:hello", 1])
        with s.client() as c:
            self.assertEqual([c.cmd(*x) for x in first], ["OK"] * len(first))
            target = ["NO", "ONE"] if host is None else [host, port]
            replies = c.pipeline([["MULTI"], ["REPLICAOF"] + target,
                                  ["CONFIG", "REWRITE"],
                                  ["CLIENT", "KILL", "TYPE", "normal"],
                                  ["CLIENT", "KILL", "TYPE", "pubsub"],
                                  ["EXEC"]])
            self.assertEqual(c.cmd("PING"), "PONG")  # SKIPME
        self.assertEqual(sub.read_until_closed(), b"")
        sub.close()
        return replies

    def test_failover_block_and_config_rewrite(self):
        m = self.start("redis", REDIS)
        mr = m.redis()
        mr.set("k", "v")
        nodes = [self.with_config("redis", REDIS),
                 self.with_config("daxkv", DAXKV)]
        replies = []
        for s in nodes:
            replies.append(self.sentinel_block(
                s, "127.0.0.1", m.port,
                first=[["CONFIG", "SET", "replica-priority", "7"]]))
            r = s.redis()
            if s.is_daxkv():
                rt.wait_in_sync(mr, r)
            rt.wait_for(lambda: rt.info(r)["master_link_status"] == "up", 30,
                        "link up")
            self.assertEqual(rt.info(r)["slave_priority"], 7)
            self.assertEqual(r.get("k"), b"v")
            r.close()
            self.assertEqual(config_lines(s.conf), [
                "replica-priority 7", "replicaof 127.0.0.1 %d" % m.port])
            r = s.redis()
            self.assertEqual(r.config_get("slave-priority"),
                             {"slave-priority": "7"})
            r.close()
        self.assertEqual(replies[0], replies[1])
        self.assertEqual(replies[1], ["OK", "QUEUED", "QUEUED", "QUEUED",
                                      "QUEUED", ["OK", "OK", 0, 1]])
        # The rewritten file brings the replica back as one.
        d = nodes[1]
        d.restart()
        rt.wait_in_sync(mr, d.redis())
        # Promotion, as Sentinel promotes: the file loses its replicaof.
        for s in nodes:
            self.assertEqual(self.sentinel_block(s, None, None)[-1],
                             ["OK", "OK", 0, 1])
            r = s.redis()
            self.assertEqual(rt.info(r)["role"], "master")
            r.close()
            self.assertEqual(config_lines(s.conf), ["replica-priority 7"])
        d.restart()
        self.assertEqual(rt.info(d.redis())["role"], "master")
        self.assertEqual(d.redis().get("k"), b"v")

    def test_config_set_replica_priority_errors(self):
        replies = []
        for target, binary in (("redis", REDIS), ("daxkv", DAXKV)):
            with self.start(target, binary).client() as c:
                replies.append([
                    c.cmd("CONFIG", "SET", "replica-priority", "-1"),
                    c.cmd("CONFIG", "SET", "slave-priority", "x"),
                    c.cmd("CONFIG", "SET", "replica-priority", "0"),
                    c.cmd("CONFIG", "GET", "replica-priority"),
                    c.cmd("CONFIG", "REWRITE")])
        self.assertEqual(replies[0], replies[1])
        self.assertEqual(replies[1][-1],
                         "ERR The server is running without a config file")

    def test_replicaof_in_exec_while_the_link_waits_for_the_lock(self):
        """The block holds the exec lock exclusively (DEBUG SLEEP keeps it
        a while) while the link has read an MSET, which needs that lock:
        REPLICAOF in the block used to join the link thread right there,
        and the two waited for each other for ever."""
        m = self.start("redis", REDIS, extra_args=[
            "--repl-diskless-sync-delay", "0"])
        d = self.start("daxkv", DAXKV)
        stop = threading.Event()

        def msets():  # keeps the link busy applying MSETs
            w = m.redis()
            i = 0
            while not stop.is_set():
                p = w.pipeline(transaction=False)
                for _ in range(50):
                    p.mset({"k%d" % ((i + j) % 500): i for j in range(20)})
                    i += 1
                p.execute()
        t = threading.Thread(target=msets, daemon=True)
        t.start()
        self.addCleanup(t.join)
        self.addCleanup(stop.set)
        r = d.redis()
        for _ in range(ROUNDS):
            r.execute_command("REPLICAOF", "127.0.0.1", m.port)
            rt.wait_for(lambda: rt.info(r)["master_link_status"] == "up", 30,
                        "link up")
            with d.client(timeout=20) as c:
                self.assertEqual(
                    c.pipeline([["MULTI"], ["DEBUG", "SLEEP", "0.05"],
                                ["REPLICAOF", "NO", "ONE"], ["EXEC"]])[-1],
                    ["OK", "OK"])
            self.assertEqual(rt.info(r)["role"], "master")
        stop.set()
        r.execute_command("REPLICAOF", "127.0.0.1", m.port)
        rt.wait_in_sync(m.redis(), r)
        rt.compare(self, m.redis(), r)

    def master_and_two_replicas(self, proxy=None):
        """A daxkv master holding "before" and two daxkv replicas at its
        offset; the second one through `proxy` if given."""
        m = self.start("daxkv", DAXKV)
        reps = [self.start("daxkv", DAXKV) for _ in range(2)]
        mr = m.redis()
        mr.set("before", 1)
        ports = (m.port, m.port)
        if proxy is not None:
            proxy.target_port = m.port
            ports = (m.port, proxy.port)
        for rep, port in zip(reps, ports):
            rep.redis().execute_command("REPLICAOF", "127.0.0.1", port)
            rt.wait_in_sync(mr, rep.redis())
        # Both at the master's offset (its first PING went out while they
        # attached), so the one promoted is not the one behind unless the
        # test makes it so.
        for rep in reps:
            rt.wait_in_sync(mr, rep.redis())
        return m, reps

    def fail_over(self, reps):
        """The master is dead: reps[0] is promoted and takes a write, then
        reps[1] follows it, continuing partially, and gets that write."""
        new, other = reps[0].redis(), reps[1].redis()
        self.assertEqual(new.execute_command("REPLICAOF", "NO", "ONE"), b"OK")
        new.set("after-promotion", "v")
        other.execute_command("REPLICAOF", "127.0.0.1", reps[0].port)
        rt.wait_in_sync(new, other)
        with open(reps[1].log_path, "rb") as f:
            self.assertIn(b"sync done (partial) with 127.0.0.1:%d" %
                          reps[0].port, f.read())
        self.assertEqual(other.get("after-promotion"), b"v")
        self.assertEqual(other.get("before"), b"1")
        self.assertEqual(new.execute_command("WAIT", 1, 5000), 1)

    def test_promoted_replica_streams_writes_made_before_replicas_attach(self):
        """A failover: the master dies, one replica is promoted and takes a
        write before the other replica is repointed to it. The other one
        continues partially (+CONTINUE from the promotion offset) and must
        get that write: the promoted replica's backlog records from the
        promotion on, not from its first PSYNC."""
        m, reps = self.master_and_two_replicas()
        m.kill9()
        self.fail_over(reps)

    def test_promoted_replica_continues_a_replica_that_was_behind(self):
        """The replicas of a dead master rarely hold the same offset: one
        missed the last bytes (here a write, held back by a proxy and
        dropped with the master). The one promoted keeps the master's
        stream it applied as its backlog (Redis's PSYNC2), so the one
        behind continues partially and gets the write it missed."""
        proxy = StallProxy()
        self.addCleanup(proxy.close)
        m, reps = self.master_and_two_replicas(proxy)
        new, other = reps[0].redis(), reps[1].redis()
        proxy.hold()
        m.redis().set("missed-by-the-other", "x")
        rt.wait_in_sync(m.redis(), new)
        m.kill9()
        proxy.close()
        self.assertLess(rt.info(other)["slave_repl_offset"],
                        rt.info(new)["slave_repl_offset"])
        self.assertIsNone(other.get("missed-by-the-other"))
        self.fail_over(reps)
        self.assertEqual(other.get("missed-by-the-other"), b"x")

    def test_promoting_the_replica_behind_is_logged(self):
        """The failover the guarantee excludes: the replica promoted is
        behind the other one. The other one's writes beyond the promotion
        point cannot continue (full sync drops them): the new master says
        so in its log."""
        m = self.start("daxkv", DAXKV)
        reps = [self.start("daxkv", DAXKV) for _ in range(2)]
        mr = m.redis()
        for rep in reps:
            rep.redis().execute_command("REPLICAOF", "127.0.0.1", m.port)
            rt.wait_in_sync(mr, rep.redis())
        behind, ahead = reps[0].redis(), reps[1].redis()
        self.assertEqual(behind.execute_command("REPLICAOF", "NO", "ONE"),
                         b"OK")
        mr.set("only-on-the-other", 1)
        rt.wait_in_sync(mr, ahead)
        m.kill9()
        ahead.execute_command("REPLICAOF", "127.0.0.1", reps[0].port)
        rt.wait_in_sync(behind, ahead)
        with open(reps[0].log_path, "rb") as f:
            self.assertRegex(f.read(), rb"replica 127\.0\.0\.1:\d+ holds \d+ "
                             rb"bytes of the previous master's stream")
        self.assertIsNone(ahead.get("only-on-the-other"))
