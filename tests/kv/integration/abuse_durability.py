"""Abuse cases about durability under pressure: a full pool under SET/DEL
churn (no DEL may fail: issue 11, finding 11) and INCR / MULTI-EXEC
conservation across SIGKILL and restart. Registered in
abuse_support.CASES."""

import random
import threading
import time

from abuse_support import case
from harness import ConnectionClosed, RespClient, RespError


# --- a full pool under SET/DEL churn -----------------------------------------

@case("full_pool_churn", "4 clients SET 64 KB values and DEL them on a full "
      "pool (daxkv 64M, Redis maxmemory 48mb noeviction) for 8 s: SETs may "
      "get OOM, no DEL may fail (#11 finding 11: needs the engine's "
      "tombstone reserve)")
class FullPoolChurn:
    SECONDS = 8

    @classmethod
    def run(cls, servers, target):
        srv = servers.start(target, pool_size="64M",
                            redis_args=["--maxmemory", "48mb",
                                        "--maxmemory-policy", "noeviction"],
                            daxkv_args=["--segment_size", "1M"])
        counts = {"set_ok": 0, "set_oom": 0, "set_other": 0, "del_ok": 0,
                  "del_err": 0}
        errors = []
        lock = threading.Lock()
        try:
            deadline = time.monotonic() + cls.SECONDS

            def churn(wid):
                rng = random.Random(wid)
                value = bytes([65 + wid]) * (64 * 1024)
                local = dict.fromkeys(counts, 0)
                with srv.client() as c:
                    while time.monotonic() < deadline:
                        keys = ["w%d:%d" % (wid, rng.randrange(2000))
                                for _ in range(16)]
                        replies = c.pipeline([("SET", k, value)
                                              for k in keys[:12]] +
                                             [("DEL", k) for k in keys[12:]])
                        for r in replies[:12]:
                            if r == "OK":
                                local["set_ok"] += 1
                            elif isinstance(r, RespError) and \
                                    r.text.startswith("OOM"):
                                local["set_oom"] += 1
                            else:
                                local["set_other"] += 1
                        for r in replies[12:]:
                            if isinstance(r, int):
                                local["del_ok"] += 1
                            else:
                                local["del_err"] += 1
                                if len(errors) < 3:
                                    errors.append(str(r)[:120])
                with lock:
                    for k, v in local.items():
                        counts[k] += v
            threads = [threading.Thread(target=churn, args=(w,))
                       for w in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(cls.SECONDS + 60)
            with srv.client() as c:
                alive = c.cmd("PING") == "PONG"
            return dict(counts, alive=alive, first_errors=errors)
        finally:
            srv.cleanup()

    @staticmethod
    def check(redis, daxkv):
        fails = []
        if daxkv["del_err"]:
            fails.append("%d of %d DELs failed, e.g. %s" % (
                daxkv["del_err"], daxkv["del_err"] + daxkv["del_ok"],
                daxkv["first_errors"][:1]))
        if daxkv["set_other"]:
            fails.append("%d SETs failed with a non-OOM error" %
                         daxkv["set_other"])
        if not daxkv["set_oom"]:
            fails.append("the pool never filled (no OOM): the case tests "
                         "nothing")
        if not daxkv["alive"]:
            fails.append("server stopped answering")
        return fails


# --- conservation across SIGKILL ------------------------------------------------

@case("sigkill_conservation", "3 rounds: 4 clients INCR counters and move "
      "amounts between accounts in MULTI/EXEC, SIGKILL mid-stream, restart: "
      "the accounts still sum to 0, each counter lies between its acked and "
      "its sent INCRs (Redis: appendfsync always)")
class SigkillConservation:
    ROUNDS = 3
    ACCOUNTS = 16

    @classmethod
    def run(cls, servers, target):
        srv = servers.start(target, persistent=True)
        rng = random.Random(1234)
        acked, sent = {}, {}
        problems = []
        try:
            for rnd in range(cls.ROUNDS):
                stop = threading.Event()
                threads = [threading.Thread(
                    target=cls.client, args=(srv.port, rnd * 10 + w, stop,
                                             acked, sent))
                    for w in range(4)]
                for t in threads:
                    t.start()
                time.sleep(1.0 + rng.random())
                srv.kill9()
                stop.set()
                for t in threads:
                    t.join(30)
                srv.start()
                problems += cls.verify(srv, acked, sent)
            return {"rounds": cls.ROUNDS, "acked_incrs": sum(acked.values()),
                    "problems": problems[:5]}
        finally:
            srv.cleanup()

    @classmethod
    def client(cls, port, seed, stop, acked, sent):
        rng = random.Random(seed)
        try:
            with RespClient(port, timeout=10) as c:
                while not stop.is_set():
                    ctr = "ctr:%d" % rng.randrange(4)
                    sent[ctr] = sent.get(ctr, 0) + 1
                    a, b = rng.sample(range(cls.ACCOUNTS), 2)
                    amount = rng.randint(1, 100)
                    replies = c.pipeline([
                        ("INCR", ctr), ("MULTI",),
                        ("DECRBY", "acct:%d" % a, amount),
                        ("INCRBY", "acct:%d" % b, amount), ("EXEC",)])
                    if isinstance(replies[0], int):
                        acked[ctr] = max(acked.get(ctr, 0), replies[0])
        except (OSError, ConnectionClosed):
            pass  # the kill ends the round

    @classmethod
    def verify(cls, srv, acked, sent):
        problems = []
        with srv.client() as c:
            balances = c.pipeline([("GET", "acct:%d" % i)
                                   for i in range(cls.ACCOUNTS)])
            total = sum(int(v) for v in balances if v is not None)
            if total != 0:
                problems.append("accounts sum to %d, not 0" % total)
            for ctr, n_sent in sent.items():
                v = int(c.cmd("GET", ctr) or 0)
                if not acked.get(ctr, 0) <= v <= n_sent:
                    problems.append("%s = %d, acked %d, sent %d" % (
                        ctr, v, acked.get(ctr, 0), n_sent))
        return problems

    @staticmethod
    def check(redis, daxkv):
        fails = list(daxkv["problems"])
        if daxkv["acked_incrs"] == 0:
            fails.append("no INCR was acknowledged: the case tests nothing")
        return fails
