"""daxkv-faultbench-compare --by-kernel and --real: legacy vs refcounted
DAX fault path over several lab boots, and real-hardware runs beside the
lab's figures (see the tool's usage text)."""
import json
import statistics
import sys

from faultbench_runs import Run, case_name, ordered_cases

PATHS = ("legacy", "refcounted")
FLAVOUR_OF_PROVIDER = {"e820": "memmap", "ACPI.NFIT": "nvdimm", "CXL": "cxl"}


def flavour_of(ctx):
    """memmap / nvdimm / cxl for the lab's emulated pmem (a QEMU CPU), else
    real:<provider> (an Optane NFIT bus, CXL, e820 from a real memmap=)."""
    p = ctx.get("devdax_provider") or ctx.get("fsdax_provider") or "?"
    if "QEMU" in ctx.get("cpu_model", ""):
        return FLAVOUR_OF_PROVIDER.get(p, p)
    return f"real:{p}"


def path_of(ctx):
    return (ctx.get("dax_fault_path_symbols", "").split(":")[0] or
            ctx.get("dax_fault_path", "unknown"))


def first_run_counters(path):
    """case -> counters of its first iteration run (the kprobe evidence)."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    out = {}
    for b in doc.get("benchmarks", []):
        if b.get("run_type", "iteration") == "iteration":
            out.setdefault(case_name(b.get("run_name", b["name"])), b)
    return out


def evidence_text(counters):
    """'vmf_insert_folio_pmd 1.0/f' for the insert/upgrade functions."""
    faults = counters.get("kfn_faults", 0)
    if not faults:
        return "no faults"
    keys = [k for k in counters if k.startswith("kfn.vmf_insert") or
            k in ("kfn.do_wp_page", "kfn.fault_dirty_shared_page",
                  "kfn.handle_mm_fault", "kfn.track_pfn_insert",
                  "kfn.pfnmap_setup_cachemode")]
    parts = [f"{k[4:]} {counters[k] / faults:.1f}/f" for k in sorted(keys)
             if counters[k]]
    return ", ".join(parts) or "none"


def spread(vals):
    return (statistics.median(vals), min(vals), max(vals))


def by_kernel(paths, metric, baseline):
    """{(flavour, case): {path: {...}}} plus the kernels seen per path."""
    groups, kernels = {}, {p: set() for p in PATHS}
    for path in paths:
        run = Run(path, path)
        flavour, fpath = flavour_of(run.context), path_of(run.context)
        if fpath not in PATHS:
            raise ValueError(f"{path}: fault path '{fpath}' from the "
                             "context is neither legacy nor refcounted")
        kernels[fpath].add(run.context.get("kernel_release", "?"))
        base = run.value(baseline, metric)
        if not base:
            raise ValueError(f"{path}: no {baseline} to normalise by")
        first = first_run_counters(path)
        for case in run.cases:
            v = run.value(case, metric)
            if not v:
                continue
            g = groups.setdefault((flavour, case), {}).setdefault(
                fpath, {"norm": [], "abs": [], "faults": [], "evidence": []})
            g["norm"].append(v / base)
            g["abs"].append(v)
            g["faults"].append(run.cases[case]["counters"].get("faults", 0))
            if case in first and "kfn_faults" in first[case]:
                g["evidence"].append(evidence_text(first[case]))
    return groups, {p: sorted(k) for p, k in kernels.items()}


def summarise(groups, baseline):
    rows = []
    for (flavour, case), g in sorted(groups.items(),
                                     key=lambda kv: (kv[0][0], kv[0][1])):
        row = {"flavour": flavour, "case": case}
        for p in PATHS:
            if p in g:
                med, lo, hi = spread(g[p]["norm"])
                row[p] = {"median": med, "min": lo, "max": hi,
                          "runs": len(g[p]["norm"]),
                          "abs_median": statistics.median(g[p]["abs"]),
                          "faults": statistics.median(g[p]["faults"]),
                          "evidence": (g[p]["evidence"] or ["-"])[0]}
        if all(p in row for p in PATHS):
            leg, ref = row["legacy"], row["refcounted"]
            key = "abs_median" if case == baseline else "median"
            row["ratio"] = ref[key] / leg[key]
            # Emulator nanoseconds across boots: context, not a finding.
            row["abs_ratio"] = ref["abs_median"] / leg["abs_median"]
            if case != baseline:
                row["ratio_min"] = ref["min"] / leg["max"]
                row["ratio_max"] = ref["max"] / leg["min"]
                row["separated"] = ref["min"] > leg["max"] or \
                    ref["max"] < leg["min"]
        rows.append(row)
    return rows


def faulting(rows, baseline):
    """Rows whose case faulted on both kernels (the fault-path figures),
    the baseline first; and the names of the rest."""
    keep, rest = [], []
    for r in rows:
        both = all(r.get(p, {}).get("faults", 0) > 0 for p in PATHS)
        (keep if both or r["case"] == baseline else rest).append(r)
    return keep, sorted({r["case"] for r in rest})


def print_by_kernel(rows, kernels, metric, baseline, out=sys.stdout):
    for p in PATHS:
        print(f"# {p}: kernel {', '.join(kernels[p]) or 'none'}", file=out)
    print(f"# {metric} / same-run {baseline}; median over runs [min-max] "
          "(runs); ref/leg = refcounted median / legacy median, range from "
          "the spreads, * where the spreads do not overlap; abs = the same "
          "ratio of absolute medians (the baseline row: how the baseline "
          "itself moved). Times under TCG are emulator times: only the "
          "same-boot ratios are findings.",
          file=out)
    header = ["flavour", "case", "legacy", "refcounted", "ref/leg", "range",
              "abs", "faults L/R", "kernel functions (legacy | refcounted)"]
    table = [header]

    def side(r):
        if not r:
            return "-"
        return f"{r['median']:.3g} [{r['min']:.3g}-{r['max']:.3g}] ({r['runs']})"

    for r in rows:
        leg, ref = r.get("legacy"), r.get("refcounted")
        ratio = f"{r['ratio']:.2f}" if "ratio" in r else "-"
        if r["case"] == baseline and "ratio" in r:
            ratio += " abs"
        rng = (f"{r['ratio_min']:.2f}-{r['ratio_max']:.2f}"
               + ("*" if r["separated"] else "")) if "ratio_min" in r else "-"
        faults = (f"{leg['faults']:.0f}/{ref['faults']:.0f}"
                  if leg and ref else "-")
        ev = f"{(leg or {}).get('evidence', '-')} | " \
             f"{(ref or {}).get('evidence', '-')}"
        absr = f"{r['abs_ratio']:.2f}" if "abs_ratio" in r else "-"
        table.append([r["flavour"], r["case"], side(leg), side(ref), ratio,
                      rng, absr, faults, ev])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(),
              file=out)


def plot_by_kernel(rows, metric, path):
    """Grouped bars (legacy, refcounted) of the normalised medians with
    min-max error bars: matplotlib, or gnuplot where it is missing."""
    rows = [r for r in rows if "ratio" in r]
    if not rows:
        raise SystemExit("daxkv-faultbench-compare: nothing to plot")
    labels = [f"{r['flavour']} {r['case'][6:]}" for r in rows]
    xlabel = (f"{metric} / same-boot touch/anon/4k/write (median, min-max "
              "over boots; TCG emulator times)")
    try:
        import matplotlib
    except ImportError:
        return plot_by_kernel_gnuplot(rows, labels, xlabel, path)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(11, 0.3 * len(rows) + 2))
    h = 0.4
    for i, p in enumerate(PATHS):
        ys = [k + i * h for k in range(len(rows))]
        med = [r[p]["median"] for r in rows]
        err = [[r[p]["median"] - r[p]["min"] for r in rows],
               [r[p]["max"] - r[p]["median"] for r in rows]]
        ax.barh(ys, med, height=h, xerr=err, capsize=2, label=p)
    ax.set_yticks([k + h / 2 for k in range(len(rows))])
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def plot_by_kernel_gnuplot(rows, labels, ylabel, path):
    import subprocess
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False) as d:
        for label, r in zip(labels, rows):
            cols = [r[p][k] for p in PATHS for k in ("median", "min", "max")]
            d.write(f'"{label}" ' + " ".join(f"{v:.6g}" for v in cols) + "\n")
        data = d.name
    width = max(900, 30 * len(rows) + 200)
    script = f"""
