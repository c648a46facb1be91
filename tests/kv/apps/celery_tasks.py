"""The Celery application the Celery test runs: broker and result backend
are the server under test (CELERY_TEST_URL), so every message, ack,
retry and result goes through it."""

import os

from celery import Celery

URL = os.environ.get("CELERY_TEST_URL", "redis://127.0.0.1:6379/0")
app = Celery("celery_tasks", broker=URL, backend=URL)
app.conf.update(
    task_acks_late=True,  # acked after the run: kombu's unacked hash + zset
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    result_expires=3600,
    broker_transport_options={"visibility_timeout": 3600},
)


@app.task
def add(a, b):
    return a + b


@app.task
def fail(message):
    raise ValueError(message)


@app.task(bind=True, max_retries=3)
def flaky(self, counter_key, succeed_on):
    """Fails (and is retried by Celery) until its `succeed_on`-th run; the
    run count lives in the server, so it survives the worker's processes."""
    import redis
    attempt = redis.Redis.from_url(URL).incr(counter_key)
    if attempt < succeed_on:
        raise self.retry(countdown=0.2, exc=RuntimeError("attempt %d" % attempt))
    return attempt


@app.task
def total(values):
    return sum(values)
