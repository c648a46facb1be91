#!/usr/bin/env python3
"""The daxkv DAX lab: real devdax and fsdax in QEMU guests, on two kernels.

No development or CI machine has persistent memory, so the lab boots
Debian kernels under QEMU with emulated pmem, runs the project's binaries
against /dev/dax0.0 and an ext4 -o dax mount inside, and brings every
step's result back over a second serial port (see guest/lib.sh). Two
kernels, fetched as Debian packages by kernel.sh:

  legacy   Debian 12's own kernel (6.1): the legacy DAX fault path
  current  the newest trixie-backports kernel (>= 6.15): the refcounted
           DAX fault path (seed 001)

The guest derives the path it expects from the kernel's own symbols and
every step checks the evidence (smaps, kprobe hit counts) against it.

  lab.py prepare                 both kernels (cached .debs), initramfs, accel
  lab.py plan FLAVOUR KERNEL     the test plan (flavour memmap | nvdimm | cxl)
  lab.py powercut KERNEL         power-cut rounds on the NVDIMM flavour
  lab.py compare                 legacy vs refcounted: faultbench on both
                                 kernels, both flavours, several boots
                                 alternating kernels (LAB_COMPARE_BOOTS)
  lab.py summary                 the table of every part: BUILD/lab/summary.txt
  lab.py all                     every part (what `make lab` runs)

Exit status: 0 pass, 1 fail, 77 skipped (no QEMU or no kernel package).
Environment: LAB_ALLOW_MISSING=1 reports unbuilt binaries without failing;
LAB_ACCEL=kvm|tcg skips the probe; LAB_POWERCUT_ROUNDS (default 3);
LAB_SEED (default: random, printed); LAB_TIMEOUT: hard limit per plan boot
in seconds (default 900); LAB_COMPARE_BOOTS (default 3); LAB_TCG_THREAD:
single (default) or multi, QEMU's TCG threading when there is no KVM.
"""
import argparse
import ctypes
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lab_compare  # noqa: E402
import lab_powercut  # noqa: E402
import lab_results  # noqa: E402

HERE = Path(__file__).resolve().parent
SKIP = 77
KERNELS = ("legacy", "current")
FLAVOURS = ("memmap", "nvdimm", "cxl")
FLAVOUR_TIMEOUT_S = int(os.environ.get("LAB_TIMEOUT", "900"))
# One guest step's limit. engine_test, the longest, took 134 s in a CI
# guest; on a host busy with other work it took over 300 s (one TCG thread
# gets half the CPU), so the limit leaves room for that.
STEP_TIMEOUT_S = 450
# Multi-threaded TCG runs each vCPU on a host thread, but the kernel's live
# code patching (kprobe arming and optimisation, static keys: text_poke_bp's
# int3-then-rewrite) is not reliably coherent across vCPUs there: CI guests
# of the current kernel died twice inside kprobe-evidence steps. One TCG
# thread serialises the vCPUs, so the guest sees coherent code; the
# benchmarks inside are single-threaded anyway (nvdimm-current took 264 s
# single against 322 s multi here).
TCG_THREAD = os.environ.get("LAB_TCG_THREAD", "single")
PROBE_TIMEOUT_S = 20
BASE_APPEND = "console=ttyS0 quiet panic=-1 oops=panic"


def _die_with_parent():
    """QEMU is SIGKILLed when this driver dies (ctest timeout, ^C)."""
    pr_set_pdeathsig, sigkill = 1, 9
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, sigkill)


class Skipped(Exception):
    """The host cannot run the lab at all; the message says why."""


class Boot:
    """One QEMU run: how it ended and how long it took."""

    def __init__(self):
        self.rc = None
        self.secs = 0.0
        self.boot_secs = None  # host seconds until the guest's @@BOOTED
        self.hung = False      # hit the hard timeout and was killed
        self.killed = False    # killed on purpose (power cut)
        self.kill_at = None


