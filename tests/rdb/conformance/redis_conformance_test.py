"""daxkv's RDB codec against the real redis-server 7.0 of this machine.

  DUMP (redis) -> Decode (daxkv)               every type and boundary
  Encode (daxkv) -> RESTORE (redis) -> commands   the same values
  Encode == DUMP byte for byte                   where Redis's bytes are
                                                 canonical (rdbcompression no)
  RESTORE error replies                          daxkv's == redis's texts
  RDB written by daxkv                           redis-check-rdb accepts it and
                                                 redis-server loads it
  RDB saved by redis (SAVE)                      the stream reader parses it in
                                                 random chunks
  full-sync payloads of a redis master           both framings, diskless too

Usage: redis_conformance_test.py --tool build/bin/rdb_tool [unittest args]
Exits 77 (skipped) when redis-server or the tool is missing.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import catalogue  # noqa: E402
import fixture  # noqa: E402
from fixture import from_tool, read_back, to_tool  # noqa: E402

TOOL_PATH = None


def crc64(data):
    """CRC-64/Jones as Redis computes it (reflected, init 0)."""
    poly = 0x95AC9329AC4BC9B5
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (poly if crc & 1 else 0)
    return crc


def frame(body, version=10):
    """A DUMP payload around `body`: RDB version and CRC64, little-endian."""
    data = body + bytes([version & 0xFF, version >> 8])
    return data + crc64(data).to_bytes(8, "little")


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tool = fixture.Tool(TOOL_PATH)
        cls.servers = []

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers:
            s.stop()
        cls.tool.close()

    @classmethod
    def server(cls, *args, **kw):
        s = fixture.RedisServer(*args, **kw)
        cls.servers.append(s)
        return s

    def decode(self, payload):
        reply = self.tool.call(op="decode_payload", payload=payload.hex())
        self.assertTrue(reply["ok"], reply)
        return reply["value"]

    def encode(self, value, compress=True):
        reply = self.tool.call(op="encode_payload", value=value,
                               compress=compress)
        self.assertTrue(reply["ok"], reply)
        return bytes.fromhex(reply["payload"])


class PayloadTest(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.redis = cls.server()
        cls.r = cls.redis.client
        cls.keys = catalogue.populate(cls.r)

    def test_dump_decodes_to_the_stored_value(self):
        for key, (model, _) in self.keys.items():
            with self.subTest(key=key):
                got = from_tool(self.decode(self.r.dump(key)))
                self.assertEqual(got, model)

    def test_encode_chooses_redis_type_byte(self):
        for key, (model, _) in self.keys.items():
            with self.subTest(key=key):
                ours = self.encode(to_tool(model))
                self.assertEqual(ours[0], self.r.dump(key)[0])

    def test_encode_restores_into_redis(self):
        for compress in (True, False):
            for key, (model, _) in self.keys.items():
                with self.subTest(key=key, compress=compress):
                    payload = self.encode(to_tool(model), compress)
                    target = b"restored:" + key
                    self.r.restore(target, 0, payload, replace=True)
                    self.assertEqual(read_back(self.r, target), model)
                    self.assertEqual(self.r.object("encoding", target),
                                     self.r.object("encoding", key))

    def test_restore_error_texts_match_redis(self):
        # Deep sanitisation on, so that redis checks what daxkv always checks.
        self.r.config_set("sanitize-dump-payload", "yes")
        good = self.r.dump(b"l:small")
        body = good[:-10]
        cases = {
            "bad crc": good[:-1] + bytes([good[-1] ^ 1]),
            "too short": b"\x00\x01",
            "rdb 11": frame(b"\x00\x01v", 11),
            "truncated body": frame(body[:-3]),
            "bad listpack": frame(body[:8] + b"\x77" + body[9:]),
            "type 8": frame(b"\x08\x00"),
            "empty list": frame(b"\x01\x00"),
            "duplicate set members": frame(b"\x02\x02\x01a\x01a"),
            "duplicate hash fields": frame(b"\x04\x02\x01f\x011\x01f\x012"),
            "nan score": frame(b"\x03\x01\x01m\xfd"),
        }
        for name, payload in cases.items():
            with self.subTest(case=name):
                with self.assertRaises(redis.exceptions.ResponseError) as e:
                    self.r.restore(b"bad", 0, payload, replace=True)
                ours = self.tool.call(op="decode_payload", payload=payload.hex())
                self.assertFalse(ours["ok"], name)
                # redis-py strips the "ERR " prefix.
                self.assertEqual(ours["reply"], "ERR " + str(e.exception))

    def test_known_difference_trailing_bytes(self):
        # Redis ignores bytes between the value and the footer; daxkv
        # refuses them (docs/rdb.md). Pinned so a change is noticed.
        body = self.r.dump(b"s:0")[:-10] + b"junk"
        payload = frame(body)
        self.assertTrue(self.r.restore(b"junk", 0, payload, replace=True))
        ours = self.tool.call(op="decode_payload", payload=payload.hex())
        self.assertEqual(ours["reply"], "ERR Bad data format")

    def test_streams_decode_with_their_groups(self):
        for i in range(1, 150):  # two listpack nodes
            self.r.xadd(b"stream", {b"f": i}, id="%d-1" % i)
        self.r.xdel(b"stream", "3-1")
        ours = self.tool.call(op="decode_payload",
                              payload=self.r.dump(b"stream").hex())
        self.assertTrue(ours["ok"], ours)
        self.assertEqual(ours["value"]["type"], "stream")
        self.assertEqual(len(ours["value"]["entries"]), 148)
        self.assertEqual(ours["value"]["entries"][2][0], "4-1")
        # Groups are read too (their fields: rdb_test's StreamGroupsTest,
        # on a payload of this redis-server).
        self.r.xgroup_create(b"stream", b"g", id="0")
        self.r.xreadgroup(b"g", b"c", {b"stream": ">"}, count=2)
        ours = self.tool.call(op="decode_payload",
                              payload=self.r.dump(b"stream").hex())
        self.assertTrue(ours["ok"], ours)
        self.assertEqual(len(ours["value"]["entries"]), 148)


class ByteExactTest(Base):
    """With rdbcompression no, DUMP bytes are canonical for these keys."""

    def test_encode_equals_dump(self):
        r = self.server("--rdbcompression", "no").client
        keys = catalogue.populate(r)
        checked = 0
        for key, (_, canonical) in keys.items():
            if not canonical:
                continue
            with self.subTest(key=key):
                dump = r.dump(key)
                # Decode keeps Redis's element order; re-encode it.
                value = self.decode(dump)
                self.assertEqual(self.encode(value, compress=False), dump)
                checked += 1
        self.assertGreater(checked, 40)


FUNCTION = ("#!lua name=daxkvlib\n"
            "redis.register_function('daxkv_f', function() return 1 end)")


class RdbFileTest(Base):
    def test_daxkv_rdb_loads_in_redis(self):
        src = self.server()
        keys = catalogue.populate(src.client)
        now = int(time.time() * 1000)
        db0 = []
        for i, (key, (model, _)) in enumerate(sorted(keys.items())):
            entry = {"key": key.hex(), "value": to_tool(model)}
            if i % 3 == 0:
                entry["expire_ms"] = now + 3600_000 + i
            db0.append(entry)
        db5 = [{"key": b"db5key".hex(), "value": to_tool(("string", b"five"))}]
        for compress in (True, False):
            with self.subTest(compress=compress):
                d = tempfile.mkdtemp(prefix="daxkv-rdb-file-")
                path = os.path.join(d, "daxkv.rdb")
                reply = self.tool.call(op="write_rdb", path=path,
                                       compress=compress, ctime=int(time.time()),
                                       functions=[FUNCTION],
                                       dbs=[{"db": 0, "keys": db0},
                                            {"db": 5, "keys": db5}])
                self.assertTrue(reply["ok"], reply)
                check = subprocess.run([fixture.REDIS_CHECK_RDB, path],
                                       capture_output=True, text=True)
                self.assertEqual(check.returncode, 0, check.stdout)
                self.assertIn("RDB looks OK", check.stdout)
                dst = self.server(directory=d, dbfilename="daxkv.rdb")
                r = dst.client
                self.assertEqual(r.dbsize(), len(db0))
                for i, (key, (model, _)) in enumerate(sorted(keys.items())):
                    self.assertEqual(read_back(r, key), model, key)
                    want = now + 3600_000 + i if i % 3 == 0 else -1
                    self.assertEqual(r.execute_command("PEXPIRETIME", key), want)
                libs = r.execute_command("FUNCTION", "LIST")
                self.assertIn(b"daxkvlib", repr(libs).encode())
                r.select(5)
                self.assertEqual(r.get(b"db5key"), b"five")
                dst.stop()

    def test_redis_rdb_parses_in_random_chunks(self):
        src = self.server()
        r = src.client
        keys = catalogue.populate(r)
        r.function_load(FUNCTION)
        now = int(time.time() * 1000)
        r.pexpireat(b"s:0", now + 1000000)
        r.execute_command("SELECT", 2)
        r.set(b"db2", b"two")
        r.execute_command("SELECT", 0)
        r.save()
        path = os.path.join(src.dir, "dump.rdb")
        for seed, max_chunk in ((1, 1), (2, 7), (3, 4096), (4, 1 << 20)):
            with self.subTest(max_chunk=max_chunk):
                reply = self.tool.call(op="read_rdb", path=path, seed=seed,
                                       max_chunk=max_chunk, policy="pass",
                                       functions=True)
                self.assertTrue(reply["ok"], reply)
                self.assertTrue(reply["checksum_verified"])
                self.assertEqual(reply["version"], 10)
                got = {(k["db"], bytes.fromhex(k["key"])): k for k in reply["keys"]}
                self.assertEqual(len(got), len(keys) + 1)
                for key, (model, _) in keys.items():
                    self.assertEqual(from_tool(got[(0, key)]["value"]), model, key)
                self.assertEqual(got[(0, b"s:0")]["expire_ms"], now + 1000000)
                self.assertEqual(from_tool(got[(2, b"db2")]["value"]),
                                 ("string", b"two"))
                self.assertEqual(reply["functions"], [FUNCTION])
                aux = dict(reply["aux"])
                self.assertEqual(aux["redis-ver"], "7.0.15")
                self.assertEqual(aux["redis-bits"], "64")
        refused = self.tool.call(op="read_rdb", path=path, functions=True)
        self.assertEqual(refused["code"], "NotSupported")
        self.assertIn("database 2", refused["message"])

    def test_large_rdb_streams_in_bounded_memory(self):
        src = self.server("--rdbcompression", "no")  # DEBUG POPULATE pads
        r = src.client
        r.execute_command("DEBUG", "POPULATE", 1500000, "key", 100)
        big = [b"%08d" % i * 8 for i in range(200000)]
        for i in range(0, len(big), 10000):
            r.rpush(b"biglist", *big[i:i + 10000])
        r.save()
        path = os.path.join(src.dir, "dump.rdb")
        size = os.path.getsize(path)
        self.assertGreater(size, 150 << 20)
        # A fresh tool process, so that its peak RSS is this file's alone.
        tool = fixture.Tool(TOOL_PATH)
        try:
            reply = tool.call(op="read_rdb", path=path, seed=5,
                              max_chunk=1 << 16, summary=True)
        finally:
            tool.close()
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["count"], 1500001)
        self.assertEqual(reply["bytes"], size)
        self.assertLess(reply["max_buffered"], 1 << 20)
        # The whole file never sits in memory (the biggest value, the list,
        # is ~13 MiB decoded).
        self.assertLess(reply["peak_rss_kb"] * 1024, size // 2)
        print("\nlarge RDB: %d MiB, peak RSS %d MiB, max buffered %d B"
              % (size >> 20, reply["peak_rss_kb"] >> 10, reply["max_buffered"]),
              file=sys.stderr)


def full_sync(port):
    """Acts as a replica of redis at `port` and returns the raw bytes after
    +FULLRESYNC (payload and whatever follows) once the link goes quiet."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"REPLCONF capa eof capa psync2\r\n")
    assert s.recv(100).startswith(b"+OK")
    s.sendall(b"PSYNC ? -1\r\n")
    data = b""
    while b"\r\n" not in data:
        data += s.recv(4096)
    line, data = data.split(b"\r\n", 1)
    assert line.startswith(b"+FULLRESYNC"), line
    s.settimeout(1.5)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            chunk = s.recv(1 << 16)
        except socket.timeout:
            if len(data) > 100:
                break
            continue
        if not chunk:
            break
        data += chunk
    s.close()
    return data


