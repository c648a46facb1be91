"""Server and connection commands: PING/ECHO/QUIT/RESET/SELECT, AUTH and
requirepass, HELLO, CLIENT, COMMAND, CONFIG, INFO, TIME, SAVE, OBJECT,
unknown commands."""

import subprocess
import time
import unittest

from differential import PeerTestCase
from harness import RespError, ServerProcess, ServerTestCase, is_daxkv


class ConnectionTest(ServerTestCase):
    def test_ping_echo(self):
        c = self.c
        self.assertEqual(c.cmd("PING"), "PONG")
        self.assertEqual(c.cmd("PING", "hi"), b"hi")
        self.assertEqual(c.cmd("ECHO", "hello"), b"hello")
        self.assertErr(c.cmd("PING", "a", "b"),
                       "ERR wrong number of arguments for 'ping' command")

    def test_quit_closes(self):
        c = self.c
        self.assertEqual(c.cmd("QUIT"), "OK")
        self.assertEqual(c.read_until_closed(), b"")

    def test_select(self):
        c = self.c
        self.assertEqual(c.cmd("SELECT", 0), "OK")
        self.assertErr(c.cmd("SELECT", "x"), "ERR value is not an integer "
                       "or out of range")
        if is_daxkv():
            self.assertIsInstance(c.cmd("SELECT", 1), RespError)

    def test_reset(self):
        c = self.c
        c.cmd("CLIENT", "SETNAME", "before")
        c.cmd("MULTI")
        self.assertEqual(c.cmd("RESET"), "RESET")
        self.assertIsNone(c.cmd("CLIENT", "GETNAME"))
        self.assertErr(c.cmd("EXEC"), "ERR EXEC without MULTI")

    def test_unknown_command(self):
        c = self.c
        self.assertErr(c.cmd("FOOBAR", "a", "b"),
                       "ERR unknown command 'FOOBAR', with args beginning "
                       "with: 'a' 'b' ")
        self.assertErr(c.cmd("nosuch"), "ERR unknown command 'nosuch', "
                       "with args beginning with: ")
        self.assertErr(c.cmd("CLIENT", "BOGUS"),
                       "ERR unknown subcommand 'BOGUS'. Try CLIENT HELP.")
        self.assertErr(c.cmd("CONFIG", "BOGUS"),
                       "ERR unknown subcommand 'BOGUS'. Try CONFIG HELP.")
        self.assertEqual(c.cmd("PING"), "PONG")

    def test_commands_are_case_insensitive(self):
        c = self.c
        self.assertEqual(c.cmd("sEt", "k", "v"), "OK")
        self.assertEqual(c.cmd("get", "k"), b"v")


class ClientCommandTest(ServerTestCase):
    def test_setname_getname(self):
        c = self.c
        self.assertIsNone(c.cmd("CLIENT", "GETNAME"))
        self.assertEqual(c.cmd("CLIENT", "SETNAME", "worker-1"), "OK")
        self.assertEqual(c.cmd("CLIENT", "GETNAME"), b"worker-1")
        self.assertErr(c.cmd("CLIENT", "SETNAME", "has space"),
                       "ERR Client names cannot contain spaces, newlines or "
                       "special characters.")

    def test_id_list_info(self):
        c = self.c
        cid = c.cmd("CLIENT", "ID")
        self.assertIsInstance(cid, int)
        c.cmd("CLIENT", "SETNAME", "lister")
        with self.server.client() as other:
            if self.server.requirepass:
                other.cmd("AUTH", self.server.requirepass)
            self.assertNotEqual(other.cmd("CLIENT", "ID"), cid)
            listing = c.cmd("CLIENT", "LIST").decode()
            # With two clients connected the ID filter must pick one.
            ids = c.cmd("CLIENT", "LIST", "ID", cid).decode()
            self.assertEqual(len([l for l in ids.split("\n") if l]), 1)
            self.assertEqual(c.cmd("CLIENT", "LIST", "ID", 999999), b"")
        lines = [l for l in listing.split("\n") if l]
        self.assertGreaterEqual(len(lines), 2)
        mine = [l for l in lines if "id=%d " % cid in l]
        self.assertEqual(len(mine), 1)
        fields = dict(f.split("=", 1) for f in mine[0].split(" ") if "=" in f)
        self.assertEqual(fields["name"], "lister")
        self.assertTrue(fields["addr"].startswith("127.0.0.1:"))
        self.assertEqual(fields["cmd"], "client|list")
        info = c.cmd("CLIENT", "INFO").decode()
        self.assertIn("id=%d " % cid, info)
        self.assertIn("cmd=client|info", info)

    def test_kill(self):
        c = self.c
        other = self.server.client()
        if self.server.requirepass:
            other.cmd("AUTH", self.server.requirepass)
        oid = other.cmd("CLIENT", "ID")
        self.assertEqual(c.cmd("CLIENT", "KILL", "ID", oid), 1)
        self.assertEqual(other.read_until_closed(), b"")
        other.close()
        self.assertEqual(c.cmd("CLIENT", "KILL", "ID", oid), 0)
        self.assertErr(c.cmd("CLIENT", "KILL", "127.0.0.1:1"),
                       "ERR No such client")


