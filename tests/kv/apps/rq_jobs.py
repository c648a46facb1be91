"""Job functions the RQ application test enqueues; workers import them by
name (the test puts this directory on the workers' PYTHONPATH)."""

from rq import get_current_job


def add(a, b):
    return a + b


def fail_always(message):
    raise ValueError(message)


def fail_until_attempt(counter_key, succeed_on):
    """Fails until it is run for the `succeed_on`-th time (counted in the
    server, so the count survives the work horse's fork)."""
    attempt = get_current_job().connection.incr(counter_key)
    if attempt < succeed_on:
        raise RuntimeError("attempt %d of %d" % (attempt, succeed_on))
    return attempt


def record(key, value):
    """Appends to a list so the test can see the order jobs ran in."""
    get_current_job().connection.rpush(key, value)
    return value
