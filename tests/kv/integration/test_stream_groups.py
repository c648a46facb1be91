"""Stream consumer groups against a reference redis-server (differential.py):
XGROUP (CREATE with $/IDs/MKSTREAM/ENTRIESREAD, SETID, DESTROY,
CREATECONSUMER, DELCONSUMER, HELP), XREADGROUP (`>`, history IDs, several
streams, NOACK, COUNT, RESP3, deleted entries in a PEL), XACK, XPENDING
(summary and extended), XCLAIM and XAUTOCLAIM with every option, XINFO
GROUPS/CONSUMERS/STREAM (FULL too), lag and entries-read, the interplay
with XDEL/XTRIM/DEL/RENAME/COPY/MULTI/DUMP+RESTORE, blocking XREADGROUP
(served, timed out, unblocked by DEL or XGROUP DESTROY) and a seeded random
differential run. Every reply is compared, errors included.

IDs are explicit, so replies are deterministic except for times: idle
times (XPENDING's extended form, XINFO CONSUMERS' idle) and Unix-ms
timestamps (XINFO STREAM FULL's delivery and seen times) are compared
within TIME_SLACK_MS rather than exactly, and XINFO STREAM's radix-tree-*
fields (Redis's in-memory tree) are left out."""

import os
import random
import time
import unittest

from differential import PeerTestCase
from harness import RespError
from test_blocking import read_raw


# Both servers see each command a moment apart, and the machine may be
# busy: idle/delivery times agree within this many milliseconds.
TIME_SLACK_MS = 10000
# Field names whose values are times (idle durations or Unix ms).
TIME_KEYS = {"idle", "seen-time", "active-time", "inactive"}
# Fields Redis reports about its own in-memory radix tree.
DROP_KEYS = {"radix-tree-keys", "radix-tree-nodes"}
# Integers this large are Unix-ms timestamps (XINFO STREAM FULL).
UNIX_MS_FLOOR = 10 ** 12


class Millis:
    """A time in a reply: equal to another within TIME_SLACK_MS."""

    def __init__(self, ms):
        self.ms = ms

    def __eq__(self, other):
        return (isinstance(other, Millis) and
                abs(self.ms - other.ms) <= TIME_SLACK_MS)

    def __hash__(self):
        return 0

    def __repr__(self):
        return "Millis(%d)" % self.ms


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _name(k):
    return k.decode() if isinstance(k, bytes) else k


def _time(v):
    return Millis(v) if _is_int(v) else v


def normalize_times(reply):
    """Times become Millis, radix-tree-* fields are dropped, anywhere in
    the reply (RESP2 flat field/value lists and RESP3 maps alike)."""
    if _is_int(reply) and reply >= UNIX_MS_FLOOR:
        return Millis(reply)
    if isinstance(reply, dict):
        out = {}
        for k, v in reply.items():
            if _name(k) in DROP_KEYS:
                continue
            out[k] = _time(v) if _name(k) in TIME_KEYS else normalize_times(v)
        return out
    if not isinstance(reply, list):
        return reply
    out, i = [], 0
    while i < len(reply):
        item = reply[i]
        key = _name(item) if isinstance(item, bytes) else None
        if key in DROP_KEYS and i + 1 < len(reply):
            i += 2
            continue
        if key in TIME_KEYS and i + 1 < len(reply):
            out += [item, _time(reply[i + 1])]
            i += 2
            continue
        out.append(normalize_times(item))
        i += 1
    return out


def normalize(reply, cmd):
    """A reply with its times made comparable (see the module doc)."""
    if (str(cmd[0]).upper() == "XPENDING" and len(cmd) > 3 and
            isinstance(reply, list)):
        # Extended form: [id, consumer, idle, deliveries] per entry.
        return [[e[0], e[1], _time(e[2])] + e[3:]
                if isinstance(e, list) and len(e) == 4 else e for e in reply]
    return normalize_times(reply)


class GroupCase(PeerTestCase):
    """both() with times compared within TIME_SLACK_MS; blocking helpers
    for a command blocked on a new connection to each server."""

    def both(self, *cmd):
        mine, ref = self.c.cmd(*cmd), self.ref.cmd(*cmd)
        self.assertEqual(normalize(mine, cmd), normalize(ref, cmd),
                         "reply to %r" % (cmd,))
        return mine

    def both_raw(self, *cmd):
        """Byte-identical replies (RESP3 shapes: maps, nulls)."""
        self.c.send(*cmd)
        self.ref.send(*cmd)
        mine, ref = read_raw(self.c), read_raw(self.ref)
        self.assertEqual(mine, ref, "reply to %r" % (cmd,))
        return mine

    def hello3(self):
        self.c.cmd("HELLO", "3")
        self.ref.cmd("HELLO", "3")

    def blocked_count(self, conn):
        info = conn.cmd("INFO", "clients").decode()
        for line in info.splitlines():
            if line.startswith("blocked_clients:"):
                return int(line.split(":")[1])
        raise AssertionError("no blocked_clients in INFO")

    def wait_blocked_both(self, n):
        for conn in (self.c, self.ref):
            deadline = time.monotonic() + 10
            while self.blocked_count(conn) != n:
                self.assertLess(time.monotonic(), deadline,
                                "blocked_clients never reached %d" % n)
                time.sleep(0.01)

    def block_both(self, *cmd, blocked_before=0, resp3=False):
        """cmd blocks on a new connection to each server; returns the
        pair of connections, the target's first."""
        pair = []
        for server in (self.server, self.peer):
            o = server.client(timeout=20.0)
            self.addCleanup(o.close)
            if resp3:
                o.cmd("HELLO", "3")
            o.send(*cmd)
            pair.append(o)
        self.wait_blocked_both(blocked_before + 1)
        return pair

    def served_raw_equal(self, pair):
        mine, ref = read_raw(pair[0]), read_raw(pair[1])
        self.assertEqual(mine, ref)
        return mine

    def fill(self, key="s", n=5, first=1):
        """XADD key <i>-1 f v<i> for i in first..first+n-1, on both."""
        for i in range(first, first + n):
            self.both("XADD", key, "%d-1" % i, "f", "v%d" % i)