set terminal png size {width},700
set termoption noenhanced
set output '{path}'
set title 'legacy vs refcounted DAX fault path (lab, TCG)'
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.8 border -1
set logscale y
set ylabel '{ylabel}'
set xtics rotate by -60 font ',8' noenhanced
set key top left noenhanced
set bmargin 18
plot '{data}' using 2:3:4:xtic(1) title 'legacy', \\
     '' using 5:6:7 title 'refcounted'
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def main_real(args):
    """Real-hardware runs beside the lab's by-kernel medians."""
    try:
        with open(args.lab, encoding="utf-8") as f:
            lab = json.load(f)
        runs = [Run(p, p) for p in args.runs]
    except (OSError, ValueError, KeyError) as e:
        print(f"daxkv-faultbench-compare: {e}", file=sys.stderr)
        return 2
    metric, baseline = lab.get("metric", args.metric), lab.get("baseline",
                                                               args.baseline)
    flavours = sorted({r["flavour"] for r in lab["rows"]})
    lab_cell = {(r["flavour"], r["case"], p): r[p]["median"]
                for r in lab["rows"] for p in PATHS if p in r}
    print(f"# {metric} / same-run {baseline}. lab: "
          + "; ".join(f"{p} {', '.join(k)}" for p, k in
                      lab.get("kernels", {}).items())
          + " (TCG: emulator times, ratios only)")
    header = ["case"]
    for r in runs:
        ctx = r.context
        header.append(f"{flavour_of(ctx)} {ctx.get('kernel_release', '?')} "
                      f"({path_of(ctx)})")
    header += [f"lab {fl} {p[:3]}" for fl in flavours for p in PATHS]
    table = [header]
    cases = [c for c in ordered_cases(runs) if c.startswith("touch/")]
    for case in cases:
        row = [case]
        for r in runs:
            v, base = r.value(case, metric), r.value(baseline, metric)
            row.append(f"{v / base:.3g}" if v and base else
                       r.cases.get(case, {}).get("status", "absent"))
        for fl in flavours:
            for p in PATHS:
                v = lab_cell.get((fl, case, p))
                row.append(f"{v:.3g}" if v else "-")
        table.append(row)
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return 0


def main_by_kernel(args):
    try:
        groups, kernels = by_kernel(args.runs, args.metric, args.baseline)
    except (OSError, ValueError, KeyError) as e:
        print(f"daxkv-faultbench-compare: {e}", file=sys.stderr)
        return 2
    rows = summarise(groups, args.baseline)
    shown, rest = (rows, []) if args.all else faulting(rows, args.baseline)
    print_by_kernel(shown, kernels, args.metric, args.baseline)
    if rest:
        print("# not shown (no faults on one kernel or both: no fault-path "
              "figure; --all shows them): " + " ".join(rest))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"metric": args.metric, "baseline": args.baseline,
                       "kernels": kernels, "rows": rows}, f, indent=1)
    if args.plot:
        plot_by_kernel(shown, args.metric, args.plot)
        print(f"# plot: {args.plot}")
    return 0