class IntrospectionTest(ServerTestCase):
    def test_info_sections(self):
        c = self.c
        c.cmd("MSET", "a", "1", "b", "2")
        info = c.cmd("INFO").decode()
        for section in ("Server", "Clients", "Memory", "Persistence",
                        "Stats", "Keyspace"):
            self.assertIn("# %s\r\n" % section, info)
        self.assertIn("db0:keys=2,expires=0", info)
        self.assertIn("tcp_port:%d" % self.server.port, info)
        only = c.cmd("INFO", "keyspace").decode()
        self.assertNotIn("# Server", only)
        self.assertIn("# Keyspace", only)
        stats = c.cmd("INFO", "stats").decode()
        self.assertIn("total_commands_processed:", stats)

    @unittest.skipUnless(is_daxkv(), "daxkv-only INFO section")
    def test_info_daxkv_section(self):
        info = self.c.cmd("INFO", "daxkv").decode()
        self.assertIn("# daxkv", info)
        for field in ("backing", "granularity", "map_sync", "pool_size",
                      "pool_used", "persists", "recovery"):
            self.assertIn(field, info)
        self.assertIn("# daxkv", self.c.cmd("INFO", "all").decode())

    def test_config_get_set(self):
        c = self.c
        port = c.cmd("CONFIG", "GET", "port")
        self.assertEqual(port, [b"port", str(self.server.port).encode()])
        mc = c.cmd("CONFIG", "GET", "maxclients")
        self.assertEqual(mc[0], b"maxclients")
        self.assertEqual(c.cmd("CONFIG", "SET", "maxclients", "1000"), "OK")
        self.assertEqual(c.cmd("CONFIG", "GET", "maxclients"),
                         [b"maxclients", b"1000"])
        self.assertEqual(c.cmd("CONFIG", "GET", "nonexistent-setting"), [])
        self.assertEqual(c.cmd("CONFIG", "RESETSTAT"), "OK")
        self.assertErrPrefix(c.cmd("CONFIG", "SET", "no-such-thing", "1"),
                             "ERR Unknown option or number of arguments for "
                             "CONFIG SET - 'no-such-thing'")
        pairs = c.cmd("CONFIG", "GET", "*max*")
        self.assertIn(b"maxclients", pairs[::2])

    def test_config_set_yes_no_in_any_case(self):
        c = self.c
        for name in ("replica-read-only", "replica-serve-stale-data"):
            self.assertEqual(c.cmd("CONFIG", "SET", name, "NO"), "OK")
            self.assertEqual(c.cmd("CONFIG", "GET", name),
                             [name.encode(), b"no"])
            self.assertEqual(c.cmd("CONFIG", "SET", name, "Yes"), "OK")
            self.assertEqual(c.cmd("CONFIG", "GET", name),
                             [name.encode(), b"yes"])
            self.assertErrPrefix(c.cmd("CONFIG", "SET", name, "maybe"),
                                 "ERR CONFIG SET failed (possibly related to "
                                 "argument '%s') - argument must be 'yes' "
                                 "or 'no'" % name)

    def test_hidden_rdb_key_save_delay(self):
        """Redis's testing knob: an exact CONFIG GET names it, a pattern
        never lists it; it takes any 32-bit integer."""
        c = self.c
        name = b"rdb-key-save-delay"
        # An exact name comes back as the client spelled it.
        self.assertEqual(c.cmd("CONFIG", "GET", "RDB-key-save-delay"),
                         [b"RDB-key-save-delay", b"0"])
        self.assertEqual(c.cmd("CONFIG", "GET", "MAXclients", "maxclients",
                               "maxclient?")[::2], [b"MAXclients"])
        self.assertNotIn(name, c.cmd("CONFIG", "GET", "*")[::2])
        self.assertEqual(c.cmd("CONFIG", "GET", "rdb-key-save-*"), [])
        self.assertEqual(c.cmd("CONFIG", "SET", name, "-5"), "OK")
        self.assertEqual(c.cmd("CONFIG", "GET", name), [name, b"-5"])
        self.assertErrPrefix(c.cmd("CONFIG", "SET", name, "abc"),
                             "ERR CONFIG SET failed (possibly related to "
                             "argument 'rdb-key-save-delay') - argument "
                             "couldn't be parsed into an integer")
        self.assertErrPrefix(c.cmd("CONFIG", "SET", name, "3000000000"),
                             "ERR CONFIG SET failed (possibly related to "
                             "argument 'rdb-key-save-delay') - argument "
                             "must be between -2147483648 and 2147483647 "
                             "inclusive")
        self.assertEqual(c.cmd("CONFIG", "SET", name, "0"), "OK")

    def test_command_introspection(self):
        c = self.c
        n = c.cmd("COMMAND", "COUNT")
        self.assertGreater(n, 50)
        info = c.cmd("COMMAND", "INFO", "get", "set", "nosuch")
        self.assertEqual(info[0][0], b"get")
        self.assertEqual(info[0][1], 2)
        self.assertEqual(info[1][0], b"set")
        self.assertEqual(info[1][1], -3)
        self.assertIsNone(info[2])
        docs = c.cmd("COMMAND", "DOCS", "get")
        self.assertEqual(docs[0], b"get")

    def test_time_lastsave_save(self):
        c = self.c
        sec, usec = c.cmd("TIME")
        self.assertLess(abs(int(sec) - time.time()), 5)
        self.assertLess(int(usec), 1000000)
        self.assertIsInstance(c.cmd("LASTSAVE"), int)
        self.assertEqual(c.cmd("SAVE"), "OK")
        reply = c.cmd("BGSAVE")
        self.assertIn(reply, ("Background saving started",
                              "Background saving scheduled"))

    def test_object(self):
        c = self.c
        c.cmd("SET", "i", "12345")
        c.cmd("SET", "e", "short")
        c.cmd("SET", "r", "x" * 100)
        self.assertEqual(c.cmd("OBJECT", "ENCODING", "i"), b"int")
        self.assertEqual(c.cmd("OBJECT", "ENCODING", "e"), b"embstr")
        self.assertEqual(c.cmd("OBJECT", "ENCODING", "r"), b"raw")
        self.assertIsInstance(c.cmd("OBJECT", "REFCOUNT", "r"), int)
        self.assertIsInstance(c.cmd("OBJECT", "IDLETIME", "r"), int)
        self.assertIsNone(c.cmd("OBJECT", "ENCODING", "nokey"))

    def test_object_idletime(self):
        c = self.c
        c.cmd("SET", "a", "1")
        c.cmd("SET", "b", "2")
        time.sleep(2.2)
        self.assertGreaterEqual(c.cmd("OBJECT", "IDLETIME", "a"), 2)
        # TYPE, EXISTS and TTL do not count as accesses; GET does.
        c.cmd("TYPE", "a")
        c.cmd("EXISTS", "a")
        c.cmd("TTL", "a")
        self.assertGreaterEqual(c.cmd("OBJECT", "IDLETIME", "a"), 2)
        c.cmd("GET", "a")
        self.assertLessEqual(c.cmd("OBJECT", "IDLETIME", "a"), 1)
        self.assertGreaterEqual(c.cmd("OBJECT", "IDLETIME", "b"), 2)

    def test_debug_sleep(self):
        t0 = time.monotonic()
        self.assertEqual(self.c.cmd("DEBUG", "SLEEP", "0.2"), "OK")
        self.assertGreaterEqual(time.monotonic() - t0, 0.19)