class StreamGroupTest(GroupCase):
    # --- XGROUP ---

    def test_xgroup_create(self):
        self.fill(n=3)
        self.both_script([
            "XGROUP CREATE s g1 $", "XGROUP CREATE s g2 0",
            "XGROUP CREATE s g3 2-1", "XGROUP CREATE s g4 0-0",
            "XGROUP CREATE s g5 2", "XGROUP CREATE s g6 99-0",
            "XGROUP CREATE s g7 0 ENTRIESREAD 2",
            "XGROUP CREATE s g8 $ ENTRIESREAD 0",
            "XGROUP CREATE s g9 1-1 ENTRIESREAD -1",
            "XGROUP CREATE s g10 2-1 ENTRIESREAD 10",
            "XGROUP create s g11 $ mkstream entriesread 3",
            "XGROUP CREATE s g12 0 MKSTREAM MKSTREAM",
            "XINFO GROUPS s",
            # errors
            "XGROUP CREATE s g1 0", "XGROUP CREATE s g1 $ MKSTREAM",
            "XGROUP CREATE s gx 0 ENTRIESREAD -2",
            "XGROUP CREATE s gx 0 ENTRIESREAD x",
            "XGROUP CREATE s gx 0 ENTRIESREAD",
            "XGROUP CREATE s gx 0 ENTRIESREAD 1.5",
            "XGROUP CREATE s gx 0 FOO", "XGROUP CREATE s gx 0 MKSTREAM 1",
            "XGROUP CREATE s gx x", "XGROUP CREATE s gx 1-x",
            "XGROUP CREATE s gx -", "XGROUP CREATE s gx +",
            "XGROUP CREATE s gx >", "XGROUP CREATE s gx 1-2-3",
            "XGROUP CREATE s gx", "XGROUP CREATE s",
            "XGROUP CREATE s gx 0 extra args",
            "XINFO GROUPS s",
            # missing keys
            "XGROUP CREATE nokey g 0", "XGROUP CREATE nokey g $",
            "XGROUP CREATE nokey g x", "XGROUP CREATE nokey g x MKSTREAM",
            "EXISTS nokey", "XGROUP CREATE nokey g $ MKSTREAM",
            "TYPE nokey", "XLEN nokey", "XGROUP CREATE nokey g $ MKSTREAM",
            "XGROUP CREATE nokey h 5-5 MKSTREAM", "XINFO GROUPS nokey",
            "XINFO STREAM nokey", "XADD nokey 1-1 f v",
            "XGROUP CREATE m g 7-7 MKSTREAM", "XADD m 3-3 f v",
            # other types
            "SET str x", "XGROUP CREATE str g 0",
            "XGROUP CREATE str g 0 MKSTREAM", "XGROUP CREATE str g x",
            "GET str",
        ])

    def test_xgroup_setid_and_destroy(self):
        self.fill(n=4)
        self.both_script([
            "XGROUP CREATE s g 0", "XREADGROUP GROUP g c COUNT 2 STREAMS s >",
            "XGROUP SETID s g 0", "XINFO GROUPS s",
            # SETID does not touch the PEL: c still owns 1-1 and 2-1
            "XPENDING s g", "XREADGROUP GROUP g d COUNT 1 STREAMS s >",
            "XPENDING s g", "XGROUP SETID s g $", "XINFO GROUPS s",
            "XREADGROUP GROUP g c STREAMS s >",
            "XGROUP SETID s g 2-1 ENTRIESREAD 2", "XINFO GROUPS s",
            "XGROUP SETID s g 3 ENTRIESREAD -1", "XINFO GROUPS s",
            "XGROUP SETID s g 99-9", "XINFO GROUPS s",
            "XGROUP setid s g 0 entriesread 0", "XINFO GROUPS s",
            "XREADGROUP GROUP g c STREAMS s >",
            # errors
            "XGROUP SETID s nog 0", "XGROUP SETID nokey g 0",
            "XGROUP SETID s g x", "XGROUP SETID s g 0 ENTRIESREAD x",
            "XGROUP SETID s g 0 ENTRIESREAD -5", "XGROUP SETID s g 0 FOO 1",
            "XGROUP SETID s g 0 ENTRIESREAD", "XGROUP SETID s g",
            "XGROUP SETID s g 0 ENTRIESREAD 1 2",
            "XGROUP SETID s g 0 MKSTREAM",
            "SET str x", "XGROUP SETID str g 0",
            # DESTROY
            "XGROUP CREATE s h $", "XGROUP DESTROY s g", "XGROUP DESTROY s g",
            "XGROUP DESTROY s nog", "XGROUP DESTROY nokey g",
            "XGROUP DESTROY str g", "XGROUP DESTROY s", "XGROUP DESTROY s h x",
            "XINFO GROUPS s", "XPENDING s g",
            "XREADGROUP GROUP g c STREAMS s >",
            "XGROUP CREATE s g $", "XPENDING s g", "XGROUP DESTROY s h",
            "XINFO GROUPS s", "XINFO STREAM s",
        ])

    def test_xgroup_consumers(self):
        self.fill(n=4)
        self.both_script([
            "XGROUP CREATE s g 0", "XGROUP CREATECONSUMER s g alice",
            "XGROUP CREATECONSUMER s g alice", "XGROUP CREATECONSUMER s g bob",
            "XINFO CONSUMERS s g", "XINFO GROUPS s",
            "XREADGROUP GROUP g alice COUNT 3 STREAMS s >",
            "XREADGROUP GROUP g carol COUNT 1 STREAMS s >",
            "XINFO CONSUMERS s g", "XPENDING s g",
            "XGROUP DELCONSUMER s g alice", "XPENDING s g",
            "XPENDING s g - + 10", "XGROUP DELCONSUMER s g alice",
            "XGROUP DELCONSUMER s g bob", "XGROUP DELCONSUMER s g nobody",
            "XINFO CONSUMERS s g", "XINFO GROUPS s",
            "XREADGROUP GROUP g alice STREAMS s 0",
            # a consumer that read nothing new still exists afterwards
            "XREADGROUP GROUP g dave STREAMS s >", "XINFO CONSUMERS s g",
            "XREADGROUP GROUP g erin STREAMS s 0", "XINFO CONSUMERS s g",
            # errors
            "XGROUP CREATECONSUMER s nog c", "XGROUP CREATECONSUMER nokey g c",
            "XGROUP DELCONSUMER s nog c", "XGROUP DELCONSUMER nokey g c",
            "XGROUP CREATECONSUMER s g", "XGROUP DELCONSUMER s g",
            "XGROUP CREATECONSUMER s g c x", "XGROUP DELCONSUMER s g c x",
            "SET str x", "XGROUP CREATECONSUMER str g c",
            "XGROUP DELCONSUMER str g c",
        ])

    def test_xgroup_help_and_arity(self):
        self.both_script([
            "XGROUP HELP", "XGROUP help", "XGROUP HELP x", "XGROUP",
            "XGROUP FOO", "XGROUP FOO s g", "XGROUP CREATE",
            "XGROUP SETID", "XGROUP DESTROY", "XGROUP CREATECONSUMER",
            "XGROUP DELCONSUMER", "XGROUP DESTROY s",
            "XGROUP CREATE s g", "XGROUP SETID s g",
            "XGROUP CREATECONSUMER s g", "XGROUP DELCONSUMER s g",
        ])

    # --- XREADGROUP ---

    def test_xreadgroup_new_entries(self):
        self.fill(n=5)
        self.both_script([
            "XGROUP CREATE s g 0", "XGROUP CREATE s h $",
            "XREADGROUP GROUP g c1 COUNT 2 STREAMS s >", "XINFO GROUPS s",
            "XREADGROUP GROUP g c2 COUNT 1 STREAMS s >",
            "XREADGROUP GROUP g c1 STREAMS s >", "XINFO GROUPS s",
            "XREADGROUP GROUP g c1 STREAMS s >",
            "XREADGROUP GROUP g c1 COUNT 0 STREAMS s >",
            "XREADGROUP GROUP h c1 STREAMS s >",
            "XADD s 6-1 f v6", "XADD s 7-1 f v7",
            "XREADGROUP GROUP h c1 COUNT 0 STREAMS s >",
            "XREADGROUP GROUP g c3 STREAMS s >",
            "XPENDING s g", "XPENDING s h", "XINFO GROUPS s",
            "XINFO CONSUMERS s g", "XINFO STREAM s",
            "xreadgroup group g c1 count 5 streams s >",
            "XREADGROUP GROUP G c1 STREAMS s >",
        ])

    def test_xreadgroup_history(self):
        self.fill(n=6)
        self.both_script([
            "XGROUP CREATE s g 0",
            "XREADGROUP GROUP g a COUNT 3 STREAMS s >",
            "XREADGROUP GROUP g b COUNT 2 STREAMS s >",
            "XREADGROUP GROUP g a STREAMS s 0",
            "XREADGROUP GROUP g a STREAMS s 0-0",
            "XREADGROUP GROUP g a STREAMS s 1-1",
            "XREADGROUP GROUP g a STREAMS s 1",
            "XREADGROUP GROUP g a COUNT 1 STREAMS s 0",
            "XREADGROUP GROUP g a COUNT 0 STREAMS s 0",
            "XREADGROUP GROUP g a STREAMS s 3-1",
            "XREADGROUP GROUP g a STREAMS s 18446744073709551615",
            "XREADGROUP GROUP g b STREAMS s 0",
            "XREADGROUP GROUP g nobody STREAMS s 0",
            # history reads count as deliveries
            "XPENDING s g - + 10",
            "XACK s g 2-1", "XREADGROUP GROUP g a STREAMS s 0",
            # deleted entries stay in the PEL: [id, nil] in the history
            "XDEL s 1-1 4-1", "XREADGROUP GROUP g a STREAMS s 0",
            "XREADGROUP GROUP g b STREAMS s 0", "XPENDING s g",
            "XPENDING s g - + 10", "XINFO CONSUMERS s g",
            # NOACK does nothing to a history read
            "XREADGROUP GROUP g a NOACK STREAMS s 0",
            "XPENDING s g - + 10", "XINFO GROUPS s",
            "XREADGROUP GROUP g a STREAMS s >", "XPENDING s g - + 10",
        ])

    def test_xreadgroup_noack(self):
        self.fill(n=4)
        self.both_script([
            "XGROUP CREATE s g 0",
            "XREADGROUP GROUP g c NOACK COUNT 2 STREAMS s >",
            "XPENDING s g", "XINFO CONSUMERS s g", "XINFO GROUPS s",
            "XREADGROUP GROUP g c STREAMS s 0",
            "XREADGROUP GROUP g c COUNT 1 NOACK STREAMS s >",
            "XREADGROUP GROUP g d noack STREAMS s >",
            "XPENDING s g", "XINFO CONSUMERS s g", "XINFO GROUPS s",
            "XREADGROUP GROUP g c NOACK NOACK STREAMS s >",
            "XADD s 5-1 f v", "XREADGROUP NOACK GROUP g c STREAMS s >",
            "XREADGROUP GROUP g c NOACK STREAMS s >", "XPENDING s g",
        ])

    def test_xreadgroup_several_streams(self):
        self.fill("a", n=3)
        self.fill("b", n=2, first=10)
        self.both_script([
            "XADD c 1-1 f v", "XGROUP CREATE a g 0", "XGROUP CREATE b g 0",
            "XGROUP CREATE c other 0",
            "XREADGROUP GROUP g x COUNT 2 STREAMS a b > >",
            "XREADGROUP GROUP g x STREAMS a b > >",
            "XREADGROUP GROUP g x STREAMS a b > >",
            "XREADGROUP GROUP g x STREAMS a b 0 >",
            "XREADGROUP GROUP g x STREAMS a b > 0",
            "XREADGROUP GROUP g x COUNT 1 STREAMS a b 0 0",
            "XADD b 20-1 f v", "XREADGROUP GROUP g y STREAMS a b > >",
            # the same stream twice
            "XADD a 30-1 f v", "XREADGROUP GROUP g y STREAMS a a > >",
            "XREADGROUP GROUP g y STREAMS a a 0 0",
            "XREADGROUP GROUP g y STREAMS a a > 0",
            # one stream lacks the group or the key: nothing is read
            "XADD a 31-1 f v", "XREADGROUP GROUP g y STREAMS a c > >",
            "XREADGROUP GROUP g y STREAMS a nokey > >", "XPENDING a g",
            "XREADGROUP GROUP g y STREAMS c a > >",
            "XINFO GROUPS a", "XINFO GROUPS b",
        ])

    def test_xreadgroup_errors(self):
        self.fill(n=2)
        self.both_script([
            "XGROUP CREATE s g 0", "SET str x", "RPUSH list a",
            "XREADGROUP GROUP nog c STREAMS s >",
            "XREADGROUP GROUP g c STREAMS nokey >",
            "XREADGROUP GROUP g c STREAMS nokey 0",
            "XREADGROUP GROUP g c STREAMS str >",
            "XREADGROUP GROUP g c STREAMS list 0",
            "XREADGROUP GROUP g c STREAMS s str > >",
            "XREADGROUP GROUP g c STREAMS s $",
            "XREADGROUP GROUP g c STREAMS s x",
            "XREADGROUP GROUP g c STREAMS s 1-x",
            "XREADGROUP GROUP g c STREAMS s -",
            "XREADGROUP GROUP g c STREAMS s +",
            "XREADGROUP GROUP g c STREAMS s",
            "XREADGROUP GROUP g c STREAMS s s >",
            "XREADGROUP GROUP g c STREAMS",
            "XREADGROUP GROUP g c COUNT x STREAMS s >",
            "XREADGROUP GROUP g c COUNT -1 STREAMS s >",
            "XREADGROUP GROUP g c COUNT STREAMS s >",
            "XREADGROUP GROUP g c BLOCK x STREAMS s >",
            "XREADGROUP GROUP g c BLOCK -1 STREAMS s >",
            "XREADGROUP GROUP g c FOO STREAMS s >",
            "XREADGROUP GROUP g c s >", "XREADGROUP GROUP g c",
            "XREADGROUP GROUP g STREAMS s >", "XREADGROUP GROUP STREAMS s >",
            "XREADGROUP STREAMS s >", "XREADGROUP COUNT 1 STREAMS s >",
            "XREADGROUP", "XREADGROUP GROUP",
            "XREADGROUP GROUP g c GROUP g d STREAMS s >",
            "XREADGROUP GROUP g c STREAMS s > GROUP",
            "XREADGROUP COUNT 1 BLOCK 0 STREAMS s >",
            "XREADGROUP NOACK COUNT 1 STREAMS s >",
            "XREADGROUP GROUP g c COUNT 1 STREAMS s",
            "XREAD GROUP g c STREAMS s >", "XREAD STREAMS s >",
            "XREAD NOACK STREAMS s 0",
            # only COUNT -1 (no limit) delivered anything
            "XPENDING s g", "XINFO GROUPS s", "XINFO CONSUMERS s g",
        ])

    def test_xreadgroup_resp3(self):
        self.fill("a", n=3)
        self.fill("b", n=1, first=7)
        self.both_script(["XGROUP CREATE a g 0", "XGROUP CREATE b g 0"])
        self.hello3()
        for line in (
                "XREADGROUP GROUP g c COUNT 1 STREAMS a b > >",
                "XREADGROUP GROUP g c STREAMS a b > >",
                "XREADGROUP GROUP g c STREAMS a b > >",
                "XREADGROUP GROUP g c STREAMS a b 0 0",
                "XREADGROUP GROUP g d STREAMS a 0",
                "XDEL a 1-1", "XREADGROUP GROUP g c STREAMS a 0",
                "XPENDING a g", "XPENDING a g - + 0",
                "XPENDING nokey g - + 10", "XINFO GROUPS a",
                "XCLAIM a g d 0 1-1 2-1 JUSTID",
                "XAUTOCLAIM a g d 0 0 JUSTID",
                "XAUTOCLAIM a g d 0 0", "XGROUP CREATECONSUMER a g e",
                "XREADGROUP GROUP nog c STREAMS a >",
                "XREADGROUP GROUP g c NOACK STREAMS a >"):
            self.both_raw(*line.split(" "))
        for line in ("XPENDING a g - + 10", "XINFO CONSUMERS a g",
                     "XINFO STREAM a", "XINFO STREAM a FULL"):
            self.both(*line.split(" "))

    # --- XACK ---

    def test_xack(self):
        self.fill(n=5)
        self.both_script([
            "XGROUP CREATE s g 0", "XGROUP CREATE s h 0",
            "XREADGROUP GROUP g c STREAMS s >",
            "XREADGROUP GROUP h c COUNT 2 STREAMS s >",
            "XACK s g 1-1", "XACK s g 1-1", "XACK s g 2-1 3-1 3-1 9-9",
            "XACK s g 4", "XACK s g 0-0", "XPENDING s g", "XPENDING s h",
            "XINFO CONSUMERS s g", "XINFO GROUPS s",
            "XACK s g 5-1 x", "XPENDING s g", "XACK s g x", "XACK s g -",
            "XACK s g +", "XACK s g 1-2-3", "XACK s nog 5-1",
            "XACK nokey g 1-1", "XACK nokey g x", "XACK s g",
            "XACK s", "XACK", "SET str x", "XACK str g 1-1",
            "XACK s g 5-1 5-1", "XPENDING s g",
            "XACK s h 18446744073709551615",
            "XACK s h 2 1", "XPENDING s h",
        ])

    # --- XPENDING ---

    def test_xpending(self):
        self.fill(n=8)
        self.both_script([
            "XGROUP CREATE s g 0", "XPENDING s g", "XPENDING s g - + 10",
            "XREADGROUP GROUP g a COUNT 3 STREAMS s >",
            "XREADGROUP GROUP g b COUNT 2 STREAMS s >",
            "XREADGROUP GROUP g c COUNT 2 STREAMS s >",
            "XREADGROUP GROUP g a STREAMS s 0",
            "XPENDING s g", "XPENDING s g - + 10", "XPENDING s g - + 3",
            "XPENDING s g - + 0", "XPENDING s g - + -1",
            "XPENDING s g 2-1 6-1 10", "XPENDING s g 2 6 10",
            "XPENDING s g (2-1 (6-1 10", "XPENDING s g (1 + 10",
            "XPENDING s g + - 10", "XPENDING s g 9 + 10",
            "XPENDING s g - + 10 a", "XPENDING s g - + 10 b",
            "XPENDING s g - + 1 c", "XPENDING s g - + 10 nobody",
            "XPENDING s g IDLE 0 - + 10", "XPENDING s g IDLE 0 - + 10 a",
            "XPENDING s g IDLE 3600000 - + 10",
            "XPENDING s g idle 3600000 - + 10 b",
            "XPENDING s g IDLE -1 - + 10",
            "XCLAIM s g b 0 1-1 IDLE 7200000 JUSTID",
            "XPENDING s g IDLE 3600000 - + 10", "XPENDING s g - + 10",
            "XPENDING s g", "XPENDING s g 2-1 2-1 1",
            # errors
            "XPENDING s nog", "XPENDING nokey g", "XPENDING s nog - + 10",
            "XPENDING nokey g - + 10", "XPENDING s g - +",
            "XPENDING s g -", "XPENDING s g - + x", "XPENDING s g x + 10",
            "XPENDING s g - x 10", "XPENDING s g (- + 10",
            "XPENDING s g - (+ 10", "XPENDING s g IDLE x - + 10",
            "XPENDING s g IDLE 10", "XPENDING s g IDLE 10 - +",
            "XPENDING s g IDLE", "XPENDING s g - + 10 a extra",
            "XPENDING s g FOO 1 - + 10", "XPENDING s g - + 1.5",
            "XPENDING s", "XPENDING", "SET str x", "XPENDING str g",
            "XPENDING str g - + 10",
            "XACK s g 1-1 2-1 3-1 4-1 5-1 6-1 7-1", "XPENDING s g",
            "XPENDING s g - + 10",
        ])

    # --- XCLAIM ---

    def test_xclaim(self):
        self.fill(n=8)
        self.both_script([
            "XGROUP CREATE s g 0", "XREADGROUP GROUP g a COUNT 4 STREAMS s >",
            "XCLAIM s g b 0 1-1", "XPENDING s g - + 10",
            "XCLAIM s g b 0 2-1 3-1 JUSTID", "XPENDING s g - + 10",
            "XCLAIM s g b 3600000 4-1", "XCLAIM s g b 3600000 4-1 JUSTID",
            "XCLAIM s g c 0 4-1 IDLE 5000000", "XPENDING s g - + 10",
            "XCLAIM s g a 3600000 4-1 JUSTID",
            "XCLAIM s g c 0 1-1 TIME 1000 JUSTID",
            "XPENDING s g IDLE 3600000 - + 10",
            "XCLAIM s g c 0 2-1 TIME 99999999999999 JUSTID",
            "XCLAIM s g c 0 3-1 RETRYCOUNT 7 JUSTID", "XPENDING s g - + 10",
            "XCLAIM s g c 0 3-1 RETRYCOUNT 0", "XPENDING s g - + 10",
            # not pending: skipped, unless FORCE (then only if it exists)
            "XCLAIM s g c 0 6-1 7-1 99-1", "XCLAIM s g c 0 6-1 99-1 FORCE",
            "XCLAIM s g c 0 7-1 FORCE JUSTID", "XPENDING s g - + 10",
            "XINFO GROUPS s", "XINFO CONSUMERS s g",
            # LASTID moves last-delivered-id forward only
            "XCLAIM s g c 0 1-1 LASTID 5-1 JUSTID", "XINFO GROUPS s",
            "XCLAIM s g c 0 1-1 LASTID 2-1 JUSTID", "XINFO GROUPS s",
            "XREADGROUP GROUP g d STREAMS s >", "XPENDING s g",
            "XCLAIM s g c 0 1-1 LASTID 50-0 JUSTID", "XINFO GROUPS s",
            "XREADGROUP GROUP g d STREAMS s >",
            # IDs repeated, unordered, incomplete
            "XCLAIM s g e 0 3-1 1-1 3-1 1 JUSTID", "XPENDING s g - + 10 e",
            "XCLAIM s g e 0 1-1 idle 0 retrycount 3 force justid lastid 0-1",
            "XPENDING s g - + 10",
            # nothing claimed: the claiming consumer is not created
            "XCLAIM s g newbie 3600000 1-1", "XINFO CONSUMERS s g",
            "XCLAIM s g newbie 0 99-9 JUSTID", "XINFO CONSUMERS s g",
        ])

    def test_xclaim_deleted_entries(self):
        self.fill(n=5)
        self.both_script([
            "XGROUP CREATE s g 0", "XREADGROUP GROUP g a STREAMS s >",
            "XDEL s 2-1 4-1", "XPENDING s g",
            "XCLAIM s g b 0 1-1 2-1 3-1", "XPENDING s g - + 10",
            "XCLAIM s g b 0 4-1 JUSTID", "XPENDING s g - + 10",
            "XCLAIM s g b 0 4-1 FORCE", "XCLAIM s g b 0 2-1 FORCE JUSTID",
            "XPENDING s g", "XINFO CONSUMERS s g",
            "XTRIM s MAXLEN 1", "XCLAIM s g c 0 1-1 3-1 5-1 JUSTID",
            "XPENDING s g - + 10", "XINFO GROUPS s",
        ])

    def test_xclaim_errors(self):
        self.fill(n=2)
        self.both_script([
            "XGROUP CREATE s g 0", "XREADGROUP GROUP g a STREAMS s >",
            "XCLAIM s g b x 1-1", "XCLAIM s g b -1 1-1",
            "XCLAIM s g b 1.5 1-1", "XCLAIM s g b 0 x",
            "XCLAIM s g b 0 1-1 x", "XCLAIM s g b 0 1-1 IDLE x",
            "XCLAIM s g b 0 1-1 IDLE", "XCLAIM s g b 0 1-1 IDLE -5",
            "XCLAIM s g b 0 1-1 TIME x", "XCLAIM s g b 0 1-1 TIME -5",
            "XCLAIM s g b 0 1-1 RETRYCOUNT x",
            "XCLAIM s g b 0 1-1 RETRYCOUNT -1",
            "XCLAIM s g b 0 1-1 RETRYCOUNT",
            "XCLAIM s g b 0 1-1 LASTID x", "XCLAIM s g b 0 1-1 LASTID",
            "XCLAIM s g b 0 1-1 FOO", "XCLAIM s g b 0 1-1 JUSTID FOO",
            "XCLAIM s g b 0 1-1 JUSTID 2-1",
            "XCLAIM s nog b 0 1-1", "XCLAIM nokey g b 0 1-1",
            "XCLAIM nokey g b x 1-1", "XCLAIM s g b 0", "XCLAIM s g b",
            "XCLAIM", "SET str x", "XCLAIM str g b 0 1-1",
            "XPENDING s g - + 10", "XINFO CONSUMERS s g",
        ])

    # --- XAUTOCLAIM ---

    def test_xautoclaim(self):
        self.fill(n=10)
        self.both_script([
            "XGROUP CREATE s g 0", "XREADGROUP GROUP g a COUNT 6 STREAMS s >",
            "XREADGROUP GROUP g b STREAMS s >",
            "XAUTOCLAIM s g c 0 0 COUNT 3", "XPENDING s g - + 20",
            "XAUTOCLAIM s g c 0 4-1 COUNT 3 JUSTID",
            "XAUTOCLAIM s g c 0 7-1 COUNT 3 JUSTID",
            "XAUTOCLAIM s g c 0 10-1 COUNT 3 JUSTID",
            "XAUTOCLAIM s g c 0 11 JUSTID", "XPENDING s g - + 20",
            "XAUTOCLAIM s g d 0 0", "XAUTOCLAIM s g d 0 - COUNT 2 JUSTID",
            "XAUTOCLAIM s g d 0 5 count 100 justid",
            "XAUTOCLAIM s g e 3600000 0", "XAUTOCLAIM s g e 3600000 0 JUSTID",
            "XCLAIM s g e 0 2-1 IDLE 7200000 JUSTID",
            "XAUTOCLAIM s g f 3600000 0 JUSTID",
            "XPENDING s g - + 20", "XINFO CONSUMERS s g",
            "XAUTOCLAIM s g f 0 (1-1", "XAUTOCLAIM s g f 0 +",
            "XAUTOCLAIM s g f 0 18446744073709551615-18446744073709551615",
            # deleted entries: the third element, and gone from the PEL
            "XDEL s 2-1 3-1 8-1", "XAUTOCLAIM s g g 0 0 COUNT 2",
            "XPENDING s g", "XAUTOCLAIM s g g 0 0 JUSTID", "XPENDING s g",
            "XDEL s 1-1 4-1 5-1 6-1 7-1 9-1 10-1", "XAUTOCLAIM s g g 0 0",
            "XPENDING s g", "XINFO CONSUMERS s g",
            "XAUTOCLAIM s g g 0 0 COUNT 1",
        ])

    def test_xautoclaim_scan_limit(self):
        # XAUTOCLAIM looks at no more than COUNT*10 PEL entries per call
        # (the cursor tells where it stopped); a deleted entry it meets
        # counts against COUNT like a claimed one.
        for i in range(1, 61):
            self.both("XADD", "s", "%d-0" % i, "f", "v")
        self.both_script([
            "XGROUP CREATE s g 0", "XREADGROUP GROUP g a STREAMS s >",
            "XAUTOCLAIM s g b 3600000 0 COUNT 1",
            "XAUTOCLAIM s g b 3600000 0 COUNT 2 JUSTID",
            "XAUTOCLAIM s g b 3600000 0",
            "XAUTOCLAIM s g b 3600000 51-0 COUNT 1",
            "XAUTOCLAIM s g b 3600000 50-0 COUNT 1",
            "XTRIM s MAXLEN 5", "XAUTOCLAIM s g b 0 0 COUNT 2",
            "XAUTOCLAIM s g b 0 21-0 COUNT 2 JUSTID",
            "XAUTOCLAIM s g b 0 41-0 COUNT 2 JUSTID",
            "XAUTOCLAIM s g b 0 0 COUNT 2 JUSTID", "XPENDING s g",
            "XPENDING s g - + 100",
        ])

    def test_xautoclaim_errors(self):
        self.fill(n=2)
        self.both_script([
            "XGROUP CREATE s g 0", "XREADGROUP GROUP g a STREAMS s >",
            "XAUTOCLAIM s g b 0 0 COUNT 0", "XAUTOCLAIM s g b 0 0 COUNT -1",
            "XAUTOCLAIM s g b 0 0 COUNT x", "XAUTOCLAIM s g b 0 0 COUNT",
            "XAUTOCLAIM s g b 0 0 COUNT 9223372036854775807",
            "XAUTOCLAIM s g b 0 0 COUNT 922337203685477580",
            # the largest COUNT accepted is 2^59-1 (a huge accepted one
            # fails allocating its scratch array: not compared here)
            "XAUTOCLAIM s g b 0 0 COUNT 576460752303423488",
            "XAUTOCLAIM s g b 0 0 COUNT 100000 JUSTID",
            "XAUTOCLAIM s g b x 0", "XAUTOCLAIM s g b -1 0",
            "XAUTOCLAIM s g b 0 x", "XAUTOCLAIM s g b 0 0 FOO",
            "XAUTOCLAIM s g b 0 0 JUSTID FOO", "XAUTOCLAIM s g b 0 0 IDLE 5",
            "XAUTOCLAIM s nog b 0 0", "XAUTOCLAIM nokey g b 0 0",
            "XAUTOCLAIM nokey g b x 0", "XAUTOCLAIM s g b 0",
            "XAUTOCLAIM", "SET str x", "XAUTOCLAIM str g b 0 0",
            "XPENDING s g - + 10", "XINFO CONSUMERS s g",
        ])

    # --- XINFO ---

    def test_xinfo(self):
        self.fill(n=5)
        self.both_script([
            "XINFO STREAM s", "XGROUP CREATE s g1 0", "XGROUP CREATE s g2 $",
            "XGROUP CREATE s g0 2-1", "XINFO STREAM s", "XINFO GROUPS s",
            "XREADGROUP GROUP g1 alice COUNT 2 STREAMS s >",
            "XREADGROUP GROUP g1 bob COUNT 1 STREAMS s >",
            "XGROUP CREATECONSUMER s g1 carol", "XADD s 6-1 f v",
            "XINFO GROUPS s", "XINFO CONSUMERS s g1", "XINFO CONSUMERS s g2",
            "XINFO STREAM s", "XINFO STREAM s FULL",
            "XINFO STREAM s FULL COUNT 1", "XINFO STREAM s FULL COUNT 0",
            "XINFO CONSUMERS s nog", "XINFO CONSUMERS nokey g1",
            "XINFO CONSUMERS s", "XINFO CONSUMERS s g1 x", "XINFO GROUPS",
            "XINFO GROUPS s x", "SET str x", "XINFO CONSUMERS str g",
            "XINFO GROUPS str", "XGROUP DESTROY s g0", "XINFO STREAM s",
        ])
        self.hello3()
        for line in ("XINFO STREAM s", "XINFO STREAM s FULL",
                     "XINFO GROUPS s", "XINFO CONSUMERS s g1"):
            self.both(*line.split(" "))

    def test_lag_and_entries_read(self):
        # entries-read and lag: exact while the stream has no tombstones
        # between the group and the end, unknown (nil) otherwise.
        self.both_script([
            "XGROUP CREATE s g $ MKSTREAM", "XINFO GROUPS s",
            "XADD s 1-1 f v", "XADD s 2-1 f v", "XADD s 3-1 f v",
            "XINFO GROUPS s", "XREADGROUP GROUP g c COUNT 1 STREAMS s >",
            "XINFO GROUPS s", "XGROUP CREATE s h 0", "XGROUP CREATE s i 2-1",
            "XGROUP CREATE s j $", "XGROUP CREATE s k 3", "XINFO GROUPS s",
            "XDEL s 2-1", "XINFO GROUPS s",
            "XREADGROUP GROUP g c STREAMS s >", "XINFO GROUPS s",
            "XADD s 4-1 f v", "XINFO GROUPS s",
            "XDEL s 1-1", "XINFO GROUPS s", "XINFO STREAM s",
            "XREADGROUP GROUP h c STREAMS s >", "XINFO GROUPS s",
            "XDEL s 4-1", "XINFO GROUPS s", "XADD s 5-1 f v",
            "XINFO GROUPS s", "XREADGROUP GROUP i c STREAMS s >",
            "XINFO GROUPS s", "XGROUP SETID s j 0 ENTRIESREAD 0",
            "XINFO GROUPS s", "XGROUP SETID s k $", "XINFO GROUPS s",
            "XTRIM s MAXLEN 1", "XINFO GROUPS s", "XINFO STREAM s",
            "XSETID s 9-9 ENTRIESADDED 20 MAXDELETEDID 8-0",
            "XINFO GROUPS s", "XINFO STREAM s",
            "XTRIM s MAXLEN 0", "XINFO GROUPS s",
            "XADD s 10-1 f v", "XINFO GROUPS s",
            "XREADGROUP GROUP g c STREAMS s >", "XINFO GROUPS s",
        ])

    # --- interplay ---

    def test_xdel_and_xtrim_of_pending_entries(self):
        self.fill(n=6)
        self.both_script([
            "XGROUP CREATE s g 0", "XREADGROUP GROUP g c STREAMS s >",
            "XDEL s 3-1", "XTRIM s MINID 3", "XLEN s", "XPENDING s g",
            "XPENDING s g - + 10", "XREADGROUP GROUP g c STREAMS s 0",
            "XACK s g 1-1 3-1", "XPENDING s g", "XTRIM s MAXLEN 0",
            "XLEN s", "EXISTS s", "XINFO GROUPS s", "XPENDING s g",
            "XREADGROUP GROUP g c STREAMS s 0",
            "XREADGROUP GROUP g c STREAMS s >", "XADD s 7-1 f v",
            "XREADGROUP GROUP g c STREAMS s >", "XPENDING s g",
            "XINFO STREAM s FULL",
        ])

    def test_keyspace(self):
        self.fill(n=3)
        self.both_script([
            "XGROUP CREATE s g 0", "XGROUP CREATE s h $",
            "XREADGROUP GROUP g c COUNT 2 STREAMS s >",
            "RENAME s t", "XINFO GROUPS t", "XPENDING t g",
            "XREADGROUP GROUP g c STREAMS t 0",
            "XREADGROUP GROUP g c STREAMS s >",
            "COPY t u", "XINFO GROUPS u", "XPENDING u g - + 10",
            "XINFO CONSUMERS u g", "XREADGROUP GROUP g d STREAMS u >",
            "XACK u g 1-1", "XPENDING u g", "XPENDING t g",
            "XINFO GROUPS t", "XGROUP DESTROY u h", "XINFO GROUPS t",
            "XINFO GROUPS u", "COPY t u", "COPY t u REPLACE",
            "XINFO GROUPS u", "EXPIRE t 100", "XINFO GROUPS t",
            "DEL t", "XREADGROUP GROUP g c STREAMS t >",
            "XREADGROUP GROUP g c STREAMS t 0", "XPENDING t g",
            "XADD t 1-1 f v", "XREADGROUP GROUP g c STREAMS t >",
            "XINFO GROUPS t", "SET u x", "XINFO GROUPS u",
            "XGROUP CREATE t g2 0", "TYPE t", "XLEN t", "DBSIZE",
        ])

    def test_multi_exec(self):
        self.fill(n=4)
        self.both_script([
            "XGROUP CREATE s g 0", "MULTI",
            "XREADGROUP GROUP g c COUNT 2 STREAMS s >", "XACK s g 1-1",
            "XPENDING s g", "XGROUP CREATECONSUMER s g d",
            "XCLAIM s g d 0 2-1 JUSTID", "XAUTOCLAIM s g e 0 0 JUSTID",
            "XREADGROUP GROUP g c BLOCK 0 STREAMS s >",
            "XREADGROUP GROUP g c BLOCK 0 STREAMS s >",
            "XINFO GROUPS s", "EXEC",
            "MULTI", "XGROUP CREATE s h $", "XGROUP CREATE s h $",
            "XREADGROUP GROUP nog c STREAMS s >", "XACK s h 1-1", "EXEC",
            "MULTI", "XREADGROUP GROUP g c STREAMS s", "XACK s g 1-1",
            "EXEC", "XPENDING s g", "XINFO GROUPS s",
            "MULTI", "XREADGROUP GROUP g c STREAMS s 0",
            "XGROUP DESTROY s g", "XREADGROUP GROUP g c STREAMS s 0", "EXEC",
            "MULTI", "XGROUP CREATE fresh g $ MKSTREAM",
            "XREADGROUP GROUP g c BLOCK 100 STREAMS fresh >",
            "XADD fresh 1-1 f v", "XREADGROUP GROUP g c STREAMS fresh >",
            "EXEC",
        ])

    def test_dump_restore(self):
        self.fill(n=6)
        self.both_script([
            "XGROUP CREATE s g 0", "XGROUP CREATE s h 3-1 ENTRIESREAD 3",
            "XGROUP CREATE s empty $",
            "XREADGROUP GROUP g a COUNT 3 STREAMS s >",
            "XREADGROUP GROUP g b COUNT 1 STREAMS s >",
            "XREADGROUP GROUP h a NOACK COUNT 1 STREAMS s >",
            "XCLAIM s g b 0 2-1 RETRYCOUNT 5 JUSTID",
            "XGROUP CREATECONSUMER s g idle-less", "XDEL s 1-1",
        ])
        payloads = {}
        for side, conn in (("mine", self.c), ("ref", self.ref)):
            payload = conn.cmd("DUMP", "s")
            self.assertIsInstance(payload, bytes)
            payloads[side] = payload
            self.assertEqual(conn.cmd("RESTORE", "r", "0", payload), "OK")
            self.assertIsInstance(conn.cmd("RESTORE", "r", "0", payload),
                                  RespError)
        # Each server also restores the other's payload.
        self.assertEqual(self.c.cmd("RESTORE", "x", "0", payloads["ref"]),
                         "OK")
        self.assertEqual(self.ref.cmd("RESTORE", "x", "0", payloads["mine"]),
                         "OK")
        for key in ("r", "x"):
            self.both_script([
                "XINFO GROUPS %s" % key, "XPENDING %s g" % key,
                "XPENDING %s g - + 10" % key, "XPENDING %s h" % key,
                "XINFO CONSUMERS %s g" % key, "XINFO CONSUMERS %s h" % key,
                "XINFO STREAM %s" % key, "XINFO STREAM %s FULL" % key,
                "XREADGROUP GROUP g a STREAMS %s 0" % key,
                "XREADGROUP GROUP g c STREAMS %s >" % key,
                "XREADGROUP GROUP h c STREAMS %s >" % key,
                "XAUTOCLAIM %s g d 0 0 JUSTID" % key,
                "XGROUP CREATE %s g 0" % key, "XADD %s 3-1 f v" % key,
                "XINFO GROUPS %s" % key,
            ])
        self.both_script(["XPENDING s g - + 10", "XINFO GROUPS s",
                          "RESTORE r 0 garbage", "XINFO GROUPS r"])
        # REPLACE over a stream with other groups drops them
        self.both("XGROUP", "CREATE", "x", "extra", "0")
        for conn in (self.c, self.ref):
            self.assertEqual(conn.cmd("RESTORE", "x", "0", payloads["ref"],
                                      "REPLACE"), "OK")
        self.both_script(["XINFO GROUPS x", "XPENDING x g - + 10"])

    def test_random_groups(self):
        seed = int(os.environ.get("STREAM_GROUPS_SEED",
                                  os.environ.get("STREAM_SEED",
                                                 random.randrange(1 << 30))))
        rng = random.Random(seed)
        keys = ["s0", "s1"]
        groups = ["g0", "g1"]
        consumers = ["c0", "c1", "c2", "c3"]
        last = {k: 0 for k in keys}
        added = {k: [] for k in keys}

        def some_ids(k, n):
            pool = added[k] or ["1-0"]
            ids = [rng.choice(pool) for _ in range(n)]
            if rng.random() < 0.1:
                ids.append("%d-0" % (last[k] + 5))  # never added
            return ids

        for k in keys:
            for g in groups:
                self.both("XGROUP", "CREATE", k, g, rng.choice(["0", "$"]),
                          "MKSTREAM")
        for step in range(300):
            k, g, c = rng.choice(keys), rng.choice(groups), rng.choice(
                consumers)
            r = rng.random()
            if r < 0.25:
                last[k] += rng.randint(1, 3)
                sid = "%d-%d" % (last[k], rng.randint(0, 2))
                added[k].append(sid)
                cmd = ["XADD", k, sid, "f", str(step)]
            elif r < 0.40:
                cmd = ["XREADGROUP", "GROUP", g, c]
                if rng.random() < 0.6:
                    cmd += ["COUNT", str(rng.randint(0, 4))]
                if rng.random() < 0.1:
                    cmd.append("NOACK")
                if rng.random() < 0.2:
                    other = keys[1 - keys.index(k)]
                    cmd += ["STREAMS", k, other, ">", rng.choice([">", "0"])]
                else:
                    cmd += ["STREAMS", k, ">"]
            elif r < 0.50:
                cmd = ["XREADGROUP", "GROUP", g, c]
                if rng.random() < 0.5:
                    cmd += ["COUNT", str(rng.randint(0, 3))]
                start = "0" if rng.random() < 0.7 else rng.choice(
                    added[k] or ["0"])
                cmd += ["STREAMS", k, start]
            elif r < 0.60:
                cmd = ["XACK", k, g] + some_ids(k, rng.randint(1, 3))
            elif r < 0.68:
                cmd = ["XCLAIM", k, g, c, "0"] + some_ids(k, rng.randint(1, 3))
                if rng.random() < 0.7:
                    cmd.append("JUSTID")
                if rng.random() < 0.1:
                    cmd += ["RETRYCOUNT", str(rng.randint(0, 5))]
                if rng.random() < 0.1:
                    cmd.append("FORCE")
            elif r < 0.75:
                start = "0" if rng.random() < 0.6 else rng.choice(
                    added[k] or ["0"])
                cmd = ["XAUTOCLAIM", k, g, c, "0", start, "COUNT",
                       str(rng.randint(1, 4))]
                if rng.random() < 0.7:
                    cmd.append("JUSTID")
            elif r < 0.81:
                cmd = ["XDEL", k] + some_ids(k, rng.randint(1, 2))
            elif r < 0.84:
                cmd = ["XGROUP", rng.choice(["CREATECONSUMER",
                                             "DELCONSUMER"]), k, g, c]
            elif r < 0.85:
                cmd = ["XGROUP", "SETID", k, g,
                       rng.choice(["0", "$"] + added[k][-3:])]
            elif r < 0.86:
                cmd = ["XTRIM", k, "MAXLEN", "=", str(rng.randint(0, 10))]
            elif r < 0.94:
                a, b = sorted(rng.randint(0, last[k] + 1) for _ in range(2))
                cmd = ["XPENDING", k, g, rng.choice(["-", str(a)]),
                       rng.choice(["+", str(b)]), str(rng.randint(0, 6))]
                if rng.random() < 0.4:
                    cmd.append(c)
            elif r < 0.97:
                cmd = ["XPENDING", k, g]
            else:
                cmd = ["XINFO", rng.choice(["GROUPS", "CONSUMERS"]), k]
                if cmd[1] == "CONSUMERS":
                    cmd.append(g)
            mine, ref = self.c.cmd(*cmd), self.ref.cmd(*cmd)
            self.assertEqual(normalize(mine, cmd), normalize(ref, cmd),
                             "seed %d step %d: %r" % (seed, step, cmd))
        for k in keys:
            for cmd in (["XINFO", "STREAM", k, "FULL"], ["XINFO", "GROUPS", k],
                        ["XRANGE", k, "-", "+"]):
                mine, ref = self.c.cmd(*cmd), self.ref.cmd(*cmd)
                self.assertEqual(normalize(mine, cmd), normalize(ref, cmd),
                                 "seed %d at the end: %r" % (seed, cmd))


