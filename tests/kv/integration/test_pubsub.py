"""Pub/sub: SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE and their UNSUBSCRIBE forms,
PUBLISH / SPUBLISH, PUBSUB introspection, RESP2 subscribed mode and RESP3
pushes, python3-redis's PubSub, delivery across connections (and so across
daxkv's I/O threads) and per-publisher ordering. Output limits, timeouts
and CLIENT KILL TYPE: test_pubsub_limits.py."""

import threading
import time

from harness import Push, RespError, ServerTestCase

RESTRICTED = ("ERR Can't execute '%s': only (P|S)SUBSCRIBE / "
              "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
              "context")


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class SubscribeTest(ServerTestCase):
    def test_confirmations_and_counts(self):
        c = self.c
        self.assertEqual(c.cmd("UNSUBSCRIBE"), [b"unsubscribe", None, 0])
        self.assertEqual(c.cmd("PUNSUBSCRIBE"), [b"punsubscribe", None, 0])
        self.assertEqual(c.cmd("SUNSUBSCRIBE"), [b"sunsubscribe", None, 0])
        self.assertEqual(c.cmd("SUBSCRIBE", "x", "y", "x"),
                         [b"subscribe", b"x", 1])
        self.assertEqual(c.read(), [b"subscribe", b"y", 2])
        self.assertEqual(c.read(), [b"subscribe", b"x", 2])
        # Patterns count with channels; shard channels apart.
        self.assertEqual(c.cmd("PSUBSCRIBE", "p*"), [b"psubscribe", b"p*", 3])
        self.assertEqual(c.cmd("SSUBSCRIBE", "s1", "s2"),
                         [b"ssubscribe", b"s1", 1])
        self.assertEqual(c.read(), [b"ssubscribe", b"s2", 2])
        self.assertEqual(c.cmd("SUNSUBSCRIBE", "s1"),
                         [b"sunsubscribe", b"s1", 1])
        self.assertEqual(c.cmd("UNSUBSCRIBE", "never"),
                         [b"unsubscribe", b"never", 3])
        self.assertEqual(c.cmd("SUNSUBSCRIBE"), [b"sunsubscribe", b"s2", 0])
        self.assertEqual(c.cmd("SUNSUBSCRIBE"), [b"sunsubscribe", None, 0])
        # Unsubscribing from everything counts down, one reply per name.
        c.send("UNSUBSCRIBE")
        replies = [c.read(), c.read()]
        self.assertEqual(sorted(r[1] for r in replies), [b"x", b"y"])
        self.assertEqual([r[0] for r in replies], [b"unsubscribe"] * 2)
        self.assertEqual([r[2] for r in replies], [2, 1])
        self.assertEqual(c.cmd("PUNSUBSCRIBE"), [b"punsubscribe", b"p*", 0])
        # Out of subscribed mode: every command works again.
        self.assertIsNone(c.cmd("GET", "k"))

    def test_subscribed_mode_allows_only_pubsub_commands(self):
        c = self.c
        c.cmd("SUBSCRIBE", "ch")
        self.assertErr(c.cmd("GET", "k"), RESTRICTED % "get")
        self.assertErr(c.cmd("CLIENT", "LIST"), RESTRICTED % "client|list")
        self.assertErr(c.cmd("PUBLISH", "ch", "m"), RESTRICTED % "publish")
        self.assertErr(c.cmd("HELLO", "3"), RESTRICTED % "hello")
        self.assertEqual(c.cmd("PING"), [b"pong", b""])
        self.assertEqual(c.cmd("PING", "hi"), [b"pong", b"hi"])
        self.assertErr(c.cmd("PING", "a", "b"),
                       "ERR wrong number of arguments for 'ping' command")
        # Unknown commands and arity errors come first, as in Redis.
        self.assertErrPrefix(c.cmd("NOSUCH"), "ERR unknown command 'NOSUCH'")
        self.assertErr(c.cmd("GET"),
                       "ERR wrong number of arguments for 'get' command")
        self.assertEqual(c.cmd("RESET"), "RESET")
        self.assertIsNone(c.cmd("GET", "k"))
        c.cmd("PSUBSCRIBE", "a*")
        self.assertErr(c.cmd("SET", "k", "v"), RESTRICTED % "set")
        self.assertEqual(c.cmd("QUIT"), "OK")

    def test_shard_subscription_alone_restricts_too(self):
        c = self.c
        c.cmd("SSUBSCRIBE", "s")
        self.assertErr(c.cmd("GET", "k"), RESTRICTED % "get")
        self.assertEqual(c.cmd("SUNSUBSCRIBE", "s"),
                         [b"sunsubscribe", b"s", 0])
        self.assertIsNone(c.cmd("GET", "k"))

    def test_subscribe_in_multi(self):
        c = self.c
        self.assertEqual(c.cmd("MULTI"), "OK")
        self.assertEqual(c.cmd("SUBSCRIBE", "q"), "QUEUED")
        self.assertEqual(c.cmd("PSUBSCRIBE", "q*"), "QUEUED")
        self.assertEqual(c.cmd("EXEC"), [[b"subscribe", b"q", 1],
                                         [b"psubscribe", b"q*", 2]])
        self.assertErr(c.cmd("GET", "x"), RESTRICTED % "get")
        self.assertEqual(c.cmd("RESET"), "RESET")
        self.assertEqual(c.cmd("MULTI"), "OK")
        self.assertEqual(c.cmd("SSUBSCRIBE", "q"), "QUEUED")
        self.assertEqual(
            c.cmd("EXEC"),
            [RespError("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING "
                       "client")])

    def test_arity_errors(self):
        c = self.c
        for cmd in ("SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "PUBSUB"):
            self.assertErr(c.cmd(cmd), "ERR wrong number of arguments for "
                           "'%s' command" % cmd.lower())
        for cmd in ("PUBLISH", "SPUBLISH"):
            self.assertErr(c.cmd(cmd, "ch"), "ERR wrong number of arguments "
                           "for '%s' command" % cmd.lower())

    def test_reset_unsubscribes(self):
        c = self.c
        c.cmd("SUBSCRIBE", "a")
        c.cmd("PSUBSCRIBE", "*")
        c.cmd("SSUBSCRIBE", "s")
        self.assertEqual(c.cmd("RESET"), "RESET")
        with self.server.client() as p:
            self.assertEqual(p.cmd("PUBLISH", "a", "m"), 0)
            self.assertEqual(p.cmd("SPUBLISH", "s", "m"), 0)
            self.assertEqual(p.cmd("PUBSUB", "NUMPAT"), 0)

    def test_close_unsubscribes(self):
        sub = self.server.client()
        sub.cmd("SUBSCRIBE", "gone")
        sub.cmd("PSUBSCRIBE", "gone*")
        self.assertEqual(self.c.cmd("PUBSUB", "NUMSUB", "gone"), [b"gone", 1])
        sub.close()
        self.assertTrue(wait_until(
            lambda: self.c.cmd("PUBSUB", "NUMSUB", "gone") == [b"gone", 0]
            and self.c.cmd("PUBSUB", "NUMPAT") == 0))
        self.assertEqual(self.c.cmd("PUBLISH", "gone", "m"), 0)


class PublishTest(ServerTestCase):
    def test_message_frames_and_receivers(self):
        sub = self.server.client()
        self.addCleanup(sub.close)
        sub.cmd("SUBSCRIBE", "news")
        sub.cmd("PSUBSCRIBE", "n*")
        sub.cmd("PSUBSCRIBE", "*s")
        sub.cmd("SSUBSCRIBE", "news")
        c = self.c
        # One delivery per channel subscription and per matching pattern.
        self.assertEqual(c.cmd("PUBLISH", "news", "hello"), 3)
        self.assertEqual(sub.read(), [b"message", b"news", b"hello"])
        got = sorted([sub.read(), sub.read()])
        self.assertEqual(got, [[b"pmessage", b"*s", b"news", b"hello"],
                               [b"pmessage", b"n*", b"news", b"hello"]])
        self.assertEqual(c.cmd("SPUBLISH", "news", b"bin\x00\r\n"), 1)
        self.assertEqual(sub.read(), [b"smessage", b"news", b"bin\x00\r\n"])
        self.assertEqual(c.cmd("PUBLISH", "nope", ""), 1)
        self.assertEqual(sub.read(), [b"pmessage", b"n*", b"nope", b""])
        self.assertEqual(c.cmd("PUBLISH", "zzz", "x"), 0)
        self.assertEqual(c.cmd("SPUBLISH", "other", "x"), 0)
        # Glob classes and escapes, as Redis matches them.
        sub.cmd("PSUBSCRIBE", "h[ae]llo", "h\\*")
        sub.read()
        self.assertEqual(c.cmd("PUBLISH", "hallo", "1"), 1)
        self.assertEqual(sub.read(), [b"pmessage", b"h[ae]llo", b"hallo",
                                      b"1"])
        self.assertEqual(c.cmd("PUBLISH", "h*", "2"), 1)
        self.assertEqual(sub.read(), [b"pmessage", b"h\\*", b"h*", b"2"])
        self.assertEqual(c.cmd("PUBLISH", "hx", "3"), 0)
        # The subscriber still answers PING in order after its messages.
        self.assertEqual(sub.cmd("PING"), [b"pong", b""])

    def test_resp3_pushes(self):
        c = self.c
        self.assertEqual(c.cmd("HELLO", "3")["proto"], 3)
        r = c.cmd("SUBSCRIBE", "r")
        self.assertIsInstance(r, Push)
        self.assertEqual(r, [b"subscribe", b"r", 1])
        # RESP3 subscribers may run any command; their own message comes
        # before PUBLISH's reply.
        self.assertIsNone(c.cmd("GET", "k"))
        self.assertEqual(c.cmd("PING"), "PONG")
        c.send("PUBLISH", "r", "self")
        msg = c.read()
        self.assertIsInstance(msg, Push)
        self.assertEqual(msg, [b"message", b"r", b"self"])
        self.assertEqual(c.read(), 1)
        self.assertEqual(c.cmd("UNSUBSCRIBE"), [b"unsubscribe", b"r", 0])
        self.assertEqual(c.cmd("UNSUBSCRIBE"), [b"unsubscribe", None, 0])
        with self.server.client() as p:
            c.cmd("PSUBSCRIBE", "r*")
            self.assertEqual(p.cmd("PUBLISH", "r1", "m"), 1)
            got = c.read()
            self.assertIsInstance(got, Push)
            self.assertEqual(got, [b"pmessage", b"r*", b"r1", b"m"])

    def test_introspection(self):
        subs = [self.server.client() for _ in range(3)]
        for s in subs:
            self.addCleanup(s.close)
        subs[0].cmd("SUBSCRIBE", "a", "b")
        subs[0].read()
        subs[1].cmd("SUBSCRIBE", "a")
        subs[1].cmd("PSUBSCRIBE", "x*", "y*")
        subs[1].read()
        subs[2].cmd("PSUBSCRIBE", "x*")
        subs[2].cmd("SSUBSCRIBE", "s1", "s2")
        subs[2].read()
        c = self.c
        self.assertEqual(sorted(c.cmd("PUBSUB", "CHANNELS")), [b"a", b"b"])
        self.assertEqual(c.cmd("PUBSUB", "CHANNELS", "a*"), [b"a"])
        self.assertEqual(c.cmd("PUBSUB", "channels", "z*"), [])
        self.assertEqual(c.cmd("PUBSUB", "NUMSUB", "a", "b", "q"),
                         [b"a", 2, b"b", 1, b"q", 0])
        self.assertEqual(c.cmd("PUBSUB", "NUMSUB"), [])
        self.assertEqual(c.cmd("PUBSUB", "NUMPAT"), 2)
        self.assertEqual(sorted(c.cmd("PUBSUB", "SHARDCHANNELS")),
                         [b"s1", b"s2"])
        self.assertEqual(c.cmd("PUBSUB", "SHARDCHANNELS", "*2"), [b"s2"])
        self.assertEqual(c.cmd("PUBSUB", "SHARDNUMSUB", "s1", "a"),
                         [b"s1", 1, b"a", 0])
        self.assertEqual(c.cmd("PUBSUB", "SHARDNUMSUB"), [])
        stats = c.cmd("INFO", "stats").decode()
        self.assertIn("pubsub_channels:2\r\n", stats)
        self.assertIn("pubsub_patterns:2\r\n", stats)
        self.assertIn("pubsubshard_channels:2\r\n", stats)
        # CLIENT LIST shows the counts and flag P; TYPE pubsub selects them.
        listing = c.cmd("CLIENT", "LIST").decode().splitlines()
        flags = sorted(
            " ".join(f for f in line.split() if f.split("=")[0] in
                     ("flags", "sub", "psub", "ssub")) for line in listing)
        self.assertEqual(flags, [
            "flags=N sub=0 psub=0 ssub=0",
            "flags=P sub=0 psub=1 ssub=2",
            "flags=P sub=1 psub=2 ssub=0",
            "flags=P sub=2 psub=0 ssub=0"])
        pubsub = c.cmd("CLIENT", "LIST", "TYPE", "pubsub").decode()
        self.assertEqual(len(pubsub.splitlines()), 3)
        normal = c.cmd("CLIENT", "LIST", "TYPE", "normal").decode()
        self.assertEqual(len(normal.splitlines()), 1)

    def test_pubsub_subcommand_errors(self):
        c = self.c
        self.assertErr(c.cmd("PUBSUB", "CHANNELS", "a", "b"),
                       "ERR unknown subcommand or wrong number of arguments "
                       "for 'CHANNELS'. Try PUBSUB HELP.")
        self.assertErr(c.cmd("PUBSUB", "shardchannels", "a", "b"),
                       "ERR unknown subcommand or wrong number of arguments "
                       "for 'shardchannels'. Try PUBSUB HELP.")
        self.assertErr(c.cmd("PUBSUB", "NUMPAT", "x"),
                       "ERR wrong number of arguments for 'pubsub|numpat' "
                       "command")
        self.assertErr(c.cmd("PUBSUB", "HELP", "x"),
                       "ERR wrong number of arguments for 'pubsub|help' "
                       "command")
        self.assertErr(c.cmd("PUBSUB", "FOO"),
                       "ERR unknown subcommand 'FOO'. Try PUBSUB HELP.")
        help_lines = c.cmd("PUBSUB", "HELP")
        self.assertEqual(help_lines[0], "PUBSUB <subcommand> [<arg> [value] "
                         "[opt] ...]. Subcommands are:")
        self.assertEqual(len(help_lines), 14)


class ClientLibraryTest(ServerTestCase):
    """python3-redis's PubSub object, as applications (and RQ, Celery) use
    it."""

    def test_redis_py_pubsub(self):
        r = self.server.redis()
        p = r.pubsub()
        self.addCleanup(p.close)
        p.subscribe("jobs")
        p.psubscribe("events.*")
        confirmations = [p.get_message(timeout=5) for _ in range(2)]
        self.assertEqual([m["type"] for m in confirmations],
                         ["subscribe", "psubscribe"])
        self.assertEqual(r.publish("jobs", "j1"), 1)
        self.assertEqual(r.publish("events.start", "e1"), 1)
        self.assertEqual(p.get_message(timeout=5),
                         {"type": "message", "pattern": None,
                          "channel": b"jobs", "data": b"j1"})
        self.assertEqual(p.get_message(timeout=5),
                         {"type": "pmessage", "pattern": b"events.*",
                          "channel": b"events.start", "data": b"e1"})
        self.assertEqual(r.pubsub_numsub("jobs"), [(b"jobs", 1)])
        self.assertEqual(r.pubsub_numpat(), 1)
        p.unsubscribe()
        p.punsubscribe()
        kinds = sorted(p.get_message(timeout=5)["type"] for _ in range(2))
        self.assertEqual(kinds, ["punsubscribe", "unsubscribe"])
        self.assertEqual(r.publish("jobs", "j2"), 0)

    def test_redis_py_listener_thread(self):
        r = self.server.redis()
        got = []
        done = threading.Event()

        def handler(message):
            got.append(message["data"])
            if len(got) == 100:
                done.set()

        p = r.pubsub()
        p.subscribe(**{"__sentinel__:hello": handler})
        worker = p.run_in_thread(sleep_time=0.01)
        try:
            self.assertTrue(wait_until(
                lambda: r.pubsub_numsub("__sentinel__:hello")[0][1] == 1))
            for i in range(100):
                r.publish("__sentinel__:hello", "hello %d" % i)
            self.assertTrue(done.wait(20))
        finally:
            worker.stop()
            worker.join(10)
            p.close()
        self.assertEqual(got, [b"hello %d" % i for i in range(100)])


class DeliveryTest(ServerTestCase):
    """Publishers and subscribers on many connections: with daxkv's two I/O
    threads, some pairs are on different threads."""

    def test_every_subscriber_gets_every_message_in_order(self):
        n_subs, n_msgs = 8, 1500
        subs = [self.server.client() for _ in range(n_subs)]
        for s in subs:
            self.addCleanup(s.close)
            self.assertEqual(s.cmd("SUBSCRIBE", "fan"),
                             [b"subscribe", b"fan", 1])
        with self.server.client() as p:
            replies = p.pipeline([("PUBLISH", "fan", "m%d" % i)
                                  for i in range(n_msgs)])
        self.assertEqual(replies, [n_subs] * n_msgs)
        for s in subs:
            got = [s.read() for _ in range(n_msgs)]
            self.assertEqual(got, [[b"message", b"fan", b"m%d" % i]
                                   for i in range(n_msgs)])

    def test_order_per_publisher_with_concurrent_publishers(self):
        n_pubs, n_msgs = 4, 800
        sub = self.server.client()
        self.addCleanup(sub.close)
        sub.cmd("PSUBSCRIBE", "ord.*")
        errors = []

        def publish(i):
            try:
                with self.server.client() as p:
                    for chunk in range(0, n_msgs, 100):
                        r = p.pipeline([("PUBLISH", "ord.%d" % i,
                                         "%d" % k) for k in
                                        range(chunk, chunk + 100)])
                        assert r == [1] * 100, r[:3]
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=publish, args=(i,))
                   for i in range(n_pubs)]
        for t in threads:
            t.start()
        seen = {i: [] for i in range(n_pubs)}
        for _ in range(n_pubs * n_msgs):
            kind, pattern, channel, payload = sub.read()
            seen[int(channel.split(b".")[1])].append(int(payload))
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        for i in range(n_pubs):
            self.assertEqual(seen[i], list(range(n_msgs)), "publisher %d" % i)

    def test_subscribe_reply_precedes_messages(self):
        # A publisher that starts as soon as the confirmation arrives: the
        # subscriber reads its confirmation, then only messages.
        sub = self.server.client()
        self.addCleanup(sub.close)
        with self.server.client() as p:
            for round_no in range(50):
                ch = "race%d" % round_no
                sub.send("SUBSCRIBE", ch)
                # Published until it reaches the subscriber.
                while p.cmd("PUBLISH", ch, "x") == 0:
                    pass
                self.assertEqual(sub.read(), [b"subscribe", ch.encode(), 1])
                self.assertEqual(sub.read(), [b"message", ch.encode(), b"x"])
                sub.send("UNSUBSCRIBE", ch)
                p.cmd("PUBLISH", ch, "y")
                r = sub.read()
                while r[0] == b"message":
                    r = sub.read()
                self.assertEqual(r, [b"unsubscribe", ch.encode(), 0])
                self.assertEqual(sub.cmd("PING"), "PONG")


if __name__ == "__main__":
    import unittest
    unittest.main()
