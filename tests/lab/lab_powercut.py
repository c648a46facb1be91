"""Power-cut test on the NVDIMM flavour (devdax on a file-backed NVDIMM),
on one of the lab's kernels.

Round 1 boots on a blank backing file, creates a devdax namespace and starts
daxkv-powercut's writer, which prints "@@ACK seq= key= crc=" after each
put returns OK. The host SIGKILLs QEMU at a random moment (seeded), boots
again on the same file, and the guest recovers the pool and dumps every
live key ("@@PCV"); then the next round writes again. A final boot only
verifies. Every acknowledged write the host saw must be in the dump: the
same key, with the acknowledged value or a later write of that key, intact.
"""
import random
import shutil

import lab_results

ROUND_TIMEOUT_S = 300
KILL_WINDOW_S = (1.0, 8.0)  # seconds after the writer started
MAX_LISTED = 20


def _markers(parsed, kind):
    return [f for k, f in parsed["markers"] if k == kind]


def acks(parsed):
    return [(int(f["seq"]), f["key"], f["crc"]) for f in _markers(parsed, "ACK")
            if {"seq", "key", "crc"} <= f.keys()]


def check(parsed, acked):
    """Problems with the recovered dump against the acknowledged writes."""
    done = _markers(parsed, "PCV_DONE")
    if not done:
        return ["verify did not finish (recovery failed? see console.log)"], {}
    dump = {f["key"]: f for f in _markers(parsed, "PCV")}
    problems = []
    for key, (seq, crc) in sorted(acked.items()):
        got = dump.get(key)
        if got is None:
            problems.append(f"{key}: acknowledged write {seq} lost (key absent)")
        elif int(got["seq"]) < seq:
            problems.append(f"{key}: acknowledged write {seq} lost "
                            f"(pool has older write {got['seq']})")
        elif int(got["seq"]) == seq and got["crc"] != crc:
            problems.append(f"{key}: write {seq} came back with crc "
                            f"{got['crc']}, acknowledged {crc}")
    problems += [f"{k}: damaged value (seq {f['seq']})"
                 for k, f in dump.items() if f.get("ok") != "1"]
    if len(problems) > MAX_LISTED:
        problems = problems[:MAX_LISTED] + [
            f"... and {len(problems) - MAX_LISTED} more"]
    return problems, done[0]


def _round(lab, part, kernel, r, seed, start, kill_after, extra, acked):
    """One boot: verify (after round 1), then write until the power cut."""
    started = {}

    def watch(text, boot):
        if not started and "@@PC_WRITER_STARTED" in text:
            started["at"] = boot.secs
        return bool(started) and boot.secs - started["at"] >= kill_after

    append = (f"lab.mode=pcwrite lab.seed={seed} lab.start={start} "
              f"lab.fresh={int(r == 1)} lab.verify={int(r > 1)}")
    name = f"{part}/round{r}"
    b = lab.boot(name, append, extra, ROUND_TIMEOUT_S, kernel, watch=watch)
    parsed = lab_results.parse(lab.out / name / "results.log")
    problems, stats = [], {}
    if not any(s.get("ok") == "1" for s in parsed["setups"]):
        problems.append(f"round {r}: no devdax namespace (see console.log)")
    if r > 1:
        found, stats = check(parsed, acked)
        problems += [f"round {r} verify: {p}" for p in found]
    new = acks(parsed)
    if not b.killed:
        exits = _markers(parsed, "PC_WRITER_EXIT")
        problems.append(f"round {r}: the writer was not running at the cut "
                        f"(hung={b.hung}, writer exit {exits})")
    if not new:
        problems.append(f"round {r}: no acknowledged writes before the cut")
    row = {"step": "powercut", "flavour": part, "phase": f"round {r}",
           "result": "FAIL" if problems else "PASS",
           "tests": f"{len(new)} acks, cut at +{kill_after:.1f}s"
                    + (f", recovered {stats.get('keys')} keys in "
                       f"{stats.get('recovery_ms')} ms" if stats else ""),
           "secs": f"{b.secs:.1f}"}
    return new, row, problems, b


def run(lab, kernel, rounds, seed):
    part = f"powercut-{kernel}"
    d = lab.out / part
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    backing = d / "nvdimm.img"
    _, extra, _ = lab.flavour_args("nvdimm", backing)  # a blank 1 GiB file
    rng = random.Random(seed)
    print(f"lab: {part}: kernel {lab.kver(kernel)}, seed {seed} "
          f"(LAB_SEED={seed} repeats the cut times), {rounds} rounds, accel "
          f"{lab.state['accel']}", flush=True)
    acked, rows, problems, start, first, total = {}, [], [], 1, None, 0
    for r in range(1, rounds + 1):
        kill_after = rng.uniform(*KILL_WINDOW_S)
        new, row, found, b = _round(lab, part, kernel, r, seed, start,
                                    kill_after, extra, acked)
        first = first or b
        rows.append(row)
        problems += found
        total += len(new)
        for seq, key, crc in new:
            acked[key] = max(acked.get(key, (0, "")), (seq, crc))
        start = max([start - 1] + [s for s, _, _ in new]) + 1
        print(f"lab: {part} round {r}: {row['tests']} ({row['result']})",
              flush=True)
    b = lab.boot(f"{part}/final", f"lab.mode=pcverify lab.seed={seed}",
                 extra, ROUND_TIMEOUT_S, kernel)
    parsed = lab_results.parse(d / "final" / "results.log")
    found, stats = check(parsed, acked)
    problems += [f"final verify: {p}" for p in found]
    rows.append({"step": "powercut", "flavour": part, "phase": "verify",
                 "result": "FAIL" if found else "PASS",
                 "tests": f"{total} acked writes on {len(acked)} keys"
                          f", recovery {stats.get('recovery_ms', '?')} ms",
                 "secs": f"{b.secs:.1f}"})
    backing.unlink(missing_ok=True)
    return lab.finish(part, rows, problems, first, kernel,
                      {"seed": seed, "rounds": rounds, "acked_writes": total})