class MovableKeysTest(PeerTestCase):
    """COMMAND GETKEYS and COMMAND INFO's key specs of the commands whose
    keys move with their arguments (numkeys forms, XREAD's STREAMS,
    GEORADIUS's STORE, SORT's STORE), against redis-server: the keys, and
    the empty reply or error when there are none."""

    GETKEYS = [
        "EVAL s 2 a b c", "EVAL s 0", "EVAL s 5 a", "EVAL s abc a",
        "EVAL s -1 a", "EVALSHA s 1 a", "EVAL_RO s 1 a", "EVALSHA_RO s 1 a",
        "FCALL f 1 a b", "FCALL_RO f 2 a b", "ZUNIONSTORE d 2 a b",
        "ZUNIONSTORE d 0 a", "ZUNIONSTORE d 3 a b",
        "ZINTERSTORE d 1 a WEIGHTS 1", "ZDIFFSTORE d 2 a b",
        "ZUNION 2 a b WITHSCORES", "ZINTER 1 a", "ZDIFF 2 a b",
        "ZINTERCARD 2 a b LIMIT 1", "SINTERCARD 2 a b", "SINTERCARD 3 a b",
        "LMPOP 2 a b LEFT", "LMPOP 0 a LEFT", "BLMPOP 0 2 a b LEFT",
        "ZMPOP 1 a MIN", "BZMPOP 0 1 a MIN", "XREAD STREAMS a b 0 0",
        "XREAD COUNT 1 BLOCK 0 STREAMS a 0", "XREAD STREAMS a b 0",
        "XREAD COUNT 1 a 0", "XREAD STREAMS streams 0",
        "XREAD COUNT streams STREAMS a 0", "SORT k", "SORT k STORE d",
        "SORT k BY x GET y STORE d", "SORT k STORE d STORE e",
        "SORT k LIMIT 0 1 STORE d", "SORT k store", "SORT k GET store",
        "SORT_RO k BY x", "GEORADIUS k 0 0 1 km STORE d",
        "GEORADIUS k 0 0 1 km STOREDIST d",
        "GEORADIUS k 0 0 1 km STORE d STOREDIST e",
        "GEORADIUS k 0 0 1 km STORE d STORE e", "GEORADIUS k 0 0 1 km",
        "GEORADIUS k 0 0 1 km STORE", "GEORADIUS_RO k 0 0 1 km",
        "GEORADIUSBYMEMBER k m 1 km STORE d",
        "GEORADIUSBYMEMBER k m 1 km WITHDIST STOREDIST d",
        "GET k", "MSET a 1 b 2", "PING",
    ]
    MOVABLE = ("eval", "evalsha", "eval_ro", "evalsha_ro", "fcall",
               "fcall_ro", "zunionstore", "zinterstore", "zdiffstore",
               "zunion", "zinter", "zdiff", "zintercard", "sintercard",
               "lmpop", "zmpop", "blmpop", "bzmpop", "xread", "georadius",
               "georadiusbymember", "sort", "sort_ro")

    def test_getkeys(self):
        for line in self.GETKEYS:
            self.both("COMMAND", "GETKEYS", *line.split(" "))

    def test_key_specs_and_flags(self):
        for name in self.MOVABLE:
            mine = self.c.cmd("COMMAND", "INFO", name)[0]
            ref = self.ref.cmd("COMMAND", "INFO", name)[0]
            self.assertEqual(mine[8], ref[8], "key specs of " + name)
            self.assertEqual(mine[3:6], ref[3:6], "first/last/step of " + name)
            flags = [f.decode() if isinstance(f, bytes) else f
                     for f in mine[2]]
            self.assertIn("movablekeys", flags, name)


