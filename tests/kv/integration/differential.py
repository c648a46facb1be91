"""Side-by-side runs: the suite's server next to a reference redis-server.

PeerTestCase starts one extra Debian redis-server per test class (next to
the server under test, whichever --target is) and compares replies byte for
byte: `both(*cmd)` sends a command to both and asserts identical replies.
With --target redis the two are the same program, which still checks that
the command lists run. Without a redis-server binary the class is skipped,
with the reason.
"""

import shutil
import time
import unittest

from harness import ServerProcess, ServerTestCase


PAIR_REPLIES = {"HGETALL"}


def normalize_unordered(reply, cmd):
    if isinstance(reply, set):
        return sorted(reply, key=repr)
    if not isinstance(reply, list):
        return reply
    if str(cmd[0]).upper() in PAIR_REPLIES:
        return sorted(zip(reply[::2], reply[1::2]))
    return sorted(reply, key=repr)


class PeerTestCase(ServerTestCase):
    peer = None
    # More redis-server flags for the reference (a subclass's setting).
    peer_args = []

    @classmethod
    def setUpClass(cls):
        binary = shutil.which("redis-server")
        if not binary:
            raise unittest.SkipTest("no redis-server to compare with")
        super().setUpClass()
        try:
            cls.peer = ServerProcess(target="redis", server=binary,
                                     pool_kind="file",
                                     extra_args=cls.peer_args
                                     ).start_or_cleanup()
        except Exception:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.peer is not None:
            cls.peer.cleanup()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.ref = self.peer.client()
        self.addCleanup(self.ref.close)
        self.assertEqual(self.ref.cmd("FLUSHALL"), "OK")

    def both(self, *cmd):
        """Runs cmd on both servers; the replies must be identical."""
        mine, ref = self.c.cmd(*cmd), self.ref.cmd(*cmd)
        self.assertEqual(mine, ref, "reply to %r" % (cmd,))
        return mine

    def both_unordered(self, *cmd):
        """Like both() for a reply whose order Redis leaves unspecified
        (HKEYS, SMEMBERS, ...): compared as sorted lists; a flat
        field/value reply (HGETALL in RESP2) is compared as pairs."""
        mine, ref = self.c.cmd(*cmd), self.ref.cmd(*cmd)
        self.assertEqual(normalize_unordered(mine, cmd),
                         normalize_unordered(ref, cmd), "reply to %r" % (cmd,))
        return mine

    def both_script(self, lines):
        """Runs space-separated command lines through both()."""
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#"):
                self.both(*line.split(" "))

    def block_on_both(self, *cmd):
        """cmd blocks on a new connection to each server (nobody else may
        be blocked); returns the two connections, target's first."""
        pair = []
        for server in (self.server, self.peer):
            o = server.client(timeout=20.0)
            self.addCleanup(o.close)
            o.send(*cmd)
            pair.append(o)
        for conn in (self.c, self.ref):
            deadline = time.monotonic() + 10
            while b"blocked_clients:1\r" not in conn.cmd("INFO", "clients"):
                self.assertLess(time.monotonic(), deadline, "never blocked")
                time.sleep(0.01)
        return pair

    def served_equal(self, pair):
        """The next reply on both connections of block_on_both: equal."""
        mine, ref = pair[0].read(), pair[1].read()
        self.assertEqual(mine, ref)
        return mine
