"""LATENCY and INFO latencystats side by side with redis-server
(differential.py): the syntax, errors, HELP, DOCTOR's texts for a disabled
monitor and a quiet one, RESET counts and the latency-* settings are
compared byte for byte; what depends on timing (the samples, the
histograms' buckets, the percentiles) is checked for its shape and for
what both servers must agree on (calls counted, a slow script sampled)."""

from differential import PeerTestCase

SLOW_SCRIPT = "local i = 0 while i < 6000000 do i = i + 1 end return i"


class LatencyDifferentialTest(PeerTestCase):
    def tearDown(self):
        for conn in (self.c, self.ref):
            conn.cmd("CONFIG", "SET", "latency-monitor-threshold", 0)
            conn.cmd("CONFIG", "SET", "latency-tracking", "yes")
            conn.cmd("CONFIG", "SET", "latency-tracking-info-percentiles",
                     "50 99 99.9")
            conn.cmd("LATENCY", "RESET")
        super().tearDown()

    def test_syntax_errors_and_texts(self):
        self.both_script([
            "LATENCY", "LATENCY bogus", "LATENCY HELP", "LATENCY help x",
            "LATENCY LATEST x", "LATENCY HISTORY", "LATENCY HISTORY a b",
            "LATENCY GRAPH", "LATENCY DOCTOR x", "LATENCY DOCTOR",
            "LATENCY RESET", "LATENCY RESET command nosuch",
            "LATENCY LATEST", "LATENCY HISTORY command",
            "LATENCY GRAPH command", "LATENCY HISTOGRAM nosuch",
            "CONFIG SET latency-monitor-threshold 5", "LATENCY DOCTOR",
            "CONFIG GET latency-monitor-threshold",
            "CONFIG SET latency-monitor-threshold -1",
            "CONFIG SET latency-monitor-threshold x",
            "CONFIG SET latency-tracking maybe", "CONFIG SET latency-tracking NO",
            "CONFIG GET latency-tracking",
            "CONFIG SET latency-tracking-info-percentiles 101",
            "CONFIG SET latency-tracking-info-percentiles 50,99",
            "CONFIG GET latency-tracking-info-percentiles",
        ])
        for value in ("50  99", "", "99.99999 0.5 1e1", "0 100"):
            self.both("CONFIG", "SET", "latency-tracking-info-percentiles",
                      value)
            self.both("CONFIG", "GET", "latency-tracking-info-percentiles")

    def test_a_slow_command_is_sampled(self):
        for conn in (self.c, self.ref):
            conn.cmd("CONFIG", "SET", "latency-monitor-threshold", 1)
            conn.cmd("LATENCY", "RESET")
            conn.cmd("EVAL", SLOW_SCRIPT, 0)
        for conn in (self.c, self.ref):
            latest = conn.cmd("LATENCY", "LATEST")
            self.assertEqual([e[0] for e in latest], [b"command"])
            event, when, last, worst = latest[0]
            self.assertGreaterEqual(last, 1)
            self.assertEqual(last, worst)
            history = conn.cmd("LATENCY", "HISTORY", "command")
            self.assertEqual(history, [[when, last]])
            graph = conn.cmd("LATENCY", "GRAPH", "command")
            self.assertTrue(graph.startswith(
                b"command - high %d ms, low %d ms" % (last, last)), graph)
            self.assertIn(b"1. command: 1 latency spikes",
                          conn.cmd("LATENCY", "DOCTOR"))
            self.assertEqual(conn.cmd("LATENCY", "RESET", "command"), 1)
            self.assertEqual(conn.cmd("LATENCY", "LATEST"), [])

    def test_histograms_count_the_calls(self):
        for conn in (self.c, self.ref):
            conn.cmd("CONFIG", "RESETSTAT")
            for i in range(7):
                conn.cmd("SET", "k%d" % i, "v")
            conn.cmd("GET", "k1")
        for conn in (self.c, self.ref):
            h = conn.cmd("LATENCY", "HISTOGRAM", "set", "get", "nosuch")
            self.assertEqual(h[0::2], [b"set", b"get"])
            setd = dict(zip(h[1][0::2], h[1][1::2]))
            self.assertEqual(setd[b"calls"], 7)
            buckets = setd[b"histogram_usec"]
            counts = buckets[1::2]
            self.assertEqual(counts, sorted(counts))  # cumulative
            self.assertEqual(counts[-1], 7)
            info = conn.cmd("INFO", "latencystats").decode()
            line = [x for x in info.splitlines()
                    if x.startswith("latency_percentiles_usec_set:")]
            self.assertEqual(len(line), 1, info)
            keys = [kv.split("=")[0] for kv in line[0].split(":")[1].split(",")]
            self.assertEqual(keys, ["p50", "p99", "p99.9"])
            conn.cmd("CONFIG", "SET", "latency-tracking", "no")
            conn.cmd("SET", "more", "v")
            h = conn.cmd("LATENCY", "HISTOGRAM", "set")
            self.assertEqual(dict(zip(h[1][0::2], h[1][1::2]))[b"calls"], 7)
            self.assertNotIn("Latencystats", conn.cmd("INFO").decode())
            self.assertIn("# Latencystats", conn.cmd("INFO", "all").decode())
