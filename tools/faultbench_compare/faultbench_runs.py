"""Reading daxkv-faultbench JSON: one Run per file, per case its median
counters (or why it has none). Shared by daxkv-faultbench-compare and its
--by-kernel / --real modes (faultbench_kernels.py)."""
import json
import re
import statistics

SUFFIX = re.compile(r"(/iterations:\d+|/repeats:\d+|/manual_time|/real_time"
                    r"|_(mean|median|stddev|cv))")


def case_name(name):
    return SUFFIX.sub("", name)


class Run:
    """One JSON file: per case its median counters, or why it has none."""

    def __init__(self, path, label):
        self.path = path
        self.label = label
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        self.context = doc.get("context", {})
        self.cases = {}  # name -> {"status", "message", "counters"}
        samples = {}
        medians = {}
        order = []
        for b in doc.get("benchmarks", []):
            name = case_name(b.get("run_name", b["name"]))
            if name not in order:
                order.append(name)
            if b.get("error_occurred"):
                msg = b.get("error_message", "")
                status = "skip" if msg.startswith("skipped") else "FAIL"
                self.cases[name] = {"status": status, "message": msg,
                                    "counters": {}}
                continue
            if b.get("aggregate_name") == "median":
                medians[name] = b
            elif b.get("run_type", "iteration") == "iteration":
                samples.setdefault(name, []).append(b)
        for name, reps in samples.items():
            if name in self.cases:
                continue  # a failed repetition taints the whole case
            counters = {}
            keys = {k for r in reps for k, v in r.items()
                    if isinstance(v, (int, float)) and not isinstance(v, bool)}
            for k in keys:
                vals = [r[k] for r in reps if k in r]
                counters[k] = statistics.median(vals)
            if name in medians:
                counters.update({k: v for k, v in medians[name].items()
                                 if isinstance(v, (int, float))})
            self.cases[name] = {"status": "ok", "message": "",
                                "counters": counters}
        self.cases = {n: self.cases[n] for n in order if n in self.cases}

    def lookup(self, case, metric):
        """(value, fell_back): the metric, or for cases that lack it (no
        faults by design, no CPU figure) ns_per_fault, then ns_per_event."""
        c = self.cases.get(case)
        if not c or c["status"] != "ok":
            return None, False
        counters = c["counters"]
        chain = [metric, "ns_per_fault", "ns_per_event"]
        for i, name in enumerate(chain):
            if name == "ns_per_fault" and not counters.get("faults"):
                continue
            v = counters.get(name)
            if v:
                return v, i > 0
        return None, False

    def value(self, case, metric):
        return self.lookup(case, metric)[0]


def ordered_cases(runs):
    seen = []
    for r in runs:
        for name in r.cases:
            if name not in seen:
                seen.append(name)
    return seen
