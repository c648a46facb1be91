#!/usr/bin/env python3
"""daxkv-server as a replica of Debian's redis-server 7.0 (issue 15, part 1).

  replication_test.py --daxkv PATH --redis PATH [-k PATTERN] [-v]

Each test starts a redis-server master and a daxkv-server on free loopback
ports, loads every type (with TTLs) into the master, points daxkv at it with
REPLICAOF and compares the two key by key (type-aware reads, TTLs within a
tolerance) once the replica's offset equals the master's. Covered: both
full-sync framings (disk-based "$<len>" and diskless "$EOF:"), writes during
the sync, the command stream (MULTI/EXEC, EVAL effects, expiries), partial
resync after the master drops the link (+CONTINUE: the master's
sync_partial_ok grows, sync_full does not), masterauth, -READONLY,
WAIT on the master (counts the replica's ACKs), and streams with their
consumer groups (full sync, and the command stream's XCLAIM / XGROUP
SETID forms of XREADGROUP, claims and acknowledgements).
"""

import argparse
import os
import random
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402

SKIP = 77
DAXKV = ""
REDIS = ""
TTL_SLACK_MS = 3000


def info(r, section="replication"):
    return r.info(section)


def messages(sub, n, timeout=10.0):
    """The data of up to n messages a redis-py PubSub receives within
    `timeout` seconds, in order."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        msg = sub.get_message(timeout=1)
        if msg is not None:
            got.append(msg["data"])
    return got


def wait_for(pred, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def load_every_type(r, prefix, n, rng):
    """Strings, lists, sets (intset and hashtable), hashes and sorted sets,
    small (listpack) and large encodings; one key in three with a TTL."""
    p = r.pipeline(transaction=False)
    for i in range(n):
        k = "%s:%d" % (prefix, i)
        kind = i % 7
        if kind == 0:
            p.set(k + ":s", "v%d" % i * rng.randint(1, 40))
        elif kind == 1:
            p.set(k + ":i", rng.randint(-10**12, 10**12))
        elif kind == 2:
            p.rpush(k + ":l", *["e%d" % j for j in range(rng.randint(1, 300))])
        elif kind == 3:
            p.sadd(k + ":si", *range(rng.randint(1, 600)))
            p.sadd(k + ":ss", *["m%d" % j for j in range(rng.randint(1, 200))])
        elif kind == 4:
            p.hset(k + ":h", mapping={"f%d" % j: "x" * (j % 90)
                                      for j in range(rng.randint(1, 200))})
        elif kind == 5:
            p.zadd(k + ":z", {"m%d" % j: rng.uniform(-1e6, 1e6)
                              for j in range(rng.randint(1, 300))})
        else:
            p.set(k + ":big", os.urandom(rng.randint(100, 20000)))
        if i % 3 == 0:
            p.execute()
            for key in r.scan_iter(match=k + ":*"):
                r.pexpire(key, rng.randint(60000, 600000))
    p.execute()


def start_writer(master, rng):
    """Writes to `master` from a thread (while a sync runs); returns the
    function that stops it."""
    stop = threading.Event()

    def writer():
        w = master.redis()
        i = 0
        while not stop.is_set():
            w.set("during:%d" % i, i, px=rng.randint(60000, 90000))
            w.hincrby("during:h", "f%d" % (i % 50), 1)
            w.rpush("during:l", i)
            i += 1
    t = threading.Thread(target=writer, daemon=True)
    t.start()

    def stop_writer():
        stop.set()
        t.join()
    return stop_writer


def snapshot(r, key):
    t = r.type(key).decode()
    if t == "string":
        v = r.get(key)
    elif t == "list":
        v = r.lrange(key, 0, -1)
    elif t == "set":
        v = sorted(r.smembers(key))
    elif t == "hash":
        v = sorted(r.hgetall(key).items())
    elif t == "zset":
        v = r.zrange(key, 0, -1, withscores=True)
    elif t == "stream":
        v = r.xrange(key)
    else:
        v = None
    return t, v, r.pttl(key)


def compare(test, master, replica):
    mkeys = sorted(master.scan_iter(count=1000))
    rkeys = sorted(replica.scan_iter(count=1000))
    test.assertEqual(len(mkeys), len(rkeys), "key counts differ")
    test.assertEqual(mkeys, rkeys)
    for k in mkeys:
        mt, mv, mttl = snapshot(master, k)
        rt, rv, rttl = snapshot(replica, k)
        test.assertEqual((mt, mv), (rt, rv), "key %r differs" % k)
        if mttl < 0:
            test.assertEqual(rttl, mttl, "TTL of %r" % k)
        else:
            test.assertLess(abs(rttl - mttl), TTL_SLACK_MS, "TTL of %r" % k)
    return len(mkeys)


def wait_in_sync(master, replica, timeout=60.0):
    def synced():
        ri = info(replica)
        mi = info(master)
        return (ri.get("master_link_status") == "up" and
                ri["slave_repl_offset"] == mi["master_repl_offset"] and
                ri["daxkv_repl_durable_offset"] == mi["master_repl_offset"])
    wait_for(synced, timeout, "replica offset == master offset")


class ServerTestCase(unittest.TestCase):
    pool_kind = "shm"  # a daxkv server's pool

    def start(self, target, binary, **kw):
        s = harness.ServerProcess(target=target, server=binary,
                                  pool_kind=self.pool_kind, **kw)
        s.start_or_cleanup()
        self.addCleanup(s.cleanup)
        return s


def compare_groups(test, mr, r, key):
    """The consumer groups of stream `key`: XINFO GROUPS, every pending
    entry (ID, consumer, deliveries) and the consumers' names."""
    def pending(c, group):
        return [(p["message_id"], p["consumer"], p["times_delivered"])
                for p in c.xpending_range(key, group, "-", "+", 1000)]

    def groups(c):
        # Redis propagates a delivery as XCLAIM ... LASTID, which moves the
        # replica's last delivered ID but not its read counter: entries-read
        # (and the lag derived from it) may differ, on a Redis replica too.
        return [{k: v for k, v in g.items() if k not in ("entries-read", "lag")}
                for g in c.xinfo_groups(key)]

    test.assertEqual(groups(r), groups(mr))
    for g in mr.xinfo_groups(key):
        name = g["name"]
        test.assertEqual(pending(r, name), pending(mr, name))
        test.assertEqual([c["name"] for c in r.xinfo_consumers(key, name)],
                         [c["name"] for c in mr.xinfo_consumers(key, name)])


