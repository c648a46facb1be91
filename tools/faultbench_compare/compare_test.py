#!/usr/bin/python3
"""Runs daxkv-faultbench-compare on two daxkv-faultbench JSON runs and checks
the table (every case, ratios, skip/FAIL markers) and the PNG plot.

usage: compare_test.py TOOL (--faultbench BINARY | --json A.json B.json |
                              --kernels LEGACY.json REFCOUNTED.json)
With --faultbench, two short real runs of a few cases are made first.
--kernels checks --by-kernel and --real on two lab runs (one per kernel).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def real_runs(binary, tmp):
    paths = []
    for i in range(2):
        out = os.path.join(tmp, f"run{i}.json")
        subprocess.run([binary, "--region_mb=2", "--repetitions=1",
                        "--benchmark_filter=touch/anon/4k/(read|write)/it|"
                        "touch/hugetlb/2m/read/it",
                        f"--benchmark_out={out}",
                        "--benchmark_out_format=json"],
                       check=True, stdout=subprocess.DEVNULL)
        paths.append(out)
    return paths


def with_failed_case(path, tmp):
    """A copy of `path` whose first measured case failed validation."""
    doc = json.load(open(path))
    for b in doc["benchmarks"]:
        if not b.get("error_occurred"):
            victim = b["run_name"]
            break
    for b in doc["benchmarks"]:
        if b.get("run_name") == victim:
            b["error_occurred"] = True
            b["error_message"] = "validation failed: injected by the test"
    out = os.path.join(tmp, "failed.json")
    json.dump(doc, open(out, "w"))
    return out, victim.split("/iterations")[0]


def check_kernels(tool, legacy, refcounted):
    """--by-kernel lines the two kernels up with ratios and kprobe evidence;
    --real puts a run beside the resulting JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "lab.json")
        r = subprocess.run([tool, "--by-kernel", legacy, refcounted,
                            "--json", out], capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"--by-kernel exit {r.returncode}: {r.stderr}")
        t = r.stdout
        for want in ("# legacy: kernel 6.1", "# refcounted: kernel 7.",
                     "vmf_insert_pfn_pmd_prot 1.0/f", "vmf_insert_folio_pmd "
                     "1.0/f", "--all shows them"):
            if want not in t:
                fail(f"--by-kernel output lacks '{want}':\n{t}")
        row = [ln for ln in t.splitlines() if " touch/devdax/2m/write " in ln]
        if not row or "abs" not in t.splitlines()[3]:
            fail(f"no devdax 2m write row or abs column:\n{t}")
        doc = json.load(open(out))
        rows = {(x["flavour"], x["case"]): x for x in doc["rows"]}
        w = rows.get(("memmap", "touch/devdax/2m/write"))
        if not w or not 0 < w["ratio"] or w["legacy"]["runs"] != 1:
            fail(f"JSON row for devdax 2m write wrong: {w}")
        if rows[("memmap", "touch/anon/4k/write")]["legacy"]["median"] != 1:
            fail("the baseline must normalise to 1")
        r = subprocess.run([tool, "--by-kernel", "--all", legacy, refcounted],
                           capture_output=True, text=True, check=True)
        if " touch/devdax/2m/upgrade " not in r.stdout:
            fail("--all must show the fault-less upgrade case")
        r = subprocess.run([tool, "--real", refcounted, "--lab", out],
                           capture_output=True, text=True)
        if r.returncode != 0 or "lab memmap leg" not in r.stdout or \
                "touch/devdax/2m/write" not in r.stdout:
            fail(f"--real output wrong (rc {r.returncode}):\n{r.stdout}"
                 f"{r.stderr}")
        r = subprocess.run([tool, "--real", refcounted], capture_output=True,
                           text=True)
        if r.returncode != 2:
            fail("--real without --lab must exit 2")
    print("PASS")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("tool")
    p.add_argument("--faultbench")
    p.add_argument("--json", nargs=2)
    p.add_argument("--kernels", nargs=2)
    args = p.parse_args()
    if args.kernels:
        return check_kernels(args.tool, *args.kernels)
    with tempfile.TemporaryDirectory() as tmp:
        a, b = real_runs(args.faultbench, tmp) if args.faultbench else args.json
        png = os.path.join(tmp, "plot.png")
        r = subprocess.run([args.tool, a, b, "--labels", "first,second",
                            "--plot", png], capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"exit {r.returncode}: {r.stderr}")
        table = r.stdout
        names = {x["run_name"].split("/iterations")[0]
                 for x in json.load(open(a))["benchmarks"]}
        for name in names:
            if not any(line.startswith(name + " ") for line in
                       table.splitlines()):
                fail(f"case {name} missing from the table:\n{table}")
        if "second/first" not in table or "x " not in table + " ":
            fail("no ratio column:\n" + table)
        if "touch/anon/4k/write" in names and "1.00x" not in table:
            fail("baseline column must show 1.00x for the baseline case")
        if not os.path.exists(png) or os.path.getsize(png) < 1000:
            fail("no PNG plot written")
        if open(png, "rb").read(8) != b"\x89PNG\r\n\x1a\n":
            fail("plot is not a PNG")
        bad, victim = with_failed_case(a, tmp)
        r = subprocess.run([args.tool, bad, b], capture_output=True,
                           text=True, check=True)
        row = [ln for ln in r.stdout.splitlines()
               if ln.startswith(victim + " ")]
        if not row or "FAIL" not in row[0]:
            fail(f"failed case {victim} not marked FAIL:\n{r.stdout}")
        r = subprocess.run([args.tool, os.path.join(tmp, "missing.json")],
                           capture_output=True, text=True)
        if r.returncode != 2:
            fail("unreadable input must exit 2")
    print("PASS")


if __name__ == "__main__":
    main()
