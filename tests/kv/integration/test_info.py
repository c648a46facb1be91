"""INFO: the sections and fields Redis 7.0 prints, which client libraries,
monitoring and Sentinel read; commandstats and errorstats counted as Redis
counts them (calls, rejected and failed calls, error codes)."""

import re

from harness import RespError, ServerTestCase, is_daxkv

DEFAULT_SECTIONS = ["Server", "Clients", "Memory", "Persistence", "Stats",
                    "Replication", "CPU", "Modules", "Errorstats", "Cluster",
                    "Keyspace"]

# Fields read by redis-py's and other clients' test suites, RQ, Celery,
# Sentinel and common dashboards.
FIELDS = ["redis_version", "redis_mode", "os", "arch_bits", "process_id",
          "run_id", "tcp_port", "uptime_in_seconds", "uptime_in_days",
          "connected_clients", "maxclients", "blocked_clients", "used_memory",
          "used_memory_human", "used_memory_rss", "used_memory_lua",
          "number_of_cached_scripts", "maxmemory", "maxmemory_policy",
          "mem_fragmentation_ratio", "total_system_memory", "loading",
          "rdb_last_bgsave_status", "aof_enabled",
          "total_connections_received", "total_commands_processed",
          "instantaneous_ops_per_sec", "rejected_connections", "expired_keys",
          "evicted_keys", "keyspace_hits", "keyspace_misses",
          "total_error_replies", "role", "connected_slaves",
          "master_repl_offset", "used_cpu_sys", "used_cpu_user",
          "cluster_enabled"]


def sections(text):
    return re.findall(r"^# (\S+)\r$", text, re.M)


def fields(text):
    out = {}
    for line in text.split("\r\n"):
        if line and not line.startswith("#"):
            k, _, v = line.partition(":")
            out[k] = v
    return out


class InfoTest(ServerTestCase):
    def info(self, *args):
        return self.c.cmd("INFO", *args).decode()

    def test_default_sections_in_redis_order(self):
        got = [s for s in sections(self.info()) if s != "daxkv"]
        self.assertEqual(got, DEFAULT_SECTIONS)
        everything = sections(self.info("everything"))
        self.assertIn("Commandstats", everything)
        self.assertLess(everything.index("Modules"),
                        everything.index("Commandstats"))
        self.assertLess(everything.index("Commandstats"),
                        everything.index("Errorstats"))
        self.assertEqual(sections(self.info("cpu", "cluster")),
                         ["CPU", "Cluster"])

    def test_fields_clients_read(self):
        f = fields(self.info("everything"))
        for name in FIELDS:
            self.assertIn(name, f)
        self.assertRegex(f["run_id"], r"^[0-9a-f]{40}$")
        self.assertEqual(f["tcp_port"], str(self.server.port))
        self.assertEqual(f["role"], "master")
        self.assertEqual(f["cluster_enabled"], "0")
        self.assertRegex(f["used_cpu_sys"], r"^\d+\.\d{6}$")
        self.assertGreater(int(f["used_memory_rss"]), 0)
        # run_id stays the same within a process.
        self.assertEqual(fields(self.info("server"))["run_id"], f["run_id"])

    def test_errorstats_and_commandstats_count_as_redis(self):
        c = self.c
        self.assertEqual(c.cmd("CONFIG", "RESETSTAT"), "OK")
        c.cmd("SET", "s", "v")
        c.cmd("GET", "s")
        c.cmd("GET", "nosuch")
        self.assertIsInstance(c.cmd("GET"), RespError)             # rejected
        self.assertIsInstance(c.cmd("LPUSH", "s", "x"), RespError)  # failed
        self.assertIsInstance(c.cmd("INCR", "s"), RespError)        # failed
        self.assertIsInstance(c.cmd("NOSUCHCMD"), RespError)
        self.assertIsInstance(c.cmd("EVALSHA", "0" * 40, 0), RespError)
        c.cmd("MULTI")
        self.assertIsInstance(c.cmd("SET", "only-one-arg"), RespError)
        self.assertIsInstance(c.cmd("EXEC"), RespError)  # EXECABORT
        f = fields(self.info("everything"))
        errors = {k: v for k, v in f.items() if k.startswith("errorstat_")}
        self.assertEqual(errors, {"errorstat_ERR": "count=4",
                                  "errorstat_EXECABORT": "count=1",
                                  "errorstat_NOSCRIPT": "count=1",
                                  "errorstat_WRONGTYPE": "count=1"})
        self.assertEqual(f["total_error_replies"], "7")

        def counts(cmd):
            m = re.match(r"calls=(\d+),usec=\d+,usec_per_call=[\d.]+,"
                         r"rejected_calls=(\d+),failed_calls=(\d+)$",
                         f["cmdstat_" + cmd])
            self.assertIsNotNone(m, f["cmdstat_" + cmd])
            return tuple(int(x) for x in m.groups())

        self.assertEqual(counts("get"), (2, 1, 0))
        self.assertEqual(counts("set"), (1, 1, 0))
        self.assertEqual(counts("lpush"), (1, 0, 1))
        self.assertEqual(counts("incr"), (1, 0, 1))
        self.assertEqual(counts("evalsha"), (1, 0, 1))
        self.assertEqual(counts("exec"), (1, 0, 1))  # EXECABORT: a failed EXEC
        self.assertEqual(f["keyspace_hits"], "1")
        self.assertEqual(f["keyspace_misses"], "1")

    def test_resetstat_clears_the_counts(self):
        c = self.c
        self.assertIsInstance(c.cmd("GET"), RespError)
        self.assertEqual(c.cmd("CONFIG", "RESETSTAT"), "OK")
        f = fields(self.info("everything"))
        self.assertEqual(f["total_error_replies"], "0")
        self.assertNotIn("errorstat_ERR", f)
        self.assertNotIn("cmdstat_get", f)

    def test_cached_scripts_counted(self):
        c = self.c
        self.assertEqual(c.cmd("SCRIPT", "FLUSH"), "OK")
        self.assertEqual(fields(self.info("memory"))
                         ["number_of_cached_scripts"], "0")
        c.cmd("SCRIPT", "LOAD", "return 1")
        c.cmd("EVAL", "return 2", 0)
        f = fields(self.info("memory"))
        self.assertEqual(f["number_of_cached_scripts"], "2")
        self.assertGreater(int(f["used_memory_lua"]), 0)
        if is_daxkv():
            self.assertIn("daxkv_index_bytes", f)