class ReplicationTest(ServerTestCase):
    def pair(self, master_args=(), requirepass=None):
        m = self.start("redis", REDIS, extra_args=list(master_args),
                       requirepass=requirepass)
        d = self.start("daxkv", DAXKV)
        return m, m.redis(), d, d.redis()

    def replicate(self, d, r, m, masterauth=None):
        if masterauth:
            self.assertTrue(r.config_set("masterauth", masterauth))
        self.assertEqual(r.execute_command("REPLICAOF", "127.0.0.1", m.port),
                         b"OK")

    def full_sync(self, master_args):
        rng = random.Random(15)
        m, mr, d, r = self.pair(master_args)
        load_every_type(mr, "pre", 700, rng)
        r.set("stale", "dropped by the full sync")
        stop_writer = start_writer(m, rng)
        self.replicate(d, r, m)
        wait_for(lambda: info(r)["master_link_status"] == "up", 60, "link up")
        time.sleep(0.3)
        stop_writer()
        wait_in_sync(mr, r)
        self.assertIsNone(r.get("stale"))
        n = compare(self, mr, r)
        self.assertGreater(n, 700)
        self.assertEqual(info(mr, "stats")["sync_full"], 1)
        return m, mr, d, r

    def test_full_sync_disk_based(self):
        self.full_sync(["--repl-diskless-sync", "no"])

    def test_full_sync_diskless(self):
        self.full_sync(["--repl-diskless-sync", "yes",
                        "--repl-diskless-sync-delay", "0"])

    def test_info_and_role(self):
        m, mr, d, r = self.pair()
        self.assertEqual(r.execute_command("ROLE")[0], b"master")
        self.assertEqual(info(r)["role"], "master")
        self.replicate(d, r, m)
        wait_in_sync(mr, r)
        ri = info(r)
        self.assertEqual(ri["role"], "slave")
        self.assertEqual(ri["master_host"], "127.0.0.1")
        self.assertEqual(ri["master_port"], m.port)
        self.assertEqual(ri["master_sync_in_progress"], 0)
        self.assertEqual(ri["master_replid"], info(mr)["master_replid"])
        role = r.execute_command("ROLE")
        self.assertEqual(role[:4], [b"slave", b"127.0.0.1", m.port,
                                    b"connected"])
        self.assertEqual(role[4], info(mr)["master_repl_offset"])
        self.assertEqual(
            r.execute_command("REPLICAOF", "127.0.0.1", m.port),
            b"OK Already connected to specified master")
        # The master sees us as a replica, online (once it has reaped its
        # RDB child: until then it reports wait_bgsave).
        wait_for(lambda: (info(mr).get("slave0") or {}).get("state") ==
                 "online", 10, "slave0 online")
        self.assertEqual(r.execute_command("REPLICAOF", "NO", "ONE"), b"OK")
        self.assertEqual(info(r)["role"], "master")
        self.assertEqual(r.set("after", "promotion"), True)

    def test_command_stream(self):
        m, mr, d, r = self.pair()
        self.replicate(d, r, m)
        wait_in_sync(mr, r)
        mr.set("n", 10)
        mr.incr("n")
        mr.set("t", "x", ex=100)
        mr.expire("n", 200)
        mr.hset("h", mapping={"a": 1, "b": 2})
        mr.hdel("h", "a")
        mr.rpush("l", *range(20))
        mr.ltrim("l", 2, 10)
        mr.sadd("s", "a", "b", "c")
        mr.srem("s", "b")
        mr.zadd("z", {"a": 1, "b": 2})
        mr.zincrby("z", 5, "a")
        with mr.pipeline(transaction=True) as p:
            p.set("tx1", 1).incr("tx1").lpush("txl", "a").sadd("txs", "x")
            p.execute()
        mr.eval("redis.call('set', KEYS[1], ARGV[1]);"
                "redis.call('hset', KEYS[2], 'f', ARGV[1])", 2, "ev", "evh",
                "val")
        mr.set("gone", 1, px=50)
        mr.delete("h2")
        mr.rename("s", "s2")
        # Redis propagates GEOADD as ZADD, the searches' STORE as sent.
        mr.geoadd("geo", (13.361389, 38.115556, "Palermo",
                          15.087269, 37.502669, "Catania"))
        mr.georadius("geo", 15, 37, 200, unit="km", store_dist="geo_near")
        mr.geosearchstore("geo_box", "geo", member="Palermo", width=400,
                          height=400, unit="km")
        time.sleep(0.2)
        mr.get("gone")  # the master expires it and propagates DEL
        wait_in_sync(mr, r)
        compare(self, mr, r)
        self.assertEqual(info(r)["daxkv_repl_stream_errors"], 0)

    def test_publish_reaches_the_replicas_subscribers(self):
        """Redis propagates PUBLISH to replicas: a client subscribed on the
        daxkv replica gets each message of the master's stream once, in
        order, also from inside MULTI/EXEC and scripts."""
        m, mr, d, r = self.pair()
        self.replicate(d, r, m)
        wait_in_sync(mr, r)
        sub = d.redis().pubsub()
        sub.subscribe("ch")
        self.assertEqual(sub.get_message(timeout=5)["type"], "subscribe")
        mr.publish("ch", "m1")
        with mr.pipeline(transaction=True) as p:
            p.set("k", 1).publish("ch", "m2").publish("ch", "m3")
            p.execute()
        mr.eval("redis.call('publish', 'ch', 'm4')", 0)
        mr.publish("ch", "m5")
        self.assertEqual(messages(sub, 5), [b"m1", b"m2", b"m3", b"m4", b"m5"])
        time.sleep(0.3)
        self.assertIsNone(sub.get_message(timeout=0.2))
        sub.close()

    def test_partial_resync_after_link_drop(self):
        m, mr, d, r = self.pair()
        load_every_type(mr, "p", 100, random.Random(7))
        self.replicate(d, r, m)
        wait_in_sync(mr, r)
        for round_ in range(3):
            before = info(mr, "stats")
            mr.execute_command("CLIENT", "KILL", "TYPE", "replica")
            for i in range(200):
                mr.set("r%d:%d" % (round_, i), i)
                mr.hset("rh", "f%d" % i, round_)
                if i % 50 == 0:  # MULTI/EXEC blocks count in the offset
                    with mr.pipeline(transaction=True) as p:
                        p.incr("rc").sadd("rs", i).execute()
            wait_in_sync(mr, r)
            after = info(mr, "stats")
            self.assertEqual(after["sync_partial_ok"],
                             before["sync_partial_ok"] + 1)
            self.assertEqual(after["sync_full"], before["sync_full"])
        compare(self, mr, r)
        self.assertEqual(info(r)["daxkv_repl_partial_syncs"], 3)

    def test_client_kill_type_master_on_the_replica(self):
        m, mr, d, r = self.pair()
        self.replicate(d, r, m)
        wait_in_sync(mr, r)
        listed = r.execute_command("CLIENT", "LIST", "TYPE", "master")
        self.assertIn(b"flags=M", listed)
        self.assertNotIn(b"flags=M",
                         r.execute_command("CLIENT", "LIST", "TYPE", "normal"))
        before = info(mr, "stats")["sync_partial_ok"]
        self.assertEqual(
            r.execute_command("CLIENT", "KILL", "TYPE", "master"), 1)
        mr.set("after-kill", 1)
        wait_for(lambda: info(mr, "stats")["sync_partial_ok"] == before + 1,
                 30, "partial resync")
        wait_in_sync(mr, r)
        self.assertEqual(r.get("after-kill"), b"1")
        self.assertEqual(info(mr, "stats")["sync_full"], 1)

    def test_readonly_replica(self):
        m, mr, d, r = self.pair()
        self.replicate(d, r, m)
        wait_in_sync(mr, r)
        with d.client() as c:
            self.assertEqual(
                c.cmd("SET", "k", "v"),
                harness.RespError(
                    "READONLY You can't write against a read only replica."))
            self.assertEqual(c.cmd("MULTI"), "OK")
            c.cmd("INCR", "k")
            # As redis-server 7.0.15 answers on a read-only replica.
            self.assertEqual(c.cmd("EXEC"), harness.RespError(
                "EXECABORT Transaction discarded because of previous "
                "errors."))
            self.assertIsNone(c.cmd("GET", "k"))
            self.assertEqual(c.cmd("CONFIG", "SET", "replica-read-only",
                                   "no"), "OK")
            self.assertEqual(c.cmd("SET", "k", "v"), "OK")

    def test_masterauth(self):
        m, mr, d, r = self.pair(requirepass="s3cret")
        mr.set("a", 1)
        self.replicate(d, r, m, masterauth="s3cret")
        wait_in_sync(mr, r)
        self.assertEqual(r.get("a"), b"1")

    def test_wait_counts_durable_acks(self):
        m, mr, d, r = self.pair()
        self.replicate(d, r, m)
        wait_in_sync(mr, r)
        mr.set("w", 1)
        self.assertEqual(mr.execute_command("WAIT", 1, 5000), 1)
        self.assertEqual(r.get("w"), b"1")

    def test_other_database_on_master_stops_the_link(self):
        m, mr, d, r = self.pair()
        self.replicate(d, r, m)
        wait_in_sync(mr, r)
        import redis
        db1 = redis.Redis(host="127.0.0.1", port=m.port, db=1)
        db1.set("in-db1", 1)
        ri = wait_for(lambda: (lambda i: i if i["daxkv_repl_stream_errors"]
                               else None)(info(r)), 30, "stream error")
        self.assertIn("database 1", ri["daxkv_repl_last_stream_error"])
        self.assertIsNone(r.get("in-db1"))  # never merged into db 0

    def test_replicaof_at_start_up(self):
        m = self.start("redis", REDIS, requirepass="pw")
        m.redis().set("boot", "x")
        d = self.start("daxkv", DAXKV,
                       extra_args=["--replicaof", "127.0.0.1 %d" % m.port,
                                   "--masterauth", "pw"])
        wait_in_sync(m.redis(), d.redis())
        self.assertEqual(d.redis().get("boot"), b"x")
        self.assertEqual(d.redis().config_get("masterauth"),
                         {"masterauth": "pw"})

    def test_functions_replicate(self):
        m, mr, d, r = self.pair()
        lib = ("#!lua name=replib\n"
               "redis.register_function{function_name='rget', "
               "callback=function(keys, args) return redis.call('get', "
               "keys[1]) end, flags={'no-writes'}}")
        mr.execute_command("FUNCTION", "LOAD", lib)
        mr.set("fk", "fv")
        r.execute_command("FUNCTION", "LOAD",
                          lib.replace("replib", "ours").replace("rget",
                                                                "oget"))
        self.replicate(d, r, m)
        wait_in_sync(mr, r)
        # The master's libraries replace the replica's (full sync).
        names = [x[1] for x in r.execute_command("FUNCTION", "LIST")]
        self.assertEqual(names, [b"replib"])
        self.assertEqual(r.execute_command("FCALL_RO", "rget", 1, "fk"),
                         b"fv")
        mr.execute_command("FUNCTION", "DELETE", "replib")  # propagated
        wait_in_sync(mr, r)
        self.assertEqual(r.execute_command("FUNCTION", "LIST"), [])

    def test_restarted_replica_resyncs(self):
        m = self.start("redis", REDIS)
        mr = m.redis()
        load_every_type(mr, "rs", 100, random.Random(3))
        d = self.start("daxkv", DAXKV,
                       extra_args=["--replicaof", "127.0.0.1 %d" % m.port])
        wait_in_sync(mr, d.redis())
        d.kill9()
        mr.set("while-down", 1)
        d.start()
        wait_in_sync(mr, d.redis())
        compare(self, mr, d.redis())
        # The pool's resume record (kv/replica_resume.h): +CONTINUE.
        self.assertEqual(info(mr, "stats")["sync_full"], 1)
        self.assertEqual(info(mr, "stats")["sync_partial_ok"], 1)

    def test_streams_replicate(self):
        m, mr, d, r = self.pair()
        for i in range(1, 260):  # several listpack nodes, mixed fields
            mr.xadd("st", {"f": i} if i % 4 else {"g": "x" * i, "h": ""},
                    id="%d-%d" % (i, i % 3))
        mr.xdel("st", "259-1", "10-1")
        mr.xadd("empty", {"f": "v"}, id="5-5")
        mr.xdel("empty", "5-5")
        self.replicate(d, r, m)
        wait_in_sync(mr, r)
        compare(self, mr, r)
        self.assertEqual(r.xlen("empty"), 0)
        # The command stream: Redis propagates XADD with its generated ID
        # and `~` trims rewritten as exact ones.
        for i in range(300):
            mr.xadd("st", {"n": i}, maxlen=120, approximate=True)
        mr.xdel("st", mr.xrange("st", count=1)[0][0])
        mr.xtrim("st", minid="200", approximate=False)
        mr.execute_command("XSETID", "empty", "99-0")
        mr.xadd("empty", {"f": "v"}, id="99-*")
        wait_in_sync(mr, r)
        compare(self, mr, r)
        self.assertEqual(info(r)["daxkv_repl_stream_errors"], 0)
        self.assertEqual(r.execute_command("REPLICAOF", "NO", "ONE"), b"OK")
        import redis
        with self.assertRaises(redis.ResponseError) as cm:
            r.xadd("empty", {"f": "v"}, id="99-1")  # the last ID came along
        self.assertIn("equal or smaller", str(cm.exception))

    def test_stream_consumer_groups_replicate(self):
        m, mr, d, r = self.pair()
        for i in range(1, 8):
            mr.xadd("st", {"f": i}, id="%d-0" % i)
        mr.xgroup_create("st", "g", id="0")
        mr.xgroup_create("st", "h", id="$")
        mr.xreadgroup("g", "alice", {"st": ">"}, count=3)
        mr.xreadgroup("g", "bob", {"st": ">"}, count=2)
        mr.xack("st", "g", "2-0")
        mr.xgroup_createconsumer("st", "h", "idle")
        self.replicate(d, r, m)  # full sync: the groups in the RDB
        wait_in_sync(mr, r)
        compare(self, mr, r)
        compare_groups(self, mr, r, "st")
        # The command stream: XREADGROUP as XCLAIM ... LASTID, NOACK as
        # XGROUP SETID, claims, acknowledgements, group administration.
        mr.xreadgroup("g", "carol", {"st": ">"}, count=1)
        mr.xreadgroup("h", "dave", {"st": "0"}, noack=True)
        mr.xadd("st", {"f": 8}, id="8-0")
        mr.xreadgroup("h", "erin", {"st": ">"}, noack=True)
        mr.xclaim("st", "g", "bob", 0, ["1-0"])
        mr.xautoclaim("st", "g", "carol", 0, "0-0", count=2)
        mr.xdel("st", "3-0")
        mr.xautoclaim("st", "g", "carol", 0, "0-0")
        mr.xgroup_delconsumer("st", "g", "alice")
        mr.xgroup_setid("st", "g", "5-0", entries_read=5)
        mr.xgroup_create("st", "gone", id="0")
        mr.xgroup_destroy("st", "gone")
        wait_in_sync(mr, r)
        compare(self, mr, r)
        compare_groups(self, mr, r, "st")
        self.assertEqual(info(r)["daxkv_repl_stream_errors"], 0)


