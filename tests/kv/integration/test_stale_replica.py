"""replica-serve-stale-data: a replica whose link to its master is down
answers from its data set (yes, the default) or refuses every command
without the stale flag with -MASTERDOWN (no). The same test runs against
redis-server and daxkv."""
import time
import unittest

from harness import RespError, ServerProcess, ServerTestCase, free_port

MASTERDOWN = ("MASTERDOWN Link with MASTER is down and "
              "replica-serve-stale-data is set to 'no'.")
NO_WRITES = "#!lua flags=no-writes\n"
STALE_OK = "#!lua flags=allow-stale,no-writes\n"
LIBRARY = """#!lua name=stalelib
redis.register_function('writer', function() return 1 end)
redis.register_function{function_name='reader', callback=function() return 3 end,
                        flags={'no-writes'}}
redis.register_function{function_name='stale_ok', callback=function() return 2 end,
                        flags={'allow-stale', 'no-writes'}}
"""


class StaleReplicaTest(ServerTestCase):

    def become_replica_of_nothing(self):
        """REPLICAOF a port nobody listens on: the link never comes up."""
        self.addCleanup(self.restore)
        self.assertEqual(self.c.cmd("REPLICAOF", "127.0.0.1", free_port()),
                         "OK")

    def restore(self):
        with self.server.client() as c:
            c.cmd("REPLICAOF", "NO", "ONE")
            c.cmd("CONFIG", "SET", "replica-serve-stale-data", "yes")

    def wait_link(self, c, status):
        deadline = time.monotonic() + 30
        want = ("master_link_status:%s" % status).encode()
        while want not in c.cmd("INFO", "replication"):
            self.assertLess(time.monotonic(), deadline, "link never " + status)
            time.sleep(0.05)

    def test_config_names_and_values(self):
        reply = self.c.cmd("CONFIG", "GET", "*serve-stale-data")
        self.assertEqual(dict(zip(reply[::2], reply[1::2])),
                         {b"replica-serve-stale-data": b"yes",
                          b"slave-serve-stale-data": b"yes"})
        self.addCleanup(self.restore)
        self.assertEqual(self.c.cmd("CONFIG", "SET", "slave-serve-stale-data",
                                    "no"), "OK")
        self.assertEqual(self.c.cmd("CONFIG", "GET", "replica-serve-stale-data"),
                         [b"replica-serve-stale-data", b"no"])
        reply = self.c.cmd("CONFIG", "SET", "replica-serve-stale-data", "maybe")
        self.assertIsInstance(reply, RespError)
        self.assertIn("argument must be 'yes' or 'no'", reply.text)

    def test_serves_stale_data_by_default(self):
        self.c.cmd("SET", "k", "v")
        self.become_replica_of_nothing()
        self.assertEqual(self.c.cmd("GET", "k"), b"v")
        self.assertErrPrefix(self.c.cmd("SET", "k", "w"), "READONLY")

    def test_masterdown_while_the_link_is_down(self):
        self.c.cmd("SET", "k", "v")
        self.c.cmd("FUNCTION", "LOAD", "REPLACE", LIBRARY)
        self.addCleanup(lambda: self.server.client().cmd("FUNCTION", "FLUSH"))
        self.become_replica_of_nothing()
        self.assertEqual(
            self.c.cmd("CONFIG", "SET", "replica-serve-stale-data", "no"), "OK")
        self.assertErr(self.c.cmd("GET", "k"), MASTERDOWN)
        self.assertErr(self.c.cmd("DBSIZE"), MASTERDOWN)
        # Commands with the stale flag still run.
        self.assertIn(b"master_link_status:down",
                      self.c.cmd("INFO", "replication"))
        self.assertEqual(self.c.cmd("ECHO", "x"), b"x")
        self.assertEqual(self.c.cmd("ROLE")[0], b"slave")
        # A write: -READONLY comes first, as in Redis's processCommand.
        self.assertErrPrefix(self.c.cmd("SET", "k", "w"), "READONLY")
        # MULTI: the queued read is refused, EXEC aborts.
        self.assertEqual(self.c.cmd("MULTI"), "OK")
        self.assertErr(self.c.cmd("GET", "k"), MASTERDOWN)
        self.assertErrPrefix(self.c.cmd("EXEC"), "EXECABORT")
        self.assertErr(self.c.cmd("PING"), MASTERDOWN)
        # Scripts are judged by their flags: only allow-stale ones run, and
        # their calls of commands without the stale flag fail.
        self.assertErr(self.c.cmd("EVAL", "return 1", "0"), MASTERDOWN)
        self.assertErr(self.c.cmd("EVAL", NO_WRITES + "return 1", "0"),
                       MASTERDOWN)
        self.assertErrPrefix(self.c.cmd("EVAL", "#!lua\nreturn 1", "0"),
                             "READONLY")
        self.assertEqual(self.c.cmd("EVAL", STALE_OK + "return 1", "0"), 1)
        self.assertErrPrefix(
            self.c.cmd("EVAL", STALE_OK + "return redis.call('get', 'k')",
                       "0"),
            "ERR Can not execute the command on a stale replica script: ")
        self.assertEqual(
            self.c.cmd("EVAL", STALE_OK + "return redis.pcall('get', 'k')",
                       "0").text,
            "ERR Can not execute the command on a stale replica")
        self.assertEqual(self.c.cmd("FCALL", "stale_ok", "0"), 2)
        self.assertErrPrefix(self.c.cmd("FCALL", "writer", "0"), "READONLY")
        self.assertErr(self.c.cmd("FCALL_RO", "reader", "0"), MASTERDOWN)
        self.assertErr(self.c.cmd("EVALSHA", "0" * 40, "0"),
                       "NOSCRIPT No matching script. Please use EVAL.")
        # Stale reads are back with the setting, and after promotion.
        self.assertEqual(
            self.c.cmd("CONFIG", "SET", "replica-serve-stale-data", "yes"), "OK")
        self.assertEqual(self.c.cmd("GET", "k"), b"v")
        self.c.cmd("CONFIG", "SET", "replica-serve-stale-data", "no")
        self.assertEqual(self.c.cmd("REPLICAOF", "NO", "ONE"), "OK")
        self.assertEqual(self.c.cmd("GET", "k"), b"v")

    def test_link_up_serves_then_down_refuses(self):
        master = ServerProcess(
            **type(self).server_kwargs).start_or_cleanup()
        self.addCleanup(master.cleanup)
        with master.client() as m:
            m.cmd("SET", "k", "from-master")
        self.addCleanup(self.restore)
        self.assertEqual(
            self.c.cmd("CONFIG", "SET", "replica-serve-stale-data", "no"), "OK")
        self.assertEqual(self.c.cmd("REPLICAOF", "127.0.0.1", master.port),
                         "OK")
        self.wait_link(self.c, "up")
        self.assertEqual(self.c.cmd("GET", "k"), b"from-master")
        master.cleanup()
        self.wait_link(self.c, "down")
        self.assertErr(self.c.cmd("GET", "k"), MASTERDOWN)


if __name__ == "__main__":
    unittest.main()
