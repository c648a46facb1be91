"""Function libraries persist (issue #16): FUNCTION LOAD / DELETE / FLUSH /
RESTORE survive a restart (SIGTERM and kill -9), FLUSHALL keeps the
libraries (as Redis does) and they never show as keys (KEYS, SCAN, DBSIZE,
RANDOMKEY, INFO keyspace). Against redis-server the same tests run with
appendonly yes + appendfsync always (Redis keeps functions in the AOF)."""

import signal
import unittest

from harness import RespError, ServerProcess


def library(name, fn, body="return 'ok'", flags=""):
    extra = ", flags={%s}" % flags if flags else ""
    return ("#!lua name=%s\n"
            "redis.register_function{function_name='%s', "
            "callback=function(keys, args) %s end%s}" % (name, fn, body, extra))


class FunctionPersistenceTest(unittest.TestCase):
    def setUp(self):
        self.server = ServerProcess(persistent=True).start()

    def tearDown(self):
        self.server.cleanup()

    def libraries(self, c):
        return sorted(entry[1] for entry in c.cmd("FUNCTION", "LIST"))

    def assert_no_keys(self, c):
        self.assertEqual(c.cmd("DBSIZE"), 0)
        self.assertEqual(c.cmd("KEYS", "*"), [])
        self.assertEqual(c.cmd("SCAN", 0, "COUNT", 1000), [b"0", []])
        self.assertIsNone(c.cmd("RANDOMKEY"))
        self.assertNotIn(b"db0:", c.cmd("INFO", "keyspace"))

    def test_load_restart_fcall_and_flushall_keeps_it(self):
        with self.server.client() as c:
            self.assertEqual(
                c.cmd("FUNCTION", "LOAD",
                      library("lib1", "get2",
                              "return redis.call('GET', keys[1]) .. args[1]")),
                b"lib1")
            c.cmd("SET", "k", "v")
            self.assertEqual(c.cmd("FCALL", "get2", 1, "k", "!"), b"v!")
            self.assertEqual(c.cmd("FLUSHALL"), "OK")
            self.assert_no_keys(c)
            self.assertEqual(self.libraries(c), [b"lib1"])
        self.server.restart()
        with self.server.client() as c:
            self.assert_no_keys(c)
            c.cmd("SET", "k", "w")
            self.assertEqual(c.cmd("FCALL", "get2", 1, "k", "?"), b"w?")
            self.assertEqual(c.cmd("FLUSHALL"), "OK")
            self.assertEqual(c.cmd("FLUSHDB"), "OK")
        self.server.restart(signal.SIGKILL)
        with self.server.client() as c:
            self.assert_no_keys(c)
            self.assertEqual(self.libraries(c), [b"lib1"])
            c.cmd("SET", "k", "u")
            self.assertEqual(c.cmd("FCALL", "get2", 1, "k", "."), b"u.")

    def test_replace_delete_and_flush_persist(self):
        with self.server.client() as c:
            c.cmd("FUNCTION", "LOAD", library("a", "fa", "return 1"))
            c.cmd("FUNCTION", "LOAD", library("b", "fb", "return 2"))
            c.cmd("FUNCTION", "LOAD", "REPLACE", library("b", "fb", "return 3"))
            self.assertEqual(c.cmd("FUNCTION", "DELETE", "a"), "OK")
        self.server.restart(signal.SIGKILL)
        with self.server.client() as c:
            self.assertEqual(self.libraries(c), [b"b"])
            self.assertEqual(c.cmd("FCALL", "fb", 0), 3)
            self.assertEqual(c.cmd("FCALL", "fa", 0),
                             RespError("ERR Function not found"))
            self.assertEqual(c.cmd("FUNCTION", "FLUSH"), "OK")
        self.server.restart()
        with self.server.client() as c:
            self.assertEqual(c.cmd("FUNCTION", "LIST"), [])
            self.assertEqual(c.cmd("FCALL", "fb", 0),
                             RespError("ERR Function not found"))

    def test_restore_policies_persist(self):
        with self.server.client() as c:
            c.cmd("FUNCTION", "LOAD", library("x", "fx", "return 'x1'"))
            c.cmd("FUNCTION", "LOAD", library("y", "fy", "return 'y1'"))
            payload = c.cmd("FUNCTION", "DUMP")
            c.cmd("FUNCTION", "FLUSH")
            c.cmd("FUNCTION", "LOAD", library("z", "fz", "return 'z1'"))
            self.assertEqual(c.cmd("FUNCTION", "RESTORE", payload), "OK")
        self.server.restart(signal.SIGKILL)
        with self.server.client() as c:
            self.assertEqual(self.libraries(c), [b"x", b"y", b"z"])
            c.cmd("FUNCTION", "DELETE", "x")
            # APPEND collides with y: nothing changes, durably.
            self.assertIsInstance(c.cmd("FUNCTION", "RESTORE", payload),
                                  RespError)
            self.assertEqual(c.cmd("FUNCTION", "RESTORE", payload, "REPLACE"),
                             "OK")
        self.server.restart()
        with self.server.client() as c:
            self.assertEqual(self.libraries(c), [b"x", b"y", b"z"])
            self.assertEqual(c.cmd("FUNCTION", "RESTORE", payload, "FLUSH"),
                             "OK")
        self.server.restart(signal.SIGKILL)
        with self.server.client() as c:
            self.assertEqual(self.libraries(c), [b"x", b"y"])
            self.assertEqual(c.cmd("FCALL", "fy", 0), b"y1")

    def test_user_keys_never_reach_the_libraries(self):
        with self.server.client() as c:
            c.cmd("FUNCTION", "LOAD", library("lib", "f", "return 'code'"))
            # Keys spelled like wherever a server might keep libraries are
            # ordinary keys: writing and deleting them changes no library.
            for k in ("function/lib", "lib", "__functions__"):
                c.cmd("SET", k, "junk")
            self.assertEqual(c.cmd("DBSIZE"), 3)
            c.cmd("DEL", "function/lib", "lib", "__functions__")
        self.server.restart()
        with self.server.client() as c:
            self.assertEqual(c.cmd("FCALL", "f", 0), b"code")
            self.assert_no_keys(c)


if __name__ == "__main__":
    unittest.main()