def main(case=None, with_other_modules=True):
    """Runs `case` (ReplicationTest by default) and, unless told not to,
    the master-side and Sentinel-command cases."""
    global DAXKV, REDIS
    p = argparse.ArgumentParser()
    p.add_argument("--daxkv", default="")
    p.add_argument("--redis", default="")
    p.add_argument("-k", dest="pattern", action="append", default=[])
    p.add_argument("-v", dest="verbose", action="store_true")
    a = p.parse_args()
    DAXKV, REDIS = a.daxkv, a.redis
    for b in (DAXKV, REDIS):
        if not b or not os.access(b, os.X_OK):
            print("SKIP: missing server binary (%r)" % b)
            return SKIP
    loader = unittest.TestLoader()
    if a.pattern:
        loader.testNamePatterns = ["*%s*" % x for x in a.pattern]
    suite = loader.loadTestsFromTestCase(case or ReplicationTest)
    if not with_other_modules:
        return run(suite, a.verbose)
    import repl_master_test  # daxkv as the master (issue 15, part 2)
    repl_master_test.configure(DAXKV, REDIS)
    suite.addTests(
        loader.loadTestsFromTestCase(repl_master_test.ReplMasterTest))
    import sentinel_commands_test  # what Sentinel sends (part 4)
    sentinel_commands_test.configure(DAXKV, REDIS)
    suite.addTests(loader.loadTestsFromTestCase(
        sentinel_commands_test.SentinelCommandsTest))
    return run(suite, a.verbose)


def run(suite, verbose):
    res = unittest.TextTestRunner(verbosity=2 if verbose else 1).run(suite)
    print("replication: %d run, %d failed, %d errors" %
          (res.testsRun, len(res.failures), len(res.errors)))
    return 0 if res.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