class ClusterAndModuleProbeTest(PeerTestCase):
    """What cluster-aware clients and tools probe a server with, answered
    as a non-cluster redis-server without modules answers: CLUSTER's
    subcommands (arity first), ASKING, READONLY, MODULE LIST and HELP."""

    def test_replies_as_redis(self):
        lines = ["CLUSTER NOSUCH", "ASKING", "ASKING x", "READONLY",
                 "READWRITE", "MODULE LIST", "MODULE HELP", "MODULE NOSUCH",
                 "MODULE LIST x", "MODULE LOAD", "MODULE UNLOAD",
                 "module list"]
        for sub, arity in (
                ("addslots", -3), ("addslotsrange", -4), ("bumpepoch", 2),
                ("count-failure-reports", 3), ("countkeysinslot", 3),
                ("delslots", -3), ("delslotsrange", -4), ("failover", -2),
                ("flushslots", 2), ("forget", 3), ("getkeysinslot", 4),
                ("help", 2), ("info", 2), ("keyslot", 3), ("links", 2),
                ("meet", -4), ("myid", 2), ("nodes", 2), ("replicas", 3),
                ("replicate", 3), ("reset", -2), ("saveconfig", 2),
                ("set-config-epoch", 3), ("setslot", -4), ("shards", 2),
                ("slaves", 3), ("slots", 2)):
            n = abs(arity) - 2
            lines.append(" ".join(["CLUSTER", sub.upper()] + ["1"] * n))
            lines.append(" ".join(["CLUSTER", sub] + ["1"] * (n + 1)))
            if n > 0:
                lines.append(" ".join(["CLUSTER", sub] + ["1"] * (n - 1)))
        for line in lines:
            self.both(*line.split(" "))
        self.assertIsInstance(self.c.cmd("CLUSTER"), RespError)
        refused = self.c.cmd("MODULE", "LOAD", "/nonexistent.so")
        self.assertIsInstance(refused, RespError)
        self.assertIn("not allowed", str(refused))


