#!/usr/bin/env python3
"""A real application on daxkv-server: RQ (Debian's python3-rq) job queues.

  rq_app_test.py --target redis|daxkv --server PATH [--pool-kind shm|file]

Jobs are enqueued with RQ's own API and run by RQ's own worker processes
(`rq worker`, which forks a work horse per job), through the server under
test: MULTI/EXEC pipelines over hashes, lists and sorted sets, RQ's Lua
dequeue script, BLPOP in a long-running worker. Checked: results, failures
and their registries, retries, dependencies, FIFO order, and (daxkv) that
everything a worker was told is kept across a kill -9 of the server.
With --target redis the same test runs on Debian's redis-server, which
proves the expectations are RQ's, not daxkv's.
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
    import redis
    import rq
    from rq import Queue, Retry
    from rq.job import Job
    from rq.registry import FailedJobRegistry, FinishedJobRegistry
except ImportError as e:  # the reason is printed; ctest counts a skip
    print("SKIP: %s (install python3-rq and python3-redis)" % e)
    sys.exit(SKIP)

import rq_jobs  # noqa: E402  (the worker imports it by the same name)

ARGS = None
RQ_CLI = "/usr/bin/rq"


class RqAppTest(unittest.TestCase):
    def setUp(self):
        from harness import ServerProcess
        self.server = ServerProcess(target=ARGS.target, server=ARGS.server,
                                    pool_kind=ARGS.pool_kind).start()
        self.redis = redis.Redis(port=self.server.port)
        self.queue = Queue("jobs", connection=self.redis)

    def tearDown(self):
        self.redis.close()
        self.server.stop()
        self.server.cleanup()

    def worker_command(self, *extra):
        return [RQ_CLI, "worker", "--url",
                "redis://127.0.0.1:%d" % self.server.port,
                "--disable-job-desc-logging"] + list(extra) + ["jobs"]

    def worker_env(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = HERE + os.pathsep + env.get("PYTHONPATH", "")
        return env

    def run_burst_worker(self):
        out = subprocess.run(self.worker_command("--burst"),
                             env=self.worker_env(), capture_output=True,
                             text=True, timeout=300)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_jobs_run_and_results_are_kept(self):
        jobs = [self.queue.enqueue(rq_jobs.add, i, i) for i in range(40)]
        self.assertEqual(self.queue.count, 40)
        self.run_burst_worker()
        self.assertEqual(self.queue.count, 0)
        for i, job in enumerate(jobs):
            job.refresh()
            self.assertEqual(job.get_status(), "finished")
            self.assertEqual(job.return_value(), 2 * i)
        finished = FinishedJobRegistry(queue=self.queue)
        self.assertEqual(sorted(finished.get_job_ids()),
                         sorted(j.id for j in jobs))

    def test_failures_and_retries(self):
        doomed = self.queue.enqueue(rq_jobs.fail_always, "no luck",
                                    retry=Retry(max=2))
        flaky = self.queue.enqueue(rq_jobs.fail_until_attempt, "attempts", 3,
                                   retry=Retry(max=3))
        self.run_burst_worker()
        doomed.refresh()
        flaky.refresh()
        self.assertEqual(doomed.get_status(), "failed")
        self.assertEqual(doomed.retries_left, 0)
        self.assertIn("ValueError: no luck", doomed.latest_result().exc_string)
        self.assertEqual(FailedJobRegistry(queue=self.queue).get_job_ids(),
                         [doomed.id])
        self.assertEqual(flaky.get_status(), "finished")
        self.assertEqual(flaky.return_value(), 3)
        self.assertEqual(int(self.redis.get("attempts")), 3)
        # Requeue from the failed registry (RQ's own recovery path): the job
        # fails again and lands back in the registry, retries exhausted.
        FailedJobRegistry(queue=self.queue).requeue(doomed.id)
        self.assertEqual(self.queue.job_ids, [doomed.id])
        self.run_burst_worker()
        self.assertEqual(Job.fetch(doomed.id, self.redis).get_status(),
                         "failed")

    def test_dependencies_and_order(self):
        first = self.queue.enqueue(rq_jobs.record, "order", "a")
        second = self.queue.enqueue(rq_jobs.record, "order", "b",
                                    depends_on=first)
        third = self.queue.enqueue(rq_jobs.record, "order", "c",
                                   depends_on=[first, second])
        self.assertEqual(second.get_status(), "deferred")
        self.assertEqual(third.get_status(), "deferred")
        self.run_burst_worker()
        self.assertEqual(self.redis.lrange("order", 0, -1), [b"a", b"b", b"c"])
        for job in (first, second, third):
            self.assertEqual(Job.fetch(job.id, self.redis).get_status(),
                             "finished")

    def test_long_running_worker_blocks_and_is_woken(self):
        # Without --burst the worker waits in BLPOP for new jobs.
        worker = subprocess.Popen(self.worker_command("--name", "w1"),
                                  env=self.worker_env(),
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        try:
            self.wait_for(lambda: len(rq.Worker.all(connection=self.redis))
                          == 1, "the worker registered")
            time.sleep(0.5)  # let it block in BLPOP on the empty queue
            jobs = [self.queue.enqueue(rq_jobs.add, i, 1) for i in range(5)]
            self.wait_for(lambda: all(
                Job.fetch(j.id, self.redis).get_status() == "finished"
                for j in jobs), "the jobs finished")
            self.assertEqual([Job.fetch(j.id, self.redis).return_value()
                              for j in jobs], [1, 2, 3, 4, 5])
        finally:
            worker.send_signal(signal.SIGTERM)  # RQ's warm shutdown
            output = worker.communicate(timeout=60)[0]
        self.assertEqual(worker.returncode, 0, output)
        self.assertEqual(rq.Worker.all(connection=self.redis), [])

    def test_state_survives_kill9_of_the_server(self):
        if ARGS.target != "daxkv":
            self.skipTest("redis-server without AOF loses it, by design")
        jobs = [self.queue.enqueue(rq_jobs.add, i, 10) for i in range(10)]
        doomed = self.queue.enqueue(rq_jobs.fail_always, "kept")
        self.run_burst_worker()
        pending = self.queue.enqueue(rq_jobs.add, 1, 1)
        self.redis.close()
        self.server.kill9()
        self.server.start()
        self.redis = redis.Redis(port=self.server.port)
        for i, job in enumerate(jobs):
            job = Job.fetch(job.id, self.redis)
            self.assertEqual(job.get_status(), "finished")
            self.assertEqual(job.return_value(), i + 10)
        self.assertEqual(FailedJobRegistry("jobs", self.redis).get_job_ids(),
                         [doomed.id])
        self.assertEqual(Queue("jobs", connection=self.redis).job_ids,
                         [pending.id])

    def wait_for(self, predicate, what, timeout=120.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        self.fail("timed out waiting until " + what)


def main():
    global ARGS
    ARGS, rest = app_main.parse_args()
    if ARGS.server is None:
        return SKIP
    if not os.access(RQ_CLI, os.X_OK):
        print("SKIP: no %s (install python3-rq)" % RQ_CLI)
        return SKIP
    print("rq %s, redis-py %s" % (rq.VERSION, redis.__version__))
    return app_main.run_tests(ARGS, rest)


if __name__ == "__main__":
    sys.exit(main())