class FullSyncTest(Base):
    def test_both_framings_from_a_redis_master(self):
        for diskless in (True, False):
            with self.subTest(diskless=diskless):
                src = self.server("--repl-diskless-sync",
                                  "yes" if diskless else "no",
                                  "--repl-diskless-sync-delay", "0")
                keys = catalogue.populate(src.client)
                wire = full_sync(src.port)
                path = os.path.join(src.dir, "wire.bin")
                with open(path, "wb") as f:
                    f.write(wire)
                reply = self.tool.call(op="read_sync", path=path, seed=9,
                                       max_chunk=3000)
                self.assertTrue(reply["ok"], reply)
                self.assertEqual(reply["diskless"], diskless)
                got = {bytes.fromhex(k["key"]): from_tool(k["value"])
                       for k in reply["keys"]}
                self.assertEqual(got, {k: m for k, (m, _) in keys.items()})
                # What follows the payload is the command stream (a SELECT,
                # PINGs) and stays the caller's.
                rest = bytes.fromhex(reply["rest"])
                self.assertTrue(rest == b"" or rest.startswith(b"*"), rest[:40])


def main():
    global TOOL_PATH
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    args, rest = parser.parse_known_args()
    TOOL_PATH = os.path.abspath(args.tool)
    if not os.path.exists(fixture.REDIS_SERVER):
        print("SKIP: redis-server not installed (scripts/deps.sh installs it)")
        sys.exit(77)
    if not os.access(TOOL_PATH, os.X_OK):
        print("SKIP: %s not built" % TOOL_PATH)
        sys.exit(77)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