class Lab:
    def __init__(self, build, allow_missing):
        self.build = Path(build).resolve()
        self.out = self.build / "lab"
        self.out.mkdir(parents=True, exist_ok=True)
        self.allow_missing = allow_missing
        self.state = None

    # ---- preparation -------------------------------------------------------
    def prepare(self):
        if self.state:
            return self.state
        qemu = shutil.which("qemu-system-x86_64")
        if not qemu:
            raise Skipped("qemu-system-x86_64 is not installed "
                          "(apt-get install qemu-system-x86)")
        self.state = {"qemu": qemu, "kernels": {}}
        for series in KERNELS:
            self.state["kernels"][series] = self._kernel(series)
        self.state["accel"] = self._accel()
        (self.out / "skipped.txt").unlink(missing_ok=True)
        (self.out / "state.json").write_text(json.dumps(self.state, indent=1))
        return self.state

    def _kernel(self, series):
        k = subprocess.run(["bash", str(HERE / "kernel.sh"),
                            str(self.out / "cache"), series],
                           capture_output=True, text=True)
        sys.stderr.write(k.stderr)
        if k.returncode == SKIP:
            raise Skipped(k.stderr.strip().splitlines()[-1])
        if k.returncode != 0:
            raise RuntimeError(f"kernel.sh {series} failed")
        kv = dict(f.split("=", 1) for f in k.stdout.split())
        initrd = self.out / f"initramfs-{series}.cpio"
        stamp = self.out / f"initramfs-{series}.kver"
        if self._stale(initrd) or not stamp.exists() or \
                stamp.read_text().strip() != kv["KVER"]:
            subprocess.run(["bash", str(HERE / "initramfs.sh"), kv["MODDIR"],
                            kv["KVER"], str(self.build / "bin"), str(initrd)],
                           check=True)
            stamp.write_text(kv["KVER"] + "\n")
        print(f"lab: kernel {series}: {kv['KVER']} ({kv['VERSION']}, "
              f"{kv['SUITE']})", flush=True)
        return {"kver": kv["KVER"], "version": kv["VERSION"],
                "suite": kv["SUITE"], "kernel": kv["VMLINUZ"],
                "initrd": str(initrd)}

    def _stale(self, initrd):
        if not initrd.exists():
            return True
        built = initrd.stat().st_mtime
        inputs = [*(self.build / "bin").glob("*"), *(HERE / "guest").glob("*"),
                  HERE / "initramfs.sh"]
        return any(p.stat().st_mtime > built for p in inputs if p.is_file())

    def _accel(self):
        """KVM when a probe boot works, else TCG (machine-facts.md)."""
        forced = os.environ.get("LAB_ACCEL")
        if forced in ("kvm", "tcg"):
            return forced
        cache = self.out / "accel.json"
        kvers = " ".join(k["kver"] for k in self.state["kernels"].values())
        key = " ".join([kvers, os.uname().release,
                        subprocess.run([self.state["qemu"], "--version"],
                                       capture_output=True,
                                       text=True).stdout.split("\n")[0]])
        if cache.exists():
            saved = json.loads(cache.read_text())
            if saved.get("key") == key:
                return saved["accel"]
        accel, why = "tcg", "no /dev/kvm"
        if os.access("/dev/kvm", os.R_OK | os.W_OK):
            boot = self.boot("probe", "lab.mode=probe", [], PROBE_TIMEOUT_S,
                             kernel="legacy", accel="kvm")
            done = "@@DONE" in (self.out / "probe" / "results.log").read_text(
                errors="replace")
            accel = "kvm" if done else "tcg"
            why = ("KVM probe boot finished" if done else
                   f"KVM probe failed (qemu rc {boot.rc}, hung={boot.hung}): "
                   + lab_results.tail(self.out / "probe" / "qemu.log", 2)
                   .replace("\n", " | "))
        print(f"lab: accelerator {accel}: {why}")
        cache.write_text(json.dumps({"key": key, "accel": accel, "why": why}))
        return accel

    # ---- booting -----------------------------------------------------------
    def qemu_cmd(self, name, append, extra, kernel, accel, cpu_features=""):
        d = self.out / name
        k = self.state["kernels"][kernel]
        cpu = (["-accel", "kvm", "-cpu", "host" + cpu_features]
               if accel == "kvm" else
               ["-accel", f"tcg,thread={TCG_THREAD}", "-cpu", "max" + cpu_features])
        return [self.state["qemu"], *cpu, "-smp", "2", "-nodefaults",
                "-display", "none", "-no-reboot",
                "-kernel", k["kernel"], "-initrd", k["initrd"],
                "-append", f"{BASE_APPEND} lab.kernel={kernel} {append}",
                "-serial", f"file:{d / 'console.log'}",
                "-serial", f"file:{d / 'results.log'}", *extra]

    def boot(self, name, append, extra, timeout, kernel, accel=None,
             watch=None, cpu_features=""):
        """Runs one guest to completion, the hard timeout or a kill by
        `watch(results_text, boot)` returning True."""
        d = self.out / name
        d.mkdir(parents=True, exist_ok=True)
        for f in ("console.log", "results.log"):
            (d / f).write_text("")
        if "-m" not in extra:
            extra = ["-machine", "pc", "-m", "2G", *extra]
        cmd = self.qemu_cmd(name, append, extra, kernel,
                            accel or self.state["accel"], cpu_features)
        (d / "qemu.cmd").write_text(" ".join(cmd) + "\n")
        b = Boot()
        t0 = time.monotonic()
        with open(d / "qemu.log", "w") as log:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT,
                                 preexec_fn=_die_with_parent)
            try:
                self._watch(p, d, name, timeout, watch, b, t0)
            finally:
                if p.poll() is None:
                    p.kill()
                b.rc = p.wait()
        b.secs = time.monotonic() - t0
        return b

    def _watch(self, p, d, name, timeout, watch, b, t0):
        while p.poll() is None:
            time.sleep(0.2)
            b.secs = time.monotonic() - t0
            text = (d / "results.log").read_text(errors="replace")
            if b.boot_secs is None and "@@BOOTED" in text:
                b.boot_secs = b.secs
            if watch and watch(text, b):
                p.kill()
                b.killed, b.kill_at = True, b.secs
            elif b.secs > timeout:
                p.kill()
                b.hung = True
                print(f"lab: {name}: guest HUNG: no exit within {timeout} s,"
                      " killed; console tail:\n"
                      + lab_results.tail(d / "console.log", 15))
            if b.killed or b.hung:
                return

    # ---- the flavours ------------------------------------------------------
    def flavour_args(self, flavour, backing):
        """(kernel command line, QEMU arguments, CPU features) for emulated
        pmem. Backing files are created blank."""
        if flavour == "memmap":
            return "memmap=512M!1G", [], ""
        blank(backing, 1 << 30)
        mem = ("memory-backend-file,id=mem1,share=on,"
               f"mem-path={backing},size=1G")
        if flavour == "cxl":
            lsa = Path(f"{backing}.lsa")  # the label storage area
            blank(lsa, 1 << 28)
            return cxl_flavour_args(mem, lsa)
        return "", ["-machine", "pc,nvdimm=on", "-m", "2G,slots=2,maxmem=4G",
                    "-object", mem, "-device", "nvdimm,id=nv1,memdev=mem1"], ""

    def run_guest(self, name, flavour, kernel, mode_args, timeout):
        """Boots `kernel` on fresh emulated pmem of `flavour` with
        lab.mode=... `mode_args`, then judges the plan-style markers:
        (rows, problems, boot), the guest's files saved beside its logs."""
        d = self.out / name
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        pmem, extra, cpu = self.flavour_args(flavour, d / "pmem.img")
        print(f"lab: {name}: booting {self.kver(kernel)} "
              f"({self.state['accel']})", flush=True)
        b = self.boot(name, f"{pmem} lab.flavour={flavour} {mode_args}",
                      extra, timeout, kernel, cpu_features=cpu)
        (d / "pmem.img").unlink(missing_ok=True)
        (d / "pmem.img.lsa").unlink(missing_ok=True)
        parsed = lab_results.parse(d / "results.log")
        lab_results.save_files(parsed, d)
        rows, problems = lab_results.evaluate(
            parsed, d.name, b, self.allow_missing, kernel=kernel,
            phases=lab_results.phases_of(flavour))
        problems += lab_results.check_faultbench(d, kernel, flavour)
        if parsed["booted"] and not parsed["done"] and not b.hung:
            # The CI log is all a reader gets: show why the guest died.
            print(f"lab: {name}: guest stopped early (qemu exit {b.rc}); "
                  "console tail:\n" + lab_results.tail(d / "console.log", 40),
                  flush=True)
        return rows, problems, b

    def run_plan(self, flavour, kernel):
        self.prepare()
        name = f"{flavour}-{kernel}"
        # engine_test runs on simulated regions: once per lab is enough;
        # the seed cases (anonymous memory) once per kernel.
        rows, problems, b = self.run_guest(
            name, flavour, kernel,
            f"lab.mode=plan lab.step_timeout={STEP_TIMEOUT_S} "
            f"lab.engine_test={int(name == 'memmap-current')} "
            f"lab.seeds={int(flavour == 'memmap')}", FLAVOUR_TIMEOUT_S)
        return self.finish(name, rows, problems, b, kernel)

    def kver(self, kernel):
        return self.state["kernels"][kernel]["kver"]

    def finish(self, name, rows, problems, boot, kernel, extra_meta=None):
        d = self.out / name
        accel = self.state["accel"]
        if accel == "tcg":
            accel += f",thread={TCG_THREAD}"
        meta = {"accel": accel, "kernel": self.kver(kernel),
                "series": kernel, "boot_secs": round(boot.boot_secs or 0, 1),
                "secs": round(boot.secs, 1), **(extra_meta or {})}
        (d / "rows.json").write_text(json.dumps(
            {"rows": rows, "problems": problems, "meta": meta}, indent=1))
        print(lab_results.table(rows))
        print(f"lab: {name}: {meta}")
        for p in problems:
            print(f"lab: {name}: FAIL: {p}")
        return 1 if problems else 0


