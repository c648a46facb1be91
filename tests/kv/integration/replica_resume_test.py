#!/usr/bin/env python3
"""A restarted daxkv replica resumes from its offset (issue 15): after a
clean restart (SIGTERM) it sends PSYNC <master replid> <offset+1> and
redis-server 7.0 answers +CONTINUE (its sync_partial_ok grows, sync_full
does not), with the writes made while the replica was down streamed to it.
After kill -9 no resume point is kept (it could be behind the data) and the
replica syncs in full.

  replica_resume_test.py --daxkv PATH --redis PATH [-k PATTERN] [-v]
"""

import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import replication_test as rt  # noqa: E402


class ReplicaResumeTest(rt.ServerTestCase):
    pool_kind = "file"  # the replica restarts on the same pool

    def setUp(self):
        self.m = self.start("redis", rt.REDIS)
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

    def test_kill9_syncs_in_full(self):
        self.d.stop()  # a clean stop keeps a resume point...
        self.d.start()
        rt.wait_in_sync(self.mr, self.d.redis())
        self.assertEqual(self.stats(), (1, 1))
        self.d.kill9()  # ...which the start consumed: none after a crash
        self.mr.set("while-down", 1)
        self.d.start()
        rt.wait_in_sync(self.mr, self.d.redis())
        self.assertEqual(self.stats(), (2, 1))
        rt.compare(self, self.mr, self.d.redis())

    def test_replicaof_no_one_then_restart_keeps_no_point(self):
        r = self.d.redis()
        self.assertEqual(r.execute_command("REPLICAOF", "NO", "ONE"), b"OK")
        self.d.stop()
        self.d.extra_args = []
        self.d.start()
        self.assertNotIn(b"replica resume point", self.log())
        self.assertEqual(rt.info(self.d.redis())["role"], "master")


if __name__ == "__main__":
    # replication_test's runner (arguments, skip without binaries) runs the
    # test case its module names: this one.
    rt.ReplicationTest = ReplicaResumeTest
    sys.exit(rt.main())
