#!/usr/bin/env python3
"""A real application on daxkv-server: Celery (Debian's python3-celery,
with kombu's Redis transport) using the server as broker and as result
backend.

  celery_app_test.py --target redis|daxkv --server PATH [--pool-kind shm|file]

A real `celery worker` (prefork pool, 2 processes) consumes through the
server: kombu's BRPOP-based consumer, MULTI/EXEC pipelines keeping unacked
messages in a hash and a sorted set (acks_late), pub/sub for results and
for the worker's control channel, and Redis-backed results. Checked:
results, a failing task's exception, retries with countdown, a group and
a chord (the chord counter is an INCR in the backend), ETA tasks, and on
daxkv that the results survive a kill -9 of the server. With --target redis
the same test runs on Debian's redis-server (the reference).
"""

import os
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import app_main  # noqa: E402
from app_main import SKIP  # noqa: E402

try:
    import celery  # noqa: F401
    import redis
except ImportError as e:
    print("SKIP: %s (install python3-celery and python3-redis)" % e)
    sys.exit(SKIP)

ARGS = None
TIMEOUT = 120


class CeleryAppTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from harness import ServerProcess
        cls.server = ServerProcess(target=ARGS.target, server=ARGS.server,
                                   pool_kind=ARGS.pool_kind).start()
        cls.url = "redis://127.0.0.1:%d/0" % cls.server.port
        os.environ["CELERY_TEST_URL"] = cls.url
        sys.path.insert(0, HERE)
        import celery_tasks
        cls.tasks = celery_tasks
        env = dict(os.environ, PYTHONPATH=HERE)
        cls.worker_log = open(os.path.join(cls.server.dir, "worker.log"), "w")
        cls.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "celery_tasks", "worker",
             "--pool=prefork", "--concurrency=2", "--loglevel=INFO",
             "--without-mingle", "--without-gossip", "-n", "w1@%h"],
            env=env, cwd=HERE, stdout=cls.worker_log,
            stderr=subprocess.STDOUT)
        ping_deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < ping_deadline:
            if cls.tasks.app.control.ping(timeout=1.0):
                return
            if cls.worker.poll() is not None:
                break
        cls.tearDownClass()
        raise RuntimeError("the celery worker did not answer a ping:\n"
                           + cls.log_tail())

    @classmethod
    def log_tail(cls):
        with open(cls.worker_log.name) as f:
            return "".join(f.readlines()[-40:])

    @classmethod
    def tearDownClass(cls):
        if cls.worker.poll() is None:
            cls.worker.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                cls.worker.wait(60)
            except subprocess.TimeoutExpired:
                cls.worker.kill()
                cls.worker.wait()
        cls.worker_log.close()
        cls.server.stop()
        cls.server.cleanup()

    def test_results(self):
        results = [self.tasks.add.delay(i, i) for i in range(20)]
        self.assertEqual([r.get(timeout=TIMEOUT) for r in results],
                         [2 * i for i in range(20)])
        self.assertTrue(all(r.successful() for r in results))

    def test_failure_is_reported(self):
        r = self.tasks.fail.delay("boom")
        with self.assertRaises(ValueError) as cm:
            r.get(timeout=TIMEOUT)
        self.assertIn("boom", str(cm.exception))
        self.assertEqual(r.state, "FAILURE")

    def test_retries(self):
        key = "celery-test-attempts"
        redis.Redis.from_url(self.url).delete(key)
        r = self.tasks.flaky.delay(key, 3)
        self.assertEqual(r.get(timeout=TIMEOUT), 3)
        self.assertEqual(int(redis.Redis.from_url(self.url).get(key)), 3)

    def test_group_and_chord(self):
        from celery import chord, group
        g = group(self.tasks.add.s(i, 1) for i in range(8))()
        self.assertEqual(g.get(timeout=TIMEOUT), [i + 1 for i in range(8)])
        c = chord((self.tasks.add.s(i, i) for i in range(6)),
                  self.tasks.total.s())()
        self.assertEqual(c.get(timeout=TIMEOUT), sum(2 * i for i in range(6)))

    def test_eta(self):
        start = time.monotonic()
        r = self.tasks.add.apply_async((40, 2), countdown=1.5)
        self.assertEqual(r.get(timeout=TIMEOUT), 42)
        self.assertGreaterEqual(time.monotonic() - start, 1.4)

    def test_zz_results_survive_kill9_of_the_server(self):
        if ARGS.target != "daxkv":
            self.skipTest("redis-server without AOF loses them, by design")
        results = [self.tasks.add.delay(i, 100) for i in range(5)]
        values = [r.get(timeout=TIMEOUT) for r in results]
        self.server.kill9()
        self.server.start()
        for r, v in zip(results, values):
            fresh = self.tasks.app.AsyncResult(r.id)
            self.assertEqual(fresh.state, "SUCCESS")
            self.assertEqual(fresh.get(timeout=TIMEOUT), v)
        # The worker reconnects and goes on serving.
        self.assertEqual(self.tasks.add.delay(1, 2).get(timeout=TIMEOUT), 3)


def main():
    global ARGS
    ARGS, rest = app_main.parse_args()
    if ARGS.server is None:
        return SKIP
    print("celery %s, redis-py %s" % (celery.__version__, redis.__version__))
    return app_main.run_tests(ARGS, rest)


if __name__ == "__main__":
    # os._exit: Celery's result objects would otherwise try to reach the
    # stopped server again from their finalizers at interpreter exit.
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