class StreamGroupBlockingTest(GroupCase):
    """XREADGROUP BLOCK on both servers: served by an XADD from another
    connection (and then pending for that consumer, unless NOACK), one
    waiter per new entry, history IDs that never block, timeouts (null in
    RESP2 and RESP3), and waiters woken by DEL/type change or XGROUP
    DESTROY with an error."""

    def test_served_by_xadd_and_pending(self):
        self.both_script(["XADD s 1-1 f old", "XGROUP CREATE s g $"])
        pair = self.block_both("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0",
                               "STREAMS", "s", ">")
        self.both_script(["XADD s 2-1 f new", "XADD s 3-1 f newer"])
        self.assertEqual(self.served_raw_equal(pair),
                         b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-1\r\n"
                         b"*2\r\n$1\r\nf\r\n$3\r\nnew\r\n")
        self.wait_blocked_both(0)
        self.both_script([
            "XPENDING s g", "XPENDING s g - + 10", "XINFO GROUPS s",
            "XINFO CONSUMERS s g", "XREADGROUP GROUP g c STREAMS s 0",
            "XREADGROUP GROUP g d STREAMS s >",
        ])

    def test_served_with_count_noack_and_several_streams(self):
        self.both_script(["XGROUP CREATE a g $ MKSTREAM",
                          "XGROUP CREATE b g $ MKSTREAM"])
        pair = self.block_both("XREADGROUP", "GROUP", "g", "c", "COUNT", "5",
                               "NOACK", "BLOCK", "0", "STREAMS", "a", "b",
                               ">", ">")
        self.both("XADD", "b", "7-7", "x", "y")
        self.served_raw_equal(pair)
        self.both_script(["XPENDING b g", "XINFO GROUPS b",
                          "XINFO CONSUMERS b g"])
        # a pipelined MULTI batch of XADDs serves the waiter once, with all
        pair = self.block_both("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0",
                               "STREAMS", "a", ">")
        self.both_script(["MULTI", "XADD a 1-1 f 1", "XADD a 2-1 f 2",
                          "EXEC"])
        self.served_raw_equal(pair)
        self.both_script(["XPENDING a g", "XPENDING a g - + 10"])

    def test_one_waiter_per_new_entry(self):
        self.both("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        first = self.block_both("XREADGROUP", "GROUP", "g", "c1", "BLOCK",
                                "0", "STREAMS", "s", ">")
        second = self.block_both("XREADGROUP", "GROUP", "g", "c2", "BLOCK",
                                 "0", "STREAMS", "s", ">", blocked_before=1)
        plain = self.block_both("XREAD", "BLOCK", "0", "STREAMS", "s", "$",
                                blocked_before=2)
        self.both("XADD", "s", "1-1", "f", "v")
        self.served_raw_equal(first)
        self.served_raw_equal(plain)
        self.wait_blocked_both(1)  # c2: the group has nothing new for it
        self.both("XADD", "s", "2-1", "f", "w")
        self.served_raw_equal(second)
        self.wait_blocked_both(0)
        self.both_script(["XPENDING s g", "XPENDING s g - + 10",
                          "XINFO GROUPS s"])

    def test_history_ids_and_missing_groups_never_block(self):
        self.both_script([
            "XGROUP CREATE s g $ MKSTREAM",
            "XREADGROUP GROUP g c BLOCK 0 STREAMS s 0",
            "XREADGROUP GROUP g c BLOCK 0 STREAMS s 0-0",
            "XREADGROUP GROUP nog c BLOCK 0 STREAMS s >",
            "XREADGROUP GROUP g c BLOCK 0 STREAMS nokey >",
            "SET str x", "XREADGROUP GROUP g c BLOCK 0 STREAMS str >",
            "XADD s 1-1 f v", "XREADGROUP GROUP g c BLOCK 0 STREAMS s >",
            "XREADGROUP GROUP g c BLOCK 0 STREAMS s 0",
        ])

    def test_timeout_replies_null(self):
        self.both("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        self.assertIsNone(self.both("XREADGROUP", "GROUP", "g", "c", "BLOCK",
                                    "50", "STREAMS", "s", ">"))
        self.assertEqual(self.both_raw("XREADGROUP", "GROUP", "g", "c",
                                       "BLOCK", "50", "STREAMS", "s", ">"),
                         b"*-1\r\n")
        self.both_script(["XINFO CONSUMERS s g", "XPENDING s g"])
        self.hello3()
        self.assertEqual(self.both_raw("XREADGROUP", "GROUP", "g", "c",
                                       "BLOCK", "50", "STREAMS", "s", ">"),
                         b"_\r\n")
        pair = self.block_both("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0",
                               "STREAMS", "s", ">", resp3=True)
        self.both("XADD", "s", "5-5", "a", "b")
        self.assertEqual(self.served_raw_equal(pair),
                         b"%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n5-5\r\n"
                         b"*2\r\n$1\r\na\r\n$1\r\nb\r\n")

    def test_woken_with_an_error(self):
        for action in (["DEL", "s"], ["SET", "s", "x"],
                       ["RENAME", "s", "t"], ["XGROUP", "DESTROY", "s", "g"],
                       ["FLUSHALL"]):
            self.both("DEL", "s", "t")
            self.both("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
            pair = self.block_both("XREADGROUP", "GROUP", "g", "c", "BLOCK",
                                   "0", "STREAMS", "s", ">")
            self.both(*action)
            reply = self.served_raw_equal(pair)
            self.assertTrue(reply.startswith(b"-"), (action, reply))
            self.wait_blocked_both(0)
        # emptied by XTRIM, or re-created: still waiting
        self.both("DEL", "s")
        self.both("XADD", "s", "1-1", "f", "v")
        self.both("XGROUP", "CREATE", "s", "g", "$")
        pair = self.block_both("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0",
                               "STREAMS", "s", ">")
        self.both("XTRIM", "s", "MAXLEN", "0")
        self.both("XGROUP", "SETID", "s", "g", "0")
        time.sleep(0.05)
        self.wait_blocked_both(1)
        self.both("XADD", "s", "2-1", "f", "w")
        self.served_raw_equal(pair)
        self.both_script(["XPENDING s g - + 10", "XINFO GROUPS s"])


if __name__ == "__main__":
    unittest.main()
