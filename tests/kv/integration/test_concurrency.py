"""Many connections at once: atomic INCR and MSET across I/O threads, WATCH
against concurrent writers, and a slow reader that must not stall others."""

import threading
import time
import unittest

from harness import ServerTestCase, encode_command


class ConcurrencyTest(ServerTestCase):
    def run_threads(self, target, n):
        errors = []

        def wrap(i):
            try:
                target(i)
            except Exception as e:  # reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])

    def test_concurrent_incr_is_exact(self):
        per_client, clients = 2000, 8

        def work(i):
            with self.server.client() as c:
                replies = c.pipeline([("INCR", "ctr")] * per_client)
                assert all(isinstance(r, int) for r in replies), replies[:3]

        self.run_threads(work, clients)
        self.assertEqual(self.c.cmd("GET", "ctr"),
                         str(per_client * clients).encode())

    def test_mset_is_atomic_for_readers(self):
        stop = threading.Event()
        torn = []

        def writer(i):
            with self.server.client() as c:
                for n in range(1500):
                    c.cmd("MSET", "a", n, "b", n, "c", n)
            stop.set()

        def reader(i):
            with self.server.client() as c:
                while not stop.is_set():
                    a, b, cc = c.cmd("MGET", "a", "b", "c")
                    if not (a == b == cc):
                        torn.append((a, b, cc))

        self.run_threads(lambda i: writer(i) if i == 0 else reader(i), 3)
        self.assertEqual(torn, [])

    def test_rename_is_atomic_for_readers(self):
        """RENAME a b / RENAME b a while others read EXISTS a b: Redis
        always answers 1 (never neither key, never both). Runs 3 s, with
        three readers so that one shares no I/O thread with the renamer."""
        self.c.cmd("SET", "a", "v")
        stop = threading.Event()
        torn = []

        def renamer():
            with self.server.client() as c:
                deadline = time.monotonic() + 3.0
                while time.monotonic() < deadline and not torn:
                    replies = c.pipeline([("RENAME", "a", "b"),
                                          ("RENAME", "b", "a")] * 50)
                    assert all(r == "OK" for r in replies), replies[:3]
            stop.set()

        def reader():
            with self.server.client() as c:
                while not stop.is_set():
                    for r in c.pipeline([("EXISTS", "a", "b")] * 100):
                        if r != 1:
                            torn.append(r)

        self.run_threads(lambda i: renamer() if i == 0 else reader(), 4)
        self.assertEqual(torn[:5], [])

    def test_watch_retry_loop_counts_exactly(self):
        rounds, clients = 150, 4

        def work(i):
            with self.server.client() as c:
                done, attempts = 0, 0
                while done < rounds and attempts < rounds * 50:
                    attempts += 1
                    c.cmd("WATCH", "w")
                    v = int(c.cmd("GET", "w") or 0)
                    c.cmd("MULTI")
                    c.cmd("SET", "w", v + 1)
                    if c.cmd("EXEC") is not None:
                        done += 1
                assert done == rounds, (done, attempts)

        self.run_threads(work, clients)
        self.assertEqual(self.c.cmd("GET", "w"),
                         str(rounds * clients).encode())

    def test_slow_reader_does_not_stall_others(self):
        value = b"v" * (100 * 1024)
        self.c.cmd("SET", "big", value)
        slow = self.server.client()
        try:
            slow.send_raw(encode_command(["GET", "big"]) * 500)  # ~50 MB
            time.sleep(0.3)
            t0 = time.monotonic()
            with self.server.client() as fast:
                for i in range(100):
                    self.assertEqual(fast.cmd("SET", "f%d" % i, i), "OK")
            self.assertLess(time.monotonic() - t0, 5.0)
            for _ in range(500):
                self.assertEqual(slow.read(), value)
        finally:
            slow.close()


if __name__ == "__main__":
    unittest.main()
