"""Debian's real clients against the server: redis-cli (commands, --pipe
mass insert) and redis-benchmark."""

import subprocess
import unittest

from harness import ServerTestCase, encode_command

MASS_KEYS = 100000


class RedisCliTest(ServerTestCase):
    def cli(self, *args, stdin=None):
        out = subprocess.run(["redis-cli", "-p", str(self.server.port)] +
                             list(args), input=stdin, capture_output=True,
                             timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def test_cli_commands(self):
        self.assertEqual(self.cli("SET", "clik", "value"), b"OK\n")
        self.assertEqual(self.cli("GET", "clik"), b"value\n")
        self.assertEqual(self.cli("INCR", "n"), b"1\n")
        self.assertEqual(self.cli("GET", "nokey"), b"\n")
        self.assertEqual(self.cli("--raw", "MGET", "clik", "n"),
                         b"value\n1\n")
        self.assertEqual(self.cli("DBSIZE"), b"2\n")

    def test_cli_stdin_inline(self):
        out = self.cli(stdin=b"SET a 1\nGET a\nPING\n")
        self.assertEqual(out, b"OK\n1\nPONG\n")

    def test_pipe_mass_insert(self):
        payload = b"".join(encode_command(["SET", "mass:%d" % i, "val-%d" % i])
                           for i in range(MASS_KEYS))
        out = self.cli("--pipe", stdin=payload)
        self.assertIn(b"errors: 0, replies: %d" % MASS_KEYS, out)
        self.assertEqual(self.c.cmd("DBSIZE"), MASS_KEYS)
        step = 997
        sample = list(range(0, MASS_KEYS, step))
        got = self.c.pipeline([("GET", "mass:%d" % i) for i in sample])
        self.assertEqual(got, [b"val-%d" % i for i in sample])


class RedisBenchmarkTest(ServerTestCase):
    def test_benchmark_set_get(self):
        out = subprocess.run(
            ["redis-benchmark", "-p", str(self.server.port), "-n", "20000",
             "-c", "20", "-P", "8", "-t", "set,get", "-d", "100", "--csv"],
            capture_output=True, timeout=300)
        self.assertEqual(out.returncode, 0, out.stderr)
        text = out.stdout.decode()
        self.assertNotIn("ERR", text + out.stderr.decode())
        rows = [l.split(",") for l in text.splitlines() if l.startswith('"')]
        names = {r[0].strip('"'): float(r[1].strip('"')) for r in rows[1:]}
        self.assertGreater(names.get("SET", 0), 0, text)
        self.assertGreater(names.get("GET", 0), 0, text)
        self.assertEqual(self.c.cmd("EXISTS", "key:__rand_int__"), 1)


if __name__ == "__main__":
    unittest.main()
