"""Parses the guest's @@ markers (guest/lib.sh) and judges a lab run.

A flavour passes only when the guest booted, loaded every module, set up
every namespace phase, ran every step with exit code 0 (GoogleTest steps
with at least one test), and finished its plan. Unbuilt binaries fail it
unless allow_missing.
"""
import base64
import json
import shlex
from pathlib import Path

PHASES = ["devdax-2M", "devdax-4K", "fsdax"]
GTEST_STEPS = {"dax_test", "probe_test", "engine_test", "engine_crash", "tools_test"}
DAX_BACKINGS = ("devdax", "fsdax", "fsdax-sync")
PATH_CODES = {"legacy": 1, "refcounted": 2}
SESSION_STAMP = "session.stamp"  # written by the prepare part


def phases_of(flavour):
    """The namespace phases a flavour's plan sets up."""
    return PHASES


def tail(path, n):
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-n:])


def fields(line):
    """'@@KIND a=1 b="x y"' -> ('KIND', {'a': '1', 'b': 'x y'})."""
    kind, _, rest = line[2:].partition(" ")
    try:
        words = shlex.split(rest)
    except ValueError:
        words = rest.split()
    return kind, dict(w.split("=", 1) for w in words if "=" in w)


def parse(path):
    """Reads results.log into a dict of markers (see guest/lib.sh)."""
    out = {"booted": None, "modules": False, "done": False,
           "kernel_path": {},
           "modules_failed": [], "setups": [], "results": [], "tests": [],
           "files": {}, "markers": []}
    try:
        lines = Path(path).read_text(errors="replace").split("\n")
    except OSError:
        return out
    lines = lines[:-1]  # the last piece has no newline: it may be torn
    file_name, file_lines = None, []
    for raw in lines:
        line = raw.strip("\r")
        if file_name is not None:
            if line.startswith("@@ENDFILE"):
                try:
                    out["files"][file_name] = base64.b64decode("".join(file_lines))
                except ValueError:
                    out["files"][file_name] = b"(garbled in transfer)"
                file_name, file_lines = None, []
            else:
                file_lines.append(line)
            continue
        if not line.startswith("@@"):
            continue
        kind, f = fields(line)
        if kind == "FILE":
            file_name = f.get("name", "unnamed")
        elif kind == "BOOTED":
            out["booted"] = f
        elif kind == "MODULES_LOADED":
            out["modules"] = True
        elif kind == "MODULE_FAILED":
            out["modules_failed"].append(f.get("name"))
        elif kind == "DONE":
            out["done"] = True
        elif kind == "SETUP":
            out["setups"].append(f)
        elif kind == "RESULT":
            out["results"].append(f)
        elif kind == "TEST":
            out["tests"].append(f)
        elif kind == "KERNEL_PATH":
            out["kernel_path"] = f
        else:
            out["markers"].append((kind, f))
    return out


def save_files(parsed, directory):
    for name, data in parsed["files"].items():
        (Path(directory) / Path(name).name).write_bytes(data)


def _row(flavour, r):
    rc = r.get("rc")
    total = r.get("total", "-")
    if rc == "NOTBUILT":
        result = "NOT BUILT"
    elif rc == "0" and not (r["step"] in GTEST_STEPS and total in ("-", "0")):
        result = "PASS"
    elif rc == "137":
        result = "FAIL (step timeout)"
    elif rc == "0":
        result = "FAIL (no tests ran)"
    else:
        result = f"FAIL (rc {rc})"
    tests = "-"
    if total not in ("-", None):
        tests = f"{r.get('passed', '0').replace('-', '0')}/{total}"
        if r.get("skipped", "0") != "0":
            tests += f" ({r['skipped']} skipped)"
    return {"step": r.get("step"), "flavour": flavour,
            "phase": r.get("phase"), "result": result, "tests": tests,
            "secs": r.get("secs", "-")}


