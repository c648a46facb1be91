"""Legacy vs refcounted DAX fault path, side by side (lab.py compare).

The same faultbench DAX cases (guest/bench.sh) on both kernels, on the same
emulated pmem in both flavours (memmap= and NVDIMM), over several boots
that alternate the kernels: boot round i runs memmap and nvdimm on
legacy then current (even i) or current then legacy (odd i), so drift of
the shared host hits both kernels alike. Every figure is divided by the
same run's touch/anon/4k/write, then daxkv-faultbench-compare --by-kernel
lines the kernels up: BUILD/lab/compare/compare.{txt,json,png} by per-fault
latency median (p50_ns), compare-mean.* by mean ns per fault.

Times under TCG are emulator times: only the same-boot ratios are
compared, never absolute nanoseconds across boots.
"""
import os
import shutil
import subprocess

FLAVOURS = ("memmap", "nvdimm")
BOOT_TIMEOUT_S = 1800
REGION_MB = int(os.environ.get("LAB_COMPARE_REGION_MB", "64"))
REPS = int(os.environ.get("LAB_COMPARE_REPS", "3"))


def order(boots, kernels):
    """(round, flavour, kernel) in boot order, alternating kernels."""
    runs = []
    for i in range(boots):
        ks = kernels if i % 2 == 0 else tuple(reversed(kernels))
        runs += [(i, f, k) for f in FLAVOURS for k in ks]
    return runs


def _boot(lab, part, i, flavour, kernel):
    print(f"lab: {part}: round {i}, {flavour}, {kernel}", flush=True)
    rows, problems, b = lab.run_guest(
        f"{part}/{flavour}-{kernel}-boot{i}", flavour, kernel,
        f"lab.mode=bench lab.region_mb={REGION_MB} lab.reps={REPS}",
        BOOT_TIMEOUT_S)
    for r in rows:
        r["phase"] = f"boot{i} {r['phase']}"
    return rows, [f"round {i} {flavour}-{kernel}: {p}" for p in problems], b


def tabulate(lab, out, jsons):
    """The by-kernel tables: per-fault latency medians (p50_ns, the headline:
    robust to the emulator's rare multi-millisecond stalls) and the means
    (ns_per_fault, beside it). Returns problems."""
    tool = lab.build / "bin" / "daxkv-faultbench-compare"
    problems = []
    for metric, stem in (("p50_ns", "compare"), ("ns_per_fault", "compare-mean")):
        # The tool runs under its own #!/usr/bin/python3 (Debian's matplotlib).
        cmd = [str(tool), "--by-kernel", *jsons, "--metric", metric,
               "--json", str(out / f"{stem}.json"),
               "--plot", str(out / f"{stem}.png")]
        t = subprocess.run(cmd, capture_output=True, text=True)
        (out / f"{stem}.txt").write_text(t.stdout + t.stderr)
        print(t.stdout + t.stderr)
        if t.returncode != 0:
            problems.append(f"daxkv-faultbench-compare --metric {metric} "
                            f"failed (rc {t.returncode})")
    return problems


def run(lab, boots):
    part = "compare"
    out = lab.out / part
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    rows, problems, first = [], [], None
    for i, flavour, kernel in order(boots, ("legacy", "current")):
        r, p, b = _boot(lab, part, i, flavour, kernel)
        rows += r
        problems += p
        first = first or b
    jsons = sorted(str(p) for p in out.glob("*-boot*/faultbench-*.json"))
    problems += tabulate(lab, out, jsons)
    return lab.finish(part, rows, problems, first, "current",
                      {"boots": boots, "region_mb": REGION_MB,
                       "repetitions": REPS,
                       "kernels": {k: lab.kver(k) for k in
                                   ("legacy", "current")}})