def blank(path, size):
    """A fresh all-zero file of `size` bytes."""
    path.unlink(missing_ok=True)
    with open(path, "wb") as f:
        f.truncate(size)


def cxl_flavour_args(mem, lsa):
    """A CXL type-3 persistent-memory device (QEMU 7.2 spelling: memdev=,
    not persistent-memdev=) behind a CXL host bridge and root port, with a
    4 GiB fixed memory window, on q35. What the kernel's CXL stack needs
    from Debian 12's QEMU, each found by trial (docs/faultbench.md):
     - pci=nomsi: QEMU 7.2's type-3 device has no event-log interrupts;
       with MSI the 7.x cxl_pci probe fails ("Failed to get interrupt for
       event Info log"), without it the driver skips event processing;
     - CPU hypervisor=off: cxl_region_invalidate_memregion() refuses to
       commit a region when the CPU says it runs under a hypervisor
       (ENXIO, "Failed to synchronize CPU cache state");
     - sn=: cxl_pmem_region wants a serial number on every memdev."""
    return "pci=nomsi", [
        "-machine", "q35,cxl=on", "-m", "2G,slots=2,maxmem=4G",
        "-object", mem,
        "-object", f"memory-backend-file,id=lsa1,share=on,mem-path={lsa},"
        "size=256M",
        "-device", "pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1",
        "-device", "cxl-rp,port=0,bus=cxl.1,id=root_port13,chassis=0,slot=2",
        "-device", "cxl-type3,bus=root_port13,memdev=mem1,lsa=lsa1,"
        "id=cxl-pmem0,sn=0x1234",
        "-M", "cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G"], \
        ",hypervisor=off"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["prepare", "plan", "powercut",
                                        "compare", "summary", "all"])
    ap.add_argument("args", nargs="*", help="plan: FLAVOUR KERNEL; "
                    "powercut: KERNEL")
    ap.add_argument("--build", default="build")
    ap.add_argument("--allow-missing", action="store_true",
                    default=os.environ.get("LAB_ALLOW_MISSING") == "1")
    ap.add_argument("--rounds", type=int,
                    default=int(os.environ.get("LAB_POWERCUT_ROUNDS", "3")))
    ap.add_argument("--boots", type=int,
                    default=int(os.environ.get("LAB_COMPARE_BOOTS", "3")))
    ap.add_argument("--seed", type=int, default=int(
        os.environ.get("LAB_SEED", str(random.SystemRandom().getrandbits(31)))))
    args = ap.parse_args()
    lab = Lab(args.build, args.allow_missing)
    if args.command == "summary":
        return lab_results.write_summary(lab.out)
    if args.command == "plan" and (len(args.args) != 2 or
                                   args.args[0] not in FLAVOURS or
                                   args.args[1] not in KERNELS):
        ap.error(f"plan takes FLAVOUR ({'|'.join(FLAVOURS)}) and KERNEL "
                 f"({'|'.join(KERNELS)})")
    if args.command == "powercut" and (len(args.args) != 1 or
                                       args.args[0] not in KERNELS):
        ap.error(f"powercut takes KERNEL ({'|'.join(KERNELS)})")
    if args.command == "all":
        steps = [("prepare",)]
        steps += [("plan", f, k) for f in FLAVOURS for k in KERNELS
                  if f != "cxl" or k == "current"]
        steps += [("powercut", k) for k in KERNELS] + [("compare",)]
    else:
        steps = [(args.command, *args.args)]
    rc = 0
    try:
        for step in steps:
            if step[0] == "prepare":
                lab.prepare()
                (lab.out / lab_results.SESSION_STAMP).touch()
                print(f"lab: prepared: {json.dumps(lab.state)}")
            elif step[0] == "plan":
                rc |= lab.run_plan(step[1], step[2])
            elif step[0] == "powercut":
                lab.prepare()
                rc |= lab_powercut.run(lab, step[1], args.rounds, args.seed)
            elif step[0] == "compare":
                lab.prepare()
                rc |= lab_compare.run(lab, args.boots)
    except Skipped as e:
        print(f"lab: SKIPPED: {e}")
        (lab.out / "skipped.txt").write_text(str(e) + "\n")
        return SKIP
    if args.command == "all":
        rc |= lab_results.write_summary(lab.out)
    return 1 if rc else 0


if __name__ == "__main__":
    sys.exit(main())
