"""Blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
BZPOPMAX, BZMPOP) as Redis 7.0 answers them: data at once, a client
blocked then served by a push from another connection (daxkv: another I/O
thread, as often as not), FIFO among blocked clients, timeouts (the exact
null shape, RESP2 and RESP3), several keys, BLMOVE chains, WRONGTYPE,
disconnects, CLIENT UNBLOCK, INFO blocked_clients and pipelined input
behind a blocked command. Only "returned nil after its timeout" is timed."""

import threading
import time
import unittest

from harness import RespError, ServerTestCase, is_daxkv


def read_raw(c):
    """One reply, as the bytes the server sent."""
    line = c._line()
    out = line + b"\r\n"
    kind, n = line[:1], line[1:]
    if kind in (b"$", b"=", b"!") and int(n) >= 0:
        out += c._exact(int(n)) + b"\r\n"
    elif kind in (b"*", b"~", b">", b"%") and int(n) > 0:
        for _ in range(int(n) * (2 if kind == b"%" else 1)):
            out += read_raw(c)
    return out


class BlockingCase(ServerTestCase):
    """Helpers: other connections, blocking a command, INFO's count."""

    def setUp(self):
        super().setUp()
        self.others = []

    def tearDown(self):
        for o in self.others:
            o.close()
        super().tearDown()

    def other(self, resp3=False):
        o = self.server.client(timeout=20.0)
        if resp3:
            o.cmd("HELLO", "3")
        self.others.append(o)
        return o

    def blocked_clients(self):
        info = self.c.cmd("INFO", "clients")
        for line in info.decode().splitlines():
            if line.startswith("blocked_clients:"):
                return int(line.split(":")[1])
        raise AssertionError("no blocked_clients in INFO")

    def wait_blocked(self, n):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.blocked_clients() == n:
                return
            time.sleep(0.01)
        self.fail("blocked_clients never reached %d" % n)

    def block(self, *cmd, resp3=False, blocked_before=0):
        """A new connection sends cmd, which blocks; returns it."""
        o = self.other(resp3)
        o.send(*cmd)
        self.wait_blocked(blocked_before + 1)
        return o