class OneDatabaseTest(PeerTestCase):
    """SELECT, MOVE and SWAPDB against a redis-server started with
    `databases 1`, daxkv's one database: their errors, in Redis's order."""

    peer_args = ["--databases", "1"]
    server_kwargs = {} if is_daxkv() else {"extra_args": peer_args}

    def test_as_redis_with_one_database(self):
        self.both("SET", "k", "v")
        for line in ("MOVE k 0", "MOVE nokey 0", "MOVE k 1", "MOVE k -1",
                     "MOVE k abc", "MOVE k 4294967296", "MOVE k",
                     "SWAPDB 0 0", "SWAPDB 0 1", "SWAPDB 1 0", "SWAPDB a 0",
                     "SWAPDB 0 b", "SWAPDB -1 0", "SWAPDB 0",
                     "SWAPDB 4294967296 0", "SELECT 0", "SELECT 1",
                     "SELECT -1", "SELECT a", "SELECT 4294967296",
                     "GET k", "CONFIG GET databases"):
            self.both(*line.split(" "))


class LimitsTest(ServerTestCase):
    def test_maxclients(self):
        c = self.c
        self.assertEqual(c.cmd("CONFIG", "SET", "maxclients", "2"), "OK")
        try:
            with self.server.client() as second:
                self.assertEqual(second.cmd("PING"), "PONG")
                with self.server.client() as third:
                    self.assertEqual(third.read_until_closed(),
                                     b"-ERR max number of clients reached"
                                     b"\r\n")
        finally:
            self.assertEqual(c.cmd("CONFIG", "SET", "maxclients", "10000"),
                             "OK")

    def test_idle_timeout(self):
        c = self.c
        self.assertEqual(c.cmd("CONFIG", "SET", "timeout", "1"), "OK")
        try:
            with self.server.client() as idle:
                self.assertEqual(idle.cmd("PING"), "PONG")
                t0 = time.monotonic()
                self.assertEqual(idle.read_until_closed(timeout=10), b"")
                self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        finally:
            c2 = self.server.client()
            self.assertEqual(c2.cmd("CONFIG", "SET", "timeout", "0"), "OK")
            c2.close()


