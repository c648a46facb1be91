"""daxkv-server's own start-up surface (skipped against redis-server): the
config file, start-up report, clear errors for a bad pool, SHUTDOWN NOSAVE
keeping acknowledged data, SELECT limits, and values larger than an engine
segment (LargeValueTest also runs against redis-server)."""

import os
import subprocess
import unittest

from harness import (SERVER, RespError, ServerProcess, ServerTestCase,
                     free_port, is_daxkv)


@unittest.skipUnless(is_daxkv(), "daxkv-server options")
class DaxkvOptionsTest(unittest.TestCase):
    def setUp(self):
        self.server = ServerProcess()

    def tearDown(self):
        self.server.cleanup()

    def test_config_file(self):
        conf = os.path.join(self.server.dir, "daxkv.conf")
        pool = os.path.join(self.server.dir, "conf.pool")
        with open(conf, "w") as f:
            f.write("# daxkv-server settings\npool %s\npool_size 64M\n"
                    "port %d\nrequirepass fromfile\n"
                    % (pool, self.server.port))
        self.server.command_line = lambda: [SERVER, "--config", conf]
        self.server.start()
        with self.server.client() as c:
            self.assertEqual(c.cmd("PING").text[:6], "NOAUTH")
            self.assertEqual(c.cmd("AUTH", "fromfile"), "OK")
            self.assertEqual(c.cmd("SET", "k", "v"), "OK")
        self.assertTrue(os.path.exists(pool))

    def test_config_file_runtime_settings(self):
        """Redis settings CONFIG SET owns may come from the file; CONFIG
        REWRITE writes back the ones changed since; a bad value stops the
        start-up with the setting named."""
        conf = os.path.join(self.server.dir, "daxkv.conf")
        pool = os.path.join(self.server.dir, "conf.pool")
        with open(conf, "w") as f:
            f.write("pool %s\npool_size 64M\nport %d\n"
                    "slowlog-log-slower-than 0\nslowlog_max_len 7\n"
                    "latency-monitor-threshold 5\nlua-time-limit 250\n"
                    "latency-tracking-info-percentiles \"50 99.5\"\n"
                    "set-max-intset-entries 2\n"
                    % (pool, self.server.port))
        self.server.command_line = lambda: [SERVER, "--config", conf]
        self.server.start()
        with self.server.client() as c:
            got = c.cmd("CONFIG", "GET", "*")
            got = dict(zip(got[0::2], got[1::2]))
            self.assertEqual(got[b"slowlog-log-slower-than"], b"0")
            self.assertEqual(got[b"slowlog-max-len"], b"7")
            self.assertEqual(got[b"latency-monitor-threshold"], b"5")
            self.assertEqual(got[b"busy-reply-threshold"], b"250")
            self.assertEqual(got[b"latency-tracking-info-percentiles"],
                             b"50 99.5")
            newest = c.cmd("SLOWLOG", "GET", 1)[0]  # threshold 0: logged
            self.assertEqual(newest[3], [b"CONFIG", b"GET", b"*"])
            # The engine packs sets of at most 2 integers from the start.
            self.assertEqual(got[b"set-max-intset-entries"], b"2")
            c.cmd("SADD", "two", "1", "2")
            c.cmd("SADD", "three", "1", "2", "3")
            self.assertEqual(c.cmd("OBJECT", "ENCODING", "two"), b"intset")
            self.assertEqual(c.cmd("OBJECT", "ENCODING", "three"),
                             b"hashtable")
            self.assertLess(c.cmd("MEMORY", "USAGE", "two"),
                            c.cmd("MEMORY", "USAGE", "three"))
            self.assertEqual(
                c.cmd("CONFIG", "SET", "slowlog-max-len", "9"), "OK")
            self.assertEqual(c.cmd("CONFIG", "REWRITE"), "OK")
        with open(conf) as f:
            text = f.read()
        self.assertIn("slowlog-max-len 9\n", text)
        self.assertIn("busy-reply-threshold 250\n", text)  # for its alias
        self.assertIn("set-max-intset-entries 2\n", text)
        self.assertNotIn("lua-time-limit", text)
        self.assertNotIn("slowlog_max_len", text)
        self.server.stop()
        self.server.start()  # the rewritten file reads back
        with self.server.client() as c:
            self.assertEqual(c.cmd("CONFIG", "GET", "slowlog-max-len"),
                             [b"slowlog-max-len", b"9"])
            self.assertEqual(
                c.cmd("CONFIG", "GET", "latency-tracking-info-percentiles"),
                [b"latency-tracking-info-percentiles", b"50 99.5"])
        self.server.stop()
        with open(conf, "a") as f:
            f.write("slowlog-max-len -5\n")
        out = subprocess.run(self.server.command_line(), capture_output=True,
                             timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(b"slowlog-max-len", out.stderr + out.stdout)

    def test_startup_report(self):
        self.server.start()
        self.server.stop()
        log = self.server.log_tail(100)
        for word in ("backing", "granularity", "durability", "recovery",
                     "Ready to accept connections"):
            self.assertIn(word, log)
        self.assertIn("stopped cleanly", log)

    def test_bad_pool_path_is_a_clear_error(self):
        out = subprocess.run(
            [SERVER, "--pool", "/nonexistent-dir/x.pool", "--port",
             str(free_port())], capture_output=True, timeout=30)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(b"/nonexistent-dir/x.pool", out.stdout + out.stderr)

    def test_shutdown_nosave_keeps_acknowledged_data(self):
        self.server.start()
        with self.server.client() as c:
            self.assertEqual(c.cmd("SET", "k", "v"), "OK")
            c.send("SHUTDOWN", "NOSAVE")
            self.assertEqual(c.read_until_closed(timeout=30), b"")
        self.server.proc.wait(30)
        self.server.proc = None
        self.server.start()
        with self.server.client() as c:
            self.assertEqual(c.cmd("GET", "k"), b"v")
            self.assertIsNotNone(c.cmd("SELECT", 1).text)
            self.assertEqual(c.cmd("SELECT", 0), "OK")


@unittest.skipUnless(is_daxkv(), "daxkv-server pool limits")
class PoolFullTest(unittest.TestCase):
    """A full pool refuses writes with an OOM error, keeps serving reads and
    everything acknowledged, and recovers space once keys go away."""

    def setUp(self):
        self.server = ServerProcess(pool_size="32M").start()

    def tearDown(self):
        self.server.cleanup()

    def fill_until_full(self, c, value):
        for start in range(0, 200000, 100):
            replies = c.pipeline([("SET", "k%d" % j, value)
                                  for j in range(start, start + 100)])
            errors = [r for r in replies if r != "OK"]
            if errors:
                return start + replies.index(errors[0]), errors[0]
        self.fail("a 32M pool took 200000 x 1000-byte values")

    def test_full_pool(self):
        value = b"x" * 1000
        # Generous timeout: on an ordinary file every group commit is an
        # msync to disk, a few thousand writes/s on a loaded machine.
        with self.server.client(timeout=120) as c:
            acked, err = self.fill_until_full(c, value)
            self.assertTrue(err.text.startswith("OOM "), err)
            self.assertEqual(c.cmd("GET", "k0"), value)
            self.assertEqual(c.cmd("GET", "k%d" % (acked - 1)), value)
            self.assertTrue(c.cmd("DBSIZE") >= acked)
            self.assertEqual(c.cmd("FLUSHALL"), "OK")
            half = [("SET", "k%d" % j, value) for j in range(acked // 2)]
            for _ in range(5):  # overwrites: compaction must keep up
                self.assertEqual(set(c.pipeline(half)), {"OK"})
        self.server.restart()
        with self.server.client() as c:
            self.assertEqual(c.cmd("DBSIZE"), acked // 2)
            self.assertEqual(c.cmd("GET", "k1"), value)


def big_value(n, salt):
    """n bytes that differ with salt and with the offset (a shifted, torn or
    mixed value never compares equal)."""
    block = bytes((salt + i * 7) % 256 for i in range(251))
    return (block * (n // 251 + 1))[:n]


class LargeValueTest(ServerTestCase):
    """Values larger than an engine segment (pool_size/32, 4-64 MiB) are
    stored in spans of segments: they behave as in Redis up to
    proto-max-bulk-len (512 MB)."""

    def test_20mb_value_through_redis_py(self):
        r = self.server.redis(socket_timeout=120)
        v1, v2 = big_value(20 << 20, 1), big_value((20 << 20) + 3, 2)
        try:
            self.assertTrue(r.set("big", v1))
            self.assertEqual(r.get("big"), v1)
            self.assertEqual(r.strlen("big"), len(v1))
            self.assertEqual(r.getrange("big", 9 << 20, (9 << 20) + 99),
                             v1[9 << 20:(9 << 20) + 100])
            self.assertTrue(r.set("big", v2))  # overwrite span by span
            self.assertEqual(r.append("big", b"tail"), len(v2) + 4)
            self.assertEqual(r.get("big"), v2 + b"tail")
            if is_daxkv():  # Redis keeps it only with persistence on
                self.server.restart()
                r = self.server.redis(socket_timeout=120)
                self.assertEqual(r.get("big"), v2 + b"tail")
            self.assertEqual(r.delete("big"), 1)
            self.assertIsNone(r.get("big"))
        finally:
            r.close()

    def test_value_at_the_bulk_limit(self):
        c = self.c
        limit = 1 << 20  # Redis' minimum proto-max-bulk-len
        self.assertEqual(c.cmd("CONFIG", "SET", "proto-max-bulk-len",
                               str(limit)), "OK")
        try:
            v = big_value(limit, 3)
            self.assertEqual(c.cmd("SET", "k", v), "OK")
            self.assertEqual(c.cmd("GET", "k"), v)
            self.expect_closed_with(
                b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % (limit + 1),
                b"-ERR Protocol error: invalid bulk length\r\n")
        finally:
            self.assertEqual(c.cmd("CONFIG", "SET", "proto-max-bulk-len",
                                   str(512 << 20)), "OK")
        self.assertEqual(c.cmd("GET", "k"), v)


@unittest.skipUnless(is_daxkv(), "daxkv-server pool limits")
class ValueLargerThanPoolTest(unittest.TestCase):
    """A 32M pool has 7 segments of 4 MiB: a 12 MB value fits in a span, a
    30 MB one cannot; it is refused with the engine's NoSpace text (as a
    full pool is, with OOM) and the old value stays."""

    def setUp(self):
        self.server = ServerProcess(pool_size="32M").start()

    def tearDown(self):
        self.server.cleanup()

    def test_too_large_for_the_pool(self):
        with self.server.client(timeout=120) as c:
            v = big_value(12 << 20, 4)
            self.assertEqual(c.cmd("SET", "k", v), "OK")
            reply = c.cmd("SET", "k", big_value(30 << 20, 5))
            self.assertIsInstance(reply, RespError)
            self.assertTrue(reply.text.startswith("OOM "), reply.text)
            self.assertIn("contiguous free segments", reply.text)
            self.assertEqual(c.cmd("GET", "k"), v)
        self.server.restart()
        with self.server.client(timeout=120) as c:
            self.assertEqual(c.cmd("GET", "k"), v)


if __name__ == "__main__":
    unittest.main()