def _faultbench_cases(parsed, phase):
    """'N cases, M skipped' from the faultbench JSON the guest sent."""
    try:
        data = json.loads(parsed["files"][f"faultbench-{phase}.json"])
    except (KeyError, ValueError):
        return "-"
    runs = {b["run_name"]: b.get("error_message", "")
            for b in data.get("benchmarks", [])}
    skipped = sum(1 for m in runs.values() if m.startswith("skipped"))
    return f"{len(runs) - skipped} cases ({skipped} skipped)"


def evaluate(parsed, flavour, boot, allow_missing, kernel=None,
             phases=PHASES):
    """Returns (rows, problems) for one plan run (`flavour` names the part,
    e.g. memmap-current). The current kernel must have the refcounted path
    by its own symbols: that is why the lab fetches it."""
    rows = [{"step": "boot", "flavour": flavour, "phase": "-",
             "result": "PASS" if parsed["booted"] else "FAIL",
             "tests": "-", "secs": f"{boot.boot_secs or 0:.1f}"}]
    problems = []
    if boot.hung:
        problems.append(f"guest hung: killed after {boot.secs:.0f} s")
    if not parsed["booted"]:
        problems.append("guest never reached init (see console.log)")
    elif not parsed["done"] and not boot.hung:
        problems.append("guest stopped before its plan finished "
                        "(panic or crash: see console.log)")
    problems += [f"insmod {m} failed" for m in parsed["modules_failed"]]
    expected = parsed["kernel_path"].get("expected")
    if parsed["booted"] and parsed["done"] and not expected:
        problems.append("the plan reported no expected fault path")
    if kernel == "current" and expected and expected != "refcounted":
        problems.append(
            f"kernel {parsed['kernel_path'].get('release')} (current series) "
            f"has no vmf_insert_page_mkwrite: expected path '{expected}', "
            "not the refcounted DAX path the lab needs")
    ok_phases = {s.get("phase") for s in parsed["setups"] if s.get("ok") == "1"}
    for s in parsed["setups"]:
        ok = s.get("ok") == "1"
        rows.append({"step": "setup", "flavour": flavour,
                     "phase": s.get("phase"), "result": "PASS" if ok else "FAIL",
                     "tests": "-", "secs": "-"})
        if not ok:
            problems.append(f"set-up ({s.get('phase')}): {s.get('what')}")
    for phase in phases:
        if phase not in ok_phases:
            problems.append(f"{phase}: namespace set-up did not succeed")
    for r in parsed["results"]:
        row = _row(flavour, r)
        if row["step"] == "faultbench" and row["result"] != "NOT BUILT":
            row["tests"] = _faultbench_cases(parsed, row["phase"])
        rows.append(row)
        if row["result"] == "PASS" or (row["result"] == "NOT BUILT"
                                       and allow_missing):
            continue
        problems.append(f"{row['step']} ({row['phase']}): {row['result']}")
    for t in parsed["tests"]:
        if t.get("status") == "FAILED":
            problems.append(f"{t.get('step')} ({t.get('phase')}): "
                            f"FAILED {t.get('name')}")
    skipped = [f"{t.get('step')} ({t.get('phase')}): {t.get('name')}"
               for t in parsed["tests"] if t.get("status") == "SKIPPED"]
    rows[0]["skipped_tests"] = skipped
    return rows, problems


def _dax_case(name):
    parts = name.split("/")
    return len(parts) > 1 and parts[0] == "touch" and parts[1] in DAX_BACKINGS


def _first_runs(doc):
    """case name -> its first iteration run (the one with kprobe evidence),
    or its error message."""
    runs = {}
    for b in doc.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        runs.setdefault(b.get("run_name", b["name"]).split("/iterations:")[0],
                        b)
    return runs