DEBUG_REFUSED = ("ERR DEBUG command not allowed. If the enable-debug-command "
                 "option is set to \"local\", you can run it from a local "
                 "connection, otherwise you need to set this option in the "
                 "configuration file, and then restart the server.")


class DebugDefaultTest(ServerTestCase):
    server_kwargs = {"debug_command": None}  # each server's own default

    def test_debug_refused_by_default(self):
        c = self.c
        self.assertErr(c.cmd("DEBUG", "SLEEP", "0"), DEBUG_REFUSED)
        self.assertErr(c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "0"),
                       DEBUG_REFUSED)
        self.assertErr(c.cmd("DEBUG"),
                       "ERR wrong number of arguments for 'debug' command")
        self.assertEqual(c.cmd("MULTI"), "OK")
        self.assertErr(c.cmd("DEBUG", "SLEEP", "0"), DEBUG_REFUSED)
        self.assertErr(c.cmd("EXEC"), "EXECABORT Transaction discarded "
                       "because of previous errors.")
        self.assertEqual(c.cmd("CONFIG", "GET", "enable-debug-command"),
                         [b"enable-debug-command", b"no"])
        self.assertErr(c.cmd("CONFIG", "SET", "enable-debug-command", "yes"),
                       "ERR CONFIG SET failed (possibly related to argument "
                       "'enable-debug-command') - can't set immutable config")


class DebugLocalTest(ServerTestCase):
    server_kwargs = {"debug_command": "local"}

    def test_debug_allowed_from_loopback(self):
        self.assertEqual(self.c.cmd("DEBUG", "SLEEP", "0"), "OK")


class ShutdownTest(ServerTestCase):
    def test_shutdown_argument_errors(self):
        c = self.c
        for args in (("NOSAVE", "SAVE"), ("SAVE", "NOSAVE"), ("ABORT", "NOW"),
                     ("NOW", "ABORT"), ("FORCE", "ABORT"), ("BOGUS",),
                     ("NOSAVE", "NOSAVE", "ABORT")):
            self.assertErr(c.cmd("SHUTDOWN", *args), "ERR syntax error")
        self.assertErr(c.cmd("SHUTDOWN", "ABORT"),
                       "ERR No shutdown in progress.")
        self.assertEqual(c.cmd("MULTI"), "OK")
        self.assertErr(c.cmd("SHUTDOWN"),
                       "ERR Command not allowed inside a transaction")
        self.assertErr(c.cmd("EXEC"), "EXECABORT Transaction discarded "
                       "because of previous errors.")
        self.assertEqual(c.cmd("PING"), "PONG")

    def test_shutdown_stops_the_server(self):
        with self.server.client() as c:
            c.send("SHUTDOWN", "NOSAVE", "NOW", "FORCE")
            self.assertEqual(c.read_until_closed(timeout=30), b"")
        self.server.proc.wait(30)
        self.assertEqual(self.server.proc.returncode, 0)
        self.server.proc = None
        self.server.start()

    @unittest.skipUnless(is_daxkv(), "redis-server finishes DEBUG SLEEP "
                         "before it handles SIGTERM")
    def test_sigterm_during_debug_sleep(self):
        with self.server.client() as sleeper:
            sleeper.send("DEBUG", "SLEEP", "1000000")
            time.sleep(0.3)
            t0 = time.monotonic()
            self.assertEqual(self.server.stop(timeout=30), 0)
            self.assertLess(time.monotonic() - t0, 30)
        self.server.start()


