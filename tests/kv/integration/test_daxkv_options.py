"""daxkv-server's own start-up surface (skipped against redis-server): the
config file, start-up report, clear errors for a bad pool, SHUTDOWN NOSAVE
keeping acknowledged data, and SELECT limits."""

import os
import subprocess
import unittest

from harness import (SERVER, ServerProcess, ServerTestCase, free_port,
                     is_daxkv)


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


@unittest.skipUnless(is_daxkv(), "daxkv-server value size limit")
class ValueLimitTest(ServerTestCase):
    """A value larger than one engine segment (pool_size/32, 4-64 MiB) is
    refused with an error naming the limit; Redis would accept it (up to
    proto-max-bulk-len), so this pins the documented difference."""

    def test_oversized_value_refused_cleanly(self):
        c = self.c
        self.assertEqual(c.cmd("SET", "k", "old"), "OK")
        reply = c.cmd("SET", "k", b"x" * (65 << 20))  # > any segment
        self.assertErrPrefix(reply, "ERR ")
        self.assertIn("segment", reply.text)
        self.assertEqual(c.cmd("GET", "k"), b"old")
        self.assertErrPrefix(c.cmd("APPEND", "k", b"y" * (65 << 20)), "ERR ")
        self.assertEqual(c.cmd("GET", "k"), b"old")


if __name__ == "__main__":
    unittest.main()