def check_faultbench(directory, kernel, flavour):
    """Problems with the faultbench JSON of each DAX phase: every DAX case
    that ran carries kernel-function counts (kfn.*) and a fault path from
    them that matches the kernel's own symbols; the smaps verdict agrees;
    on the refcounted kernel, upgrade cases fault on devdax and fsdax."""
    problems = []
    for phase in phases_of(flavour):
        f = Path(directory) / f"faultbench-{phase}.json"
        try:
            doc = json.loads(f.read_text())
        except (OSError, ValueError) as e:
            problems.append(f"faultbench ({phase}): no JSON ({e})")
            continue
        ctx = doc.get("context", {})
        expected = ctx.get("dax_fault_path_symbols", "").split(":")[0]
        if kernel == "current" and expected != "refcounted":
            problems.append(f"faultbench ({phase}): the kernel's symbols "
                            f"say '{expected or 'nothing'}', not refcounted")
        if ctx.get("dax_fault_path") != expected:
            problems.append(
                f"faultbench ({phase}): smaps evidence says "
                f"'{ctx.get('dax_fault_path')}', symbols '{expected}': "
                + ctx.get("dax_fault_path_reasoning", ""))
        upgrades, ran = 0, 0
        for name, b in _first_runs(doc).items():
            if not _dax_case(name) or b.get("error_occurred"):
                continue
            ran += 1
            if "kfn_path" not in b or not any(k.startswith("kfn.") for k in b):
                problems.append(f"faultbench ({phase}): {name} has no "
                                "kernel-function counts")
                continue
            path = int(b["kfn_path"])
            if path not in (0, PATH_CODES.get(expected)):
                problems.append(f"faultbench ({phase}): {name}: kernel "
                                f"functions show path code {path}, "
                                f"expected {expected}")
            if "/upgrade" in name and b.get("kfn_faults", 0) > 0:
                upgrades += 1
        if ran == 0:
            problems.append(f"faultbench ({phase}): no DAX case ran")
        if kernel == "current" and ran and upgrades == 0:
            problems.append(f"faultbench ({phase}): no upgrade case faulted "
                            "on the refcounted kernel")
    return problems


def table(rows):
    cols = ["step", "flavour", "phase", "result", "tests", "secs"]
    width = {c: max([len(c)] + [len(str(r.get(c, ""))) for r in rows])
             for c in cols}
    line = lambda r: "  ".join(str(r.get(c, "")).ljust(width[c]) for c in cols)
    return "\n".join([line({c: c for c in cols}),
                      "  ".join("-" * width[c] for c in cols),
                      *(line(r) for r in rows)])


def write_summary(out):
    """Collects every part's rows.json into summary.txt / summary.json."""
    rows, problems, notes = [], [], []
    # Parts written since this session's `lab.py prepare` (session.stamp);
    # older ones (an earlier `make lab`) are named but do not count.
    stamp = Path(out) / SESSION_STAMP
    since = stamp.stat().st_mtime if stamp.exists() else 0
    for f in sorted(Path(out).glob("*/rows.json")):
        part = f.parent.name
        if f.stat().st_mtime < since:
            notes.append(f"{part}: not run in this session (results of an "
                         f"earlier run left in {f.parent})")
            continue
        data = json.loads(f.read_text())
        rows += data["rows"]
        problems += [f"{part}: {p}" for p in data["problems"]]
        notes.append(f"{part}: {json.dumps(data['meta'])}")
        skipped_by_test = {}
        for r in data["rows"]:
            for s in r.get("skipped_tests", []):
                where, _, test = s.rpartition(": ")
                skipped_by_test.setdefault(test, []).append(where)
        notes += [f"{part}: skipped {t} in {', '.join(w)}"
                  for t, w in sorted(skipped_by_test.items())]
    accel = Path(out) / "accel.json"
    if accel.exists():
        a = json.loads(accel.read_text())
        notes.insert(0, f"accelerator: {a.get('accel')} ({a.get('why')})")
    skipped = Path(out) / "skipped.txt"
    if skipped.exists():
        notes.insert(0, "SKIPPED: " + skipped.read_text().strip())
    text = "\n".join([table(rows), "", *notes, "",
                      *(f"FAIL: {p}" for p in problems),
                      "RESULT: " + ("FAIL" if problems else "PASS")]) + "\n"
    (Path(out) / "summary.txt").write_text(text)
    (Path(out) / "summary.json").write_text(json.dumps(
        {"rows": rows, "problems": problems, "notes": notes}, indent=1))
    print(text)
    return 0