class PortInUseTest(ServerTestCase):
    def test_second_server_on_the_port_refuses(self):
        """Redis: "Could not create server TCP listening socket ...: bind:
        Address already in use" and a non-zero exit. Two servers sharing a
        port (SO_REUSEPORT) would split the clients between two datasets."""
        self.assertEqual(self.c.cmd("SET", "c", "0"), "OK")
        second = ServerProcess(port=self.server.port)
        try:
            proc = subprocess.run(second.command_line(), cwd=second.dir,
                                  capture_output=True, timeout=20)
        finally:
            second.cleanup()
        out = (proc.stdout + proc.stderr).decode(errors="replace")
        self.assertNotEqual(proc.returncode, 0, out)
        self.assertIn("Could not create server TCP listening socket", out)
        self.assertIn("bind: Address already in use", out)
        # Every client still reaches the first server.
        for i in range(1, 17):
            with self.server.client() as c:
                self.assertEqual(c.cmd("INCR", "c"), i)


class AuthTest(ServerTestCase):
    server_kwargs = {"requirepass": "s3cret"}

    def test_noauth_then_auth(self):
        with self.server.client() as c:
            self.assertErr(c.cmd("GET", "k"),
                           "NOAUTH Authentication required.")
            self.assertErr(c.cmd("AUTH", "wrong"),
                           "WRONGPASS invalid username-password pair or user "
                           "is disabled.")
            self.assertEqual(c.cmd("AUTH", "s3cret"), "OK")
            self.assertEqual(c.cmd("SET", "k", "v"), "OK")
            self.assertEqual(c.cmd("AUTH", "default", "s3cret"), "OK")

    def test_hello_auth(self):
        with self.server.client() as c:
            self.assertErrPrefix(c.cmd("HELLO", 2), "NOAUTH")
            reply = c.cmd("HELLO", 2, "AUTH", "default", "s3cret")
            fields = dict(zip(reply[::2], reply[1::2]))
            self.assertEqual(fields[b"proto"], 2)
            self.assertEqual(c.cmd("PING"), "PONG")

    def test_redis_py_with_password(self):
        r = self.server.redis()
        self.assertTrue(r.set("pyk", "v"))
        self.assertEqual(r.get("pyk"), b"v")
        r.close()

    def test_redis_cli_with_password(self):
        import subprocess
        out = subprocess.run(
            ["redis-cli", "-p", str(self.server.port), "--no-auth-warning",
             "-a", "s3cret", "PING"], capture_output=True, timeout=30)
        self.assertEqual(out.stdout.strip(), b"PONG")

    def test_config_set_requirepass(self):
        c = self.c
        self.assertEqual(c.cmd("CONFIG", "SET", "requirepass", "other"), "OK")
        try:
            with self.server.client() as d:
                self.assertErrPrefix(d.cmd("PING"), "NOAUTH")
                self.assertEqual(d.cmd("AUTH", "other"), "OK")
        finally:
            c.cmd("CONFIG", "SET", "requirepass", "s3cret")


    def test_unauthenticated_request_caps(self):
        self.expect_closed_with(
            b"*20\r\n",
            b"-ERR Protocol error: unauthenticated multibulk length\r\n")
        self.expect_closed_with(
            b"*1\r\n$100000\r\n",
            b"-ERR Protocol error: unauthenticated bulk length\r\n")


class NoPasswordAuthTest(ServerTestCase):
    def test_auth_without_password(self):
        self.assertErr(self.c.cmd("AUTH", "x"),
                       "ERR AUTH <password> called without any password "
                       "configured for the default user. Are you sure your "
                       "configuration is correct?")


if __name__ == "__main__":
    unittest.main()
