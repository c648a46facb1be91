#!/usr/bin/env python3
"""A restarted daxkv replica resumes from its offset (issue 15): after a
clean restart (SIGTERM) or a kill -9 under write load it sends PSYNC
<master replid> <offset+1> from the resume record its pool holds (written
with the commands it covers, kv/replica_resume.h) and the master answers
+CONTINUE (redis-server's sync_partial_ok grows, sync_full does not; a
daxkv master logs the partial resynchronization), with the writes made
while the replica was down streamed to it; the data then matches the
master key by key.

  replica_resume_test.py --daxkv PATH --redis PATH [-k PATTERN] [-v]
"""

import os
import random
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import replication_test as rt  # noqa: E402


class ReplicaResumeTest(rt.ServerTestCase):
    pool_kind = "file"  # the replica restarts on the same pool

    def setUp(self):
        # A backlog that covers what the writers send while a replica is
        # down (kill, restart, handshake): "where the backlog allows".
        self.m = self.start("redis", rt.REDIS, extra_args=[
            "--repl-backlog-size", "64mb"])
        self.mr = self.m.redis()
        rt.load_every_type(self.mr, "rr", 100, random.Random(5))
        self.d = self.start("daxkv", rt.DAXKV, extra_args=[
            "--replicaof", "127.0.0.1 %d" % self.m.port])
        rt.wait_in_sync(self.mr, self.d.redis())

    def stats(self):
        s = rt.info(self.mr, "stats")
        return s["sync_full"], s["sync_partial_ok"]

    def log(self):
        with open(self.d.log_path, "rb") as f:
            return f.read()

    def test_clean_restart_continues_partially(self):
        self.assertEqual(self.stats(), (1, 0))
        for round_ in range(2):
            self.d.stop()
            for i in range(300):  # written while the replica is down
                self.mr.incr("counter")
                self.mr.rpush("list", "r%d:%d" % (round_, i))
            self.d.start()
            self.assertIn(b"replica resume point: offset", self.log())
            rt.wait_in_sync(self.mr, self.d.redis())
            self.assertEqual(self.stats(), (1, round_ + 1))
            self.assertEqual(self.log().count(b"sync done (partial)"),
                             round_ + 1)
            r = self.d.redis()
            self.assertEqual(r.get("counter"), b"%d" % (300 * (round_ + 1)))
            rt.compare(self, self.mr, r)
            self.assertEqual(r.dbsize(), self.mr.dbsize())

    def kill9_under_load(self, master, replica, rounds, partial_syncs):
        """kill -9 `replica` while a writer loads `master`, restart it, and
        check it caught up partially (partial_syncs() counts the master's
        accepted partial resyncs) with the same data."""
        rng = random.Random(9)
        for round_ in range(rounds):
            before = partial_syncs()
            stop_writer = rt.start_writer(master, rng)
            try:
                time.sleep(0.3 + rng.random() * 0.4)  # mid-stream
                replica.kill9()
                time.sleep(0.2)  # the master goes on writing
                replica.start()
                time.sleep(0.3)  # streaming again, under load
            finally:
                stop_writer()
            mr, r = master.redis(), replica.redis()
            rt.wait_in_sync(mr, r)
            self.assertEqual(partial_syncs(), before + 1, "round %d" % round_)
            self.assertEqual(
                self.log_of(replica).count(b"sync done (partial)"),
                round_ + 1)
            self.assertGreater(rt.compare(self, mr, r), 100)

    @staticmethod
    def log_of(server):
        with open(server.log_path, "rb") as f:
            return f.read()

    def test_kill9_under_load_continues_partially(self):
        self.assertEqual(self.stats(), (1, 0))
        self.kill9_under_load(self.m, self.d, 3, lambda: self.stats()[1])
        self.assertEqual(self.stats()[0], 1)  # no second full sync

    def test_kill9_under_load_from_a_daxkv_master(self):
        m = self.start("daxkv", rt.DAXKV)
        mr = m.redis()
        mr.config_set("repl-backlog-size", 64 << 20)
        rt.load_every_type(mr, "dm", 100, random.Random(6))
        d = self.start("daxkv", rt.DAXKV, extra_args=[
            "--replicaof", "127.0.0.1 %d" % m.port])
        rt.wait_in_sync(mr, d.redis())

        def count(pattern):
            return len(re.findall(pattern.encode(), self.log_of(m)))
        self.kill9_under_load(m, d, 3, lambda: count(
            "Partial resynchronization request .* accepted"))
        self.assertEqual(count("Full resync requested"), 1)

    def test_replicaof_no_one_then_restart_keeps_no_point(self):
        r = self.d.redis()
        self.assertEqual(r.execute_command("REPLICAOF", "NO", "ONE"), b"OK")
        self.d.stop()
        self.d.extra_args = []
        self.d.start()
        self.assertNotIn(b"replica resume point", self.log())
        self.assertEqual(rt.info(self.d.redis())["role"], "master")


if __name__ == "__main__":
    # replication_test's runner (arguments, skip without binaries); the
    # other modules run in kv_replication.
    sys.exit(rt.main(ReplicaResumeTest, with_other_modules=False))