class BlockingTest(BlockingCase):
    # --- data at once ---

    def test_lists_with_data_answer_at_once(self):
        c = self.c
        c.cmd("RPUSH", "l2", "a", "b", "c")
        self.assertEqual(c.cmd("BLPOP", "l1", "l2", "0"), [b"l2", b"a"])
        self.assertEqual(c.cmd("BRPOP", "l1", "l2", "1"), [b"l2", b"c"])
        c.cmd("RPUSH", "l1", "x")
        self.assertEqual(c.cmd("BLPOP", "l1", "l2", "0"), [b"l1", b"x"])
        self.assertEqual(c.cmd("EXISTS", "l1"), 0)
        self.assertEqual(c.cmd("BRPOPLPUSH", "l2", "d", "0"), b"b")
        self.assertEqual(c.cmd("EXISTS", "l2"), 0)
        self.assertEqual(c.cmd("BLMOVE", "d", "e", "LEFT", "RIGHT", "0"), b"b")
        c.cmd("RPUSH", "m", "1", "2", "3")
        self.assertEqual(c.cmd("BLMPOP", "0", "2", "nokey", "m", "RIGHT",
                               "COUNT", "2"), [b"m", [b"3", b"2"]])
        self.assertEqual(c.cmd("BLMPOP", "0", "1", "m", "LEFT", "COUNT", "9"),
                         [b"m", [b"1"]])
        self.assertEqual(c.cmd("EXISTS", "m"), 0)

    def test_zsets_with_data_answer_at_once(self):
        c = self.c
        c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
        self.assertEqual(c.cmd("BZPOPMIN", "nokey", "z", "0"),
                         [b"z", b"a", b"1"])
        self.assertEqual(c.cmd("BZPOPMAX", "z", "0"), [b"z", b"d", b"4"])
        self.assertEqual(c.cmd("BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"),
                         [b"z", [[b"b", b"2"], [b"c", b"3"]]])
        self.assertEqual(c.cmd("EXISTS", "z"), 0)
        c.cmd("HELLO", "3")
        c.cmd("ZADD", "z", "1.5", "a", "2", "b")
        self.assertEqual(read_raw_cmd(c, "BZPOPMIN", "z", "0"),
                         b"*3\r\n$1\r\nz\r\n$1\r\na\r\n,1.5\r\n")
        self.assertEqual(read_raw_cmd(c, "BZMPOP", "0", "1", "z", "MAX"),
                         b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n,2\r\n")

    # --- blocked, then served ---

    def test_blpop_served_by_a_push_from_another_connection(self):
        w = self.block("BLPOP", "q", "0")
        listing = self.c.cmd("CLIENT", "LIST").decode()
        self.assertEqual(sum(" flags=b " in line and " cmd=blpop " in line
                             for line in listing.splitlines()), 1, listing)
        # Other clients keep being served meanwhile.
        self.assertEqual(self.c.cmd("PING"), "PONG")
        self.assertEqual(self.c.cmd("RPUSH", "q", "job1", "job2"), 2)
        self.assertEqual(w.read(), [b"q", b"job1"])
        self.assertEqual(self.c.cmd("LRANGE", "q", "0", "-1"), [b"job2"])
        self.assertEqual(self.blocked_clients(), 0)

    def test_brpop_served_by_lpush_and_lmove(self):
        w = self.block("BRPOP", "q", "0")
        self.assertEqual(self.c.cmd("LPUSH", "q", "a", "b"), 2)
        self.assertEqual(w.read(), [b"q", b"a"])
        self.c.cmd("DEL", "q")
        w2 = self.block("BRPOP", "q", "0")
        self.c.cmd("RPUSH", "src", "moved")
        self.assertEqual(self.c.cmd("LMOVE", "src", "q", "LEFT", "LEFT"),
                         b"moved")
        self.assertEqual(w2.read(), [b"q", b"moved"])
        self.assertEqual(self.c.cmd("EXISTS", "q", "src"), 0)

    def test_blmove_and_brpoplpush_served(self):
        w = self.block("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
        self.c.cmd("RPUSH", "dst", "old")
        self.assertEqual(self.c.cmd("RPUSH", "src", "x", "y"), 2)
        self.assertEqual(w.read(), b"y")
        self.assertEqual(self.c.cmd("LRANGE", "src", "0", "-1"), [b"x"])
        self.assertEqual(self.c.cmd("LRANGE", "dst", "0", "-1"),
                         [b"y", b"old"])
        self.c.cmd("DEL", "src", "dst")
        w = self.block("BRPOPLPUSH", "src", "dst", "0")
        self.c.cmd("LPUSH", "src", "v")
        self.assertEqual(w.read(), b"v")
        self.assertEqual(self.c.cmd("LRANGE", "dst", "0", "-1"), [b"v"])

    def test_blmpop_served_with_count(self):
        w = self.block("BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "2")
        self.c.cmd("RPUSH", "b", "1", "2", "3")
        self.assertEqual(w.read(), [b"b", [b"1", b"2"]])
        self.assertEqual(self.c.cmd("LRANGE", "b", "0", "-1"), [b"3"])

    def test_bzpop_served_by_zadd(self):
        w = self.block("BZPOPMIN", "z", "0")
        w3 = self.block("BZPOPMAX", "z", "0", resp3=True, blocked_before=1)
        self.assertEqual(self.c.cmd("ZADD", "z", "3", "c", "1", "a", "2", "b"),
                         3)
        self.assertEqual(w.read(), [b"z", b"a", b"1"])
        self.assertEqual(read_raw(w3), b"*3\r\n$1\r\nz\r\n$1\r\nc\r\n,3\r\n")
        self.assertEqual(self.c.cmd("ZRANGE", "z", "0", "-1"), [b"b"])

    def test_bzmpop_served(self):
        w = self.block("BZMPOP", "0", "2", "y", "z", "MAX", "COUNT", "2")
        self.c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c")
        self.assertEqual(w.read(), [b"z", [[b"c", b"3"], [b"b", b"2"]]])

    def test_fifo_among_blocked_clients(self):
        ws = [self.block("BLPOP", "q", "0", blocked_before=i)
              for i in range(4)]
        self.assertEqual(self.c.cmd("RPUSH", "q", "a", "b", "c"), 3)
        self.assertEqual([w.read() for w in ws[:3]],
                         [[b"q", b"a"], [b"q", b"b"], [b"q", b"c"]])
        self.assertEqual(self.blocked_clients(), 1)
        self.c.cmd("RPUSH", "q", "d")
        self.assertEqual(ws[3].read(), [b"q", b"d"])

    def test_several_keys_served_by_whichever_gets_data(self):
        w = self.block("BLPOP", "k1", "k2", "k3", "0")
        self.c.cmd("RPUSH", "k3", "three")
        self.assertEqual(w.read(), [b"k3", b"three"])
        # One push of several keys (a MULTI-free LMOVE) serves per key.
        w1 = self.block("BRPOP", "k1", "0")
        w2 = self.block("BRPOP", "k2", "0", blocked_before=1)
        self.c.cmd("RPUSH", "k2", "two")
        self.assertEqual(w2.read(), [b"k2", b"two"])
        self.c.cmd("RPUSH", "k1", "one")
        self.assertEqual(w1.read(), [b"k1", b"one"])

    def test_blmove_chain_serves_the_destinations_waiters(self):
        w1 = self.block("BLMOVE", "a", "b", "LEFT", "RIGHT", "0")
        w2 = self.block("BLMOVE", "b", "c", "LEFT", "RIGHT", "0",
                        blocked_before=1)
        w3 = self.block("BLPOP", "c", "0", blocked_before=2)
        self.assertEqual(self.c.cmd("RPUSH", "a", "x"), 1)
        self.assertEqual(w1.read(), b"x")
        self.assertEqual(w2.read(), b"x")
        self.assertEqual(w3.read(), [b"c", b"x"])
        self.assertEqual(self.c.cmd("EXISTS", "a", "b", "c"), 0)

    def test_blmove_to_its_own_source_rotates(self):
        w = self.block("BLMOVE", "r", "r", "LEFT", "RIGHT", "0")
        self.c.cmd("RPUSH", "r", "1")
        self.assertEqual(w.read(), b"1")
        self.assertEqual(self.c.cmd("LRANGE", "r", "0", "-1"), [b"1"])

    def test_pipelined_input_waits_behind_a_blocked_command(self):
        w = self.other()
        w.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n"
                   b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nLLEN\r\n$1\r\nq\r\n")
        self.wait_blocked(1)
        self.c.cmd("RPUSH", "q", "a", "b")
        self.assertEqual(w.read(), [b"q", b"a"])
        self.assertEqual(w.read(), "PONG")
        self.assertEqual(w.read(), 1)

    def test_a_waiter_is_served_after_each_pipelined_write(self):
        # Redis serves a blocked client after each command: of a pipelined
        # RPUSH q a, LPOP q, the waiter gets a and LPOP nothing (daxkv runs
        # such pipelines as one Txn only on keys nobody waits on).
        w = self.block("BLPOP", "q", "0")
        c = self.c
        c.send_raw(b"*3\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$1\r\na\r\n"
                   b"*2\r\n$4\r\nLPOP\r\n$1\r\nq\r\n"
                   b"*4\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$1\r\nb\r\n$1\r\nc\r\n"
                   b"*2\r\n$4\r\nLPOP\r\n$1\r\nq\r\n")
        self.assertEqual([c.read() for _ in range(4)], [1, None, 2, b"b"])
        self.assertEqual(w.read(), [b"q", b"a"])
        self.assertEqual(c.cmd("LRANGE", "q", "0", "-1"), [b"c"])

    def test_rename_copy_and_restore_serve_the_waiters(self):
        c = self.c
        w = self.block("BLPOP", "q", "0")
        c.cmd("RPUSH", "tmp", "r1", "r2")
        self.assertEqual(c.cmd("RENAME", "tmp", "q"), "OK")
        self.assertEqual(w.read(), [b"q", b"r1"])
        self.assertEqual(c.cmd("LRANGE", "q", "0", "-1"), [b"r2"])
        c.cmd("DEL", "q")
        w = self.block("BZPOPMAX", "z", "0")
        c.cmd("ZADD", "src", "1", "a", "2", "b")
        self.assertEqual(c.cmd("COPY", "src", "z"), 1)
        self.assertEqual(w.read(), [b"z", b"b", b"2"])
        self.assertEqual(c.cmd("ZCARD", "src"), 2)
        payload = c.cmd("DUMP", "src")
        w = self.block("BZMPOP", "0", "1", "r", "MIN", "COUNT", "5")
        self.assertEqual(c.cmd("RESTORE", "r", "0", payload), "OK")
        self.assertEqual(w.read(), [b"r", [[b"a", b"1"], [b"b", b"2"]]])
        self.assertEqual(c.cmd("EXISTS", "r"), 0)
        w = self.block("BLMOVE", "n", "d", "LEFT", "LEFT", "0")
        c.cmd("RPUSH", "tmp", "x")
        self.assertEqual(c.cmd("RENAMENX", "tmp", "n"), 1)
        self.assertEqual(w.read(), b"x")
        self.assertEqual(c.cmd("LRANGE", "d", "0", "-1"), [b"x"])

    def test_a_list_waiter_ignores_a_zset_on_its_key(self):
        w = self.block("BLPOP", "k", "0.3")
        self.c.cmd("ZADD", "k", "1", "m")
        self.assertEqual(read_raw(w), b"*-1\r\n")
        self.assertEqual(self.c.cmd("ZCARD", "k"), 1)

    # --- timeouts ---

    def test_timeouts_reply_null_arrays(self):
        c = self.c
        for cmd in [("BLPOP", "a", "b", "0.1"), ("BRPOP", "a", "0.1"),
                    ("BLMOVE", "a", "b", "LEFT", "LEFT", "0.1"),
                    ("BRPOPLPUSH", "a", "b", "0.1"),
                    ("BLMPOP", "0.1", "1", "a", "LEFT"),
                    ("BZPOPMIN", "a", "0.1"), ("BZPOPMAX", "a", "b", "0.1"),
                    ("BZMPOP", "0.1", "2", "a", "b", "MIN", "COUNT", "3")]:
            start = time.monotonic()
            self.assertEqual(read_raw_cmd(c, *cmd), b"*-1\r\n", cmd)
            self.assertGreaterEqual(time.monotonic() - start, 0.09, cmd)
        c.cmd("HELLO", "3")
        for cmd in [("BLPOP", "a", "0.1"), ("BLMOVE", "a", "b", "LEFT",
                                              "LEFT", "0.1"),
                    ("BZMPOP", "0.1", "1", "a", "MAX")]:
            self.assertEqual(read_raw_cmd(c, *cmd), b"_\r\n", cmd)
        self.assertEqual(self.blocked_clients(), 0)
        self.assertEqual(c.cmd("DBSIZE"), 0)

    def test_a_timeout_past_the_clock_range_waits_forever(self):
        # Redis 7.0.15 has no "timeout is out of range" check (7.2 does).
        w = self.block("BLPOP", "q", "9223372036854775")
        self.c.cmd("RPUSH", "q", "v")
        self.assertEqual(w.read(), [b"q", b"v"])

    def test_timeout_argument_errors(self):
        c = self.c
        for t, err in [("-1", "ERR timeout is negative"),
                       ("-0.5", "ERR timeout is negative"),
                       ("abc", "ERR timeout is not a float or out of range"),
                       ("1x", "ERR timeout is not a float or out of range"),
                       ("", "ERR timeout is not a float or out of range"),
                       ("nan", "ERR timeout is not a float or out of range"),
                       ("inf", "ERR timeout is negative"),
                       ("1e30", "ERR timeout is negative"),
                       ("9223372036854776", "ERR timeout is negative")]:
            self.assertErr(c.cmd("BLPOP", "k", t), err)
            self.assertErr(c.cmd("BZPOPMIN", "k", t), err)
            self.assertErr(c.cmd("BRPOPLPUSH", "k", "d", t), err)
            self.assertErr(c.cmd("BLMPOP", t, "1", "k", "LEFT"), err)
        # Arguments before the timeout, as Redis parses them.
        self.assertErr(c.cmd("BLMOVE", "a", "b", "UP", "LEFT", "x"),
                       "ERR syntax error")
        self.assertErr(c.cmd("BLMPOP", "x", "0", "k", "LEFT"),
                       "ERR numkeys should be greater than 0")
        self.assertErr(c.cmd("BLMPOP", "x", "1", "k", "UP"),
                       "ERR syntax error")
        self.assertErr(c.cmd("BZMPOP", "x", "1", "k", "MIN", "COUNT", "0"),
                       "ERR count should be greater than 0")
        self.assertErr(c.cmd("BLMPOP", "-1", "1", "k", "LEFT"),
                       "ERR timeout is negative")
        self.assertErr(c.cmd("BLPOP", "k"),
                       "ERR wrong number of arguments for 'blpop' command")
        self.assertErr(c.cmd("BZMPOP", "0", "1", "k"),
                       "ERR wrong number of arguments for 'bzmpop' command")

    # --- errors ---

    def test_wrongtype(self):
        c = self.c
        wt = "WRONGTYPE Operation against a key holding the wrong kind of value"
        c.cmd("SET", "s", "v")
        c.cmd("RPUSH", "l", "x", "x2")
        c.cmd("ZADD", "z", "1", "m")
        self.assertErr(c.cmd("BLPOP", "s", "l", "0"), wt)
        self.assertEqual(c.cmd("BLPOP", "nokey", "l", "s", "0"),
                         [b"l", b"x"])
        self.assertErr(c.cmd("BZPOPMIN", "l", "0"), wt)
        self.assertErr(c.cmd("BZPOPMIN", "nokey", "s", "0"), wt)
        self.assertErr(c.cmd("BLMPOP", "0", "1", "z", "LEFT"), wt)
        self.assertErr(c.cmd("BZMPOP", "0", "1", "s", "MIN"), wt)
        self.assertErr(c.cmd("BLMOVE", "l", "s", "LEFT", "LEFT", "0"), wt)
        self.assertErr(c.cmd("BRPOPLPUSH", "z", "l", "0"), wt)
        self.assertEqual(c.cmd("LRANGE", "l", "0", "-1"), [b"x2"])

    def test_blocked_blmove_to_a_key_of_another_type(self):
        # Redis blocks without looking at the destination; served, the
        # client gets WRONGTYPE and the element stays in the source.
        w = self.block("BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
        self.c.cmd("SET", "dst", "string")
        self.assertEqual(self.c.cmd("RPUSH", "src", "e"), 1)
        self.assertErr(w.read(), "WRONGTYPE Operation against a key holding "
                       "the wrong kind of value")
        self.assertEqual(self.c.cmd("LRANGE", "src", "0", "-1"), [b"e"])
        self.assertEqual(self.blocked_clients(), 0)

    # --- unblocking without data ---

    def test_disconnect_while_blocked_unregisters(self):
        w = self.block("BLPOP", "q", "0")
        w.close()
        self.wait_blocked(0)
        self.c.cmd("RPUSH", "q", "kept")
        self.assertEqual(self.c.cmd("LRANGE", "q", "0", "-1"), [b"kept"])

    def test_client_unblock(self):
        w = self.other()
        wid = w.cmd("CLIENT", "ID")
        w.send("BLPOP", "q", "0")
        self.wait_blocked(1)
        self.assertEqual(self.c.cmd("CLIENT", "UNBLOCK", str(wid)), 1)
        self.assertEqual(read_raw(w), b"*-1\r\n")
        w.send("BZPOPMIN", "z", "0")
        self.wait_blocked(1)
        self.assertErr(self.c.cmd("CLIENT", "UNBLOCK", str(wid), "NOPE"),
                       "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
        self.assertEqual(self.c.cmd("CLIENT", "UNBLOCK", str(wid), "ERROR"),
                         1)
        self.assertErr(w.read(),
                       "UNBLOCKED client unblocked via CLIENT UNBLOCK")
        self.assertEqual(self.c.cmd("CLIENT", "UNBLOCK", str(wid)), 0)
        self.assertErr(self.c.cmd("CLIENT", "UNBLOCK", "x"),
                       "ERR value is not an integer or out of range")
        self.assertEqual(w.cmd("PING"), "PONG")

    def test_many_clients_across_threads(self):
        n = 12
        ws = [self.block("BRPOP", "jobs%d" % (i % 3), "0", blocked_before=i)
              for i in range(n)]
        for i in range(n):
            self.c.cmd("LPUSH", "jobs%d" % (i % 3), "job%d" % i)
        got = sorted(w.read()[1] for w in ws)
        self.assertEqual(got, sorted(b"job%d" % i for i in range(n)))
        self.assertEqual(self.c.cmd("DBSIZE"), 0)


class BlockingStressTest(ServerTestCase):
    def test_every_element_reaches_exactly_one_consumer(self):
        """Producers and blocked consumers on several connections (daxkv:
        both I/O threads), BLMOVE between the queues: nothing lost, nothing
        twice."""
        n_per_producer, producers, consumers = 150, 3, 4
        total = n_per_producer * producers
        got, errors = [], []
        lock = threading.Lock()

        deadline = time.monotonic() + 60

        def consume():
            with self.server.client(timeout=30.0) as c:
                while time.monotonic() < deadline:
                    with lock:
                        if len(got) >= total or errors:
                            return
                    r = c.cmd("BLMOVE", "q1", "q2", "LEFT", "RIGHT", "0.2")
                    if r is None:
                        continue
                    r2 = c.cmd("BLPOP", "q2", "q3", "0.2")
                    with lock:
                        if not isinstance(r2, list):
                            errors.append(("BLPOP", r2))
                        else:
                            got.append(r2[1])

        def produce(p):
            with self.server.client(timeout=30.0) as c:
                for i in range(n_per_producer):
                    c.cmd("RPUSH", "q1", "p%d-%d" % (p, i))

        threads = [threading.Thread(target=consume)
                   for _ in range(consumers)]
        threads += [threading.Thread(target=produce, args=(p,))
                    for p in range(producers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        # A BLMOVE's element may wait in q2 for another consumer's BLPOP.
        rest = self.c.cmd("LRANGE", "q2", "0", "-1")
        self.assertEqual(sorted(got + rest),
                         sorted(b"p%d-%d" % (p, i) for p in range(producers)
                                for i in range(n_per_producer)))
        self.assertEqual(self.c.cmd("LLEN", "q1"), 0)


class BlockingInMultiTest(BlockingCase):
    def test_in_multi_the_plain_form_answers_at_once(self):
        c = self.c
        self.assertEqual(c.cmd("MULTI"), "OK")
        self.assertEqual(c.cmd("BLPOP", "q", "0"), "QUEUED")
        self.assertEqual(c.cmd("BLMOVE", "q", "d", "LEFT", "LEFT", "0"),
                         "QUEUED")
        self.assertEqual(c.cmd("BZPOPMIN", "z", "0"), "QUEUED")
        self.assertEqual(c.cmd("EXEC"), [None, None, None])

    def test_exec_and_scripts_wake_blocked_clients(self):
        c = self.c
        o1 = self.block("BLPOP", "q", "0")
        o2 = self.block("BZPOPMIN", "z", "0", blocked_before=1)
        self.assertEqual(c.cmd("MULTI"), "OK")
        c.cmd("RPUSH", "q", "a", "b")
        c.cmd("ZADD", "z", "1", "m")
        c.cmd("SET", "s", "v")
        # The block's own reads run before the waiters are served (at EXEC's
        # commit, as Redis serves them after the EXEC).
        c.cmd("LLEN", "q")
        self.assertEqual(c.cmd("EXEC"), [2, 1, "OK", 2])
        self.assertEqual(o1.read(), [b"q", b"a"])
        self.assertEqual(o2.read(), [b"z", b"m", b"1"])
        self.assertEqual(c.cmd("LRANGE", "q", "0", "-1"), [b"b"])
        o3 = self.block("BRPOP", "r", "0")
        self.assertEqual(c.cmd("EVAL", "redis.call('lpush', KEYS[1], 'x', 'y') "
                               "return redis.call('llen', KEYS[1])", 1, "r"),
                         2)
        self.assertEqual(o3.read(), [b"r", b"x"])
        self.assertEqual(c.cmd("LRANGE", "r", "0", "-1"), [b"y"])
        self.assertEqual(self.blocked_clients(), 0)


def read_raw_cmd(c, *cmd):
    c.send(*cmd)
    return read_raw(c)


if __name__ == "__main__":
    unittest.main()
