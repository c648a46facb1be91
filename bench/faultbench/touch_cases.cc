// First-touch read, write and read-then-write ("upgrade", the mkwrite path
// of seed 001) per backing and mapping granularity, with and without
// prefaulting, and upgrades of entries made read-only by mprotect or by a
// soft-dirty clear. DAX cases also record which kernel functions ran
// (kernel_evidence.h).
#include "bench/faultbench/touch_cases.h"

#include <string>
#include <vector>

#include "bench/faultbench/case_util.h"
#include "bench/faultbench/fault_check.h"
#include "bench/faultbench/kernel_evidence.h"
#include "bench/faultbench/touch_case.h"
#include "probe/discovery.h"
#include "probe/features.h"
#include "probe/mapping.h"
#include "probe/page_state.h"

namespace daxkv::faultbench {
namespace {

using probe::MappingBacking;

// Whether this machine can run the case; fills `why` when not.
bool Runnable(const TouchCase& c, probe::MappingOptions& o, std::string& why) {
  const Settings& s = settings();
  probe::ThpSettings thp = probe::ReadThpSettings();
  if (c.prefault == Prefault::kClearRefs) {
    static const probe::ProbeResult soft_dirty = probe::ProbeSoftDirty();
    if (!soft_dirty.available) return why = soft_dirty.detail, false;
  }
  if (c.backing == MappingBacking::kDevDax) {
    if (s.devdax.empty()) return why = "no --devdax device given", false;
    // One discovery per run: libndctl scans are slow under emulation.
    static const StatusOr<probe::DaxDevice> dev =
        probe::FindDaxDevice(s.devdax);
    size_t align = dev.ok() && dev->align ? dev->align : k2M;
    if (align != c.unit) {
      why = "device align is " + std::to_string(align / kKiB) + " KiB";
      return false;
    }
    if (dev.ok() && dev->size && dev->size < o.size) {
      o.size = dev->size / c.unit * c.unit;
    }
    o.path = s.devdax;
    return o.size >= c.unit || (why = "device smaller than one unit", false);
  }
  if (IsFsDax(c.backing)) {
    if (s.fsdax.empty()) return why = "no --fsdax directory given", false;
    o.path = s.fsdax;
  }
  if (c.backing == MappingBacking::kFileShared ||
      c.backing == MappingBacking::kFilePrivate) {
    o.path = s.file_dir;
  }
  if (c.backing == MappingBacking::kHugetlb) {
    if (thp.nr_hugepages * static_cast<int64_t>(k2M) <
        static_cast<int64_t>(o.size)) {
      why = "hugetlb pool has " + std::to_string(thp.nr_hugepages) +
            " pages (vm.nr_hugepages), need " + std::to_string(o.size / k2M);
      return false;
    }
  }
  if (c.unit == k2M && c.backing == MappingBacking::kAnon &&
      thp.enabled == "never") {
    return why = "THP enabled=never", false;
  }
  if (c.unit == k2M && c.prefault == Prefault::kMapPopulate &&
      (c.backing == MappingBacking::kAnon || IsShmem(c.backing)) &&
      thp.enabled != "always") {
    why =
        "MAP_POPULATE faults pages in before MADV_HUGEPAGE can be applied; "
        "THP enabled=" +
        thp.enabled + " gives 4 KiB pages";
    return false;
  }
  if (c.unit == k2M && IsShmem(c.backing) &&
      (thp.shmem_enabled == "never" || thp.shmem_enabled == "deny" ||
       thp.shmem_enabled.empty())) {
    why = "shmem THP shmem_enabled=" +
          (thp.shmem_enabled.empty() ? "unreadable" : thp.shmem_enabled);
    return false;
  }
  return true;
}

inline uint64_t Touch(char* p, bool write) {
  if (write) {
    *static_cast<volatile char*>(p) = 1;
    return 0;
  }
  return *static_cast<volatile char*>(p);
}

// Touches one byte every `stride`; only the touches at multiples of
// `sample_stride` (the first touch of each expected fault) read the clock,
// so the pages in between cost a bare load or store.
uint64_t TimedTouch(char* p, size_t size, size_t stride, size_t sample_stride,
                    bool write, CaseStats& stats) {
  std::vector<uint64_t>& samples = stats.samples();
  uint64_t sink = 0;
  for (size_t off = 0; off < size; off += stride) {
    if (off % sample_stride != 0) {
      sink += Touch(p + off, write);
      continue;
    }
    uint64_t t0 = NowNs();
    sink += Touch(p + off, write);
    uint64_t t1 = NowNs();
    if (samples.size() < samples.capacity()) samples.push_back(t1 - t0);
  }
  return sink;
}

// After the timed touch, every 4 KiB page must be mapped for the access
// made: an untimed sweep that faults means a fault mapped less than its
// unit (a PMD that was split, a shorter fault-around). Works without
// PAGEMAP_SCAN, so it also guards the lab's 6.1 kernel.
Status SweepTakesNoFaults(const std::string& name, char* p, size_t size,
                          bool write) {
  FaultWindow w;
  uint64_t sink = 0;
  for (size_t off = 0; off < size; off += k4K) {
    if (write) {
      *static_cast<volatile char*>(p + off) = 2;
    } else {
      sink += *static_cast<volatile char*>(p + off);
    }
  }
  benchmark::DoNotOptimize(sink);
  uint64_t faults = w.Faults();
  if (faults <= 2) return OkStatus();
  return FailedPreconditionError(
      name + ": a sweep of every 4 KiB page after the timed touch took " +
      std::to_string(faults) +
      " faults: the timed faults did not map their whole unit");
}

// Untimed read of every page (the first half of an upgrade).
// (A plain load: benchmark::DoNotOptimize on the byte may store it back.)
uint64_t ReadAll(char* p, size_t size) {
  uint64_t sink = 0;
  for (size_t off = 0; off < size; off += k4K) {
    sink += *static_cast<volatile char*>(p + off);
  }
  return sink;
}

// Writes a stretch of stack: after clear_refs write-protected the whole
// process, the timed touch's own stack must not take the faults.
void RewriteStack() {
  volatile char pad[64 * 1024];
  for (size_t i = 0; i < sizeof(pad); i += 512) pad[i] = 0;
}

// Resets page tables, applies the prefault (or the upgrade variant's
// write-protection); returns its cost in ns.
StatusOr<uint64_t> Prepare(const TouchCase& c, probe::Mapping& m,
                           uint64_t& prefault_faults, CaseStats& stats) {
  if (c.prefault == Prefault::kMapPopulate) {
    FaultWindow w;
    DAXKV_RETURN_IF_ERROR(m.Remap(/*map_populate=*/true));
    prefault_faults = w.Faults();
    return w.ElapsedNs();
  }
  if (c.prefault == Prefault::kMprotect) {
    DAXKV_RETURN_IF_ERROR(m.SetWritable(false));
  }
  DAXKV_RETURN_IF_ERROR(m.Discard());
  if (c.op == Op::kUpgrade)
    benchmark::DoNotOptimize(ReadAll(m.data(), m.size()));
  if (c.prefault == Prefault::kNone) return uint64_t{0};
  FaultWindow w;
  switch (c.prefault) {
    case Prefault::kPopulateRead:
      DAXKV_RETURN_IF_ERROR(m.PopulateRead());
      break;
    case Prefault::kPopulateWrite:
      DAXKV_RETURN_IF_ERROR(m.PopulateWrite());
      break;
    case Prefault::kMprotect:
      DAXKV_RETURN_IF_ERROR(m.SetWritable(true));
      break;
    case Prefault::kClearRefs:
      DAXKV_RETURN_IF_ERROR(probe::ClearSoftDirty());
      break;
    default:
      break;
  }
  prefault_faults = w.Faults();
  const uint64_t ns = w.ElapsedNs();
  if (c.prefault == Prefault::kClearRefs) {
    stats.RewriteSamples();
    RewriteStack();
  }
  return ns;
}

// Every page must be mapped after the touch, and PMD/PUD vs PTE must match
// (PAGE_IS_HUGE). Without PAGEMAP_SCAN the fault count alone is evidence.
Status CheckMappingSize(const std::string& name, const probe::Mapping& m,
                        bool want_huge, bool& checked) {
  StatusOr<probe::PageScanResult> r = probe::ScanPages(m.begin(), m.end());
  checked = r.ok() && r->method == probe::PageScanMethod::kPagemapScan;
  if (!checked) return OkStatus();
  uint64_t pages = m.size() / k4K;
  uint64_t present = r->CountPages(probe::kPageIsPresent);
  if (present != pages) {
    return FailedPreconditionError(name + ": " + std::to_string(present) +
                                   " of " + std::to_string(pages) +
                                   " pages present after the touch");
  }
  return CheckHuge(name, r->CountPages(probe::kPageIsHuge), pages, want_huge);
}

probe::MappingOptions OptionsFor(const TouchCase& c) {
  probe::MappingOptions o;
  o.backing = c.backing;
  o.size = (settings().region_bytes + c.unit - 1) / c.unit * c.unit;
  // 2 MiB alignment even for 4 KiB cases: fault-around windows then tile
  // the range exactly, and only the THP advice decides PMD vs PTE.
  o.alignment = std::max(c.unit, k2M);
  o.read_only = c.prefault == Prefault::kMprotect;  // PROT_READ at first
  if (c.backing != MappingBacking::kDevDax &&
      c.backing != MappingBacking::kHugetlb) {
    o.thp = c.unit == k4K ? probe::ThpAdvice::kNoHugePage
                          : probe::ThpAdvice::kHugePage;
  }
  return o;
}

// Every check of one timed touch that took `faults`; `label` gets the
// matching model.
Status Validate(const TouchCase& c, probe::Mapping& m, uint64_t faults,
                const std::vector<FaultExpectation>& expected,
                std::string& label) {
  DAXKV_RETURN_IF_ERROR(CheckFaults(c.name, faults, expected));
  bool huge_checked = false;
  bool want_huge =
      c.unit > k4K && !(c.op == Op::kUpgrade && faults > m.size() / k2M + 8);
  DAXKV_RETURN_IF_ERROR(CheckMappingSize(c.name, m, want_huge, huge_checked));
  // A shared page-cache file is swept with reads: writeback may clean and
  // write-protect pages the touch dirtied (page_mkclean) before the sweep,
  // which then faults for a reason that is not the mapping's size.
  const bool sweep_writes =
      c.op != Op::kRead && c.backing != MappingBacking::kFileShared;
  DAXKV_RETURN_IF_ERROR(
      SweepTakesNoFaults(c.name, m.data(), m.size(), sweep_writes));
  label = std::string(huge_checked ? "huge-checked " : "") +
          "model: " + MatchingModel(faults, expected);
  return OkStatus();
}

// The untimed evidence run of a DAX case (its first run only): the same
// preparation and touch with kprobes armed, checked and published.
void AddKernelEvidence(benchmark::State& state, const TouchCase& c,
                       probe::Mapping& m, size_t stride, size_t sample_stride,
                       const std::vector<FaultExpectation>& expected,
                       std::string& label) {
  KernelEvidence& ev = KernelEvidence::Get(settings().kernel_functions);
  if (!ev.FirstRunOf(c.name)) {
    Status earlier = ev.EarlierFailure(c.name);
    if (!earlier.ok()) FailCase(state, earlier);
    return;
  }
  if (!ev.available()) {
    if (ev.mode() == EvidenceMode::kOn) {
      Status why = FailedPreconditionError(
          c.name + ": --kernel_functions=on but " + ev.unavailable_reason());
      ev.RecordFailure(c.name, why);
      FailCase(state, why);
    }
    return;
  }
  CaseStats scratch(m.size() / sample_stride);
  uint64_t prefault_faults = 0;
  StatusOr<CaseEvidence> e = ev.Collect(
      [&] { return Prepare(c, m, prefault_faults, scratch).status(); },
      [&] {
        FaultWindow w;
        benchmark::DoNotOptimize(TimedTouch(m.data(), m.size(), stride,
                                            sample_stride, c.op != Op::kRead,
                                            scratch));
        return w.Faults();
      });
  Status check = e.status();
  if (check.ok()) {
    check = CheckFaults(c.name + " (kprobe run)", e->touch_faults, expected);
  }
  if (check.ok()) {
    bool upgrade = IsUpgradeModel(MatchingModel(e->touch_faults, expected));
    check = ev.Check(c.name, *e, probe::DaxEntryLevelFor(c.unit),
                     IsFsDax(c.backing), upgrade);
  }
  if (!check.ok()) {
    ev.RecordFailure(c.name, check);
    return FailCase(state, check);
  }
  ev.Publish(state, *e);
  label += std::string(" | kernel path: ") + probe::DaxFaultPathName(e->path) +
           " (" + e->path_why + ")";
}

void RunTouch(benchmark::State& state, TouchCase c) {
  probe::MappingOptions o = OptionsFor(c);
  std::string why;
  if (!Runnable(c, o, why)) return SkipCase(state, why);
  StatusOr<std::unique_ptr<probe::Mapping>> m = probe::Mapping::Create(o);
  if (!m.ok()) return SkipCase(state, m.status().ToString());
  // Device-dax memory is written once, untimed, before any timed run (the
  // fsdax and page-cache files are written when created): the first store
  // to a physical page can cost far more than the fault (under QEMU the
  // host allocates the guest's memory then, milliseconds per 2 MiB), and
  // would land in the first timed iteration only.
  if (c.backing == MappingBacking::kDevDax) {
    Status warm = (*m)->PopulateWrite();
    if (warm.ok()) warm = (*m)->Discard();
    if (!warm.ok()) return SkipCase(state, warm.ToString());
  }
  const size_t around = probe::FaultAroundBytes().bytes;
  // One timed sample per expected fault; an upgrade writes every page,
  // since a read-only PMD may be split and COWed per 4 KiB.
  const size_t sample_stride = (c.op == Op::kRead && IsPageCache(c.backing) &&
                                c.unit == k4K && c.prefault == Prefault::kNone)
                                   ? around
                                   : std::min(c.unit, k2M);
  const size_t stride = c.op == Op::kUpgrade ? k4K : sample_stride;
  const std::vector<FaultExpectation> expected = Expected(c, o.size, around);
  CaseStats stats(o.size / sample_stride);
  uint64_t prefault_ns_total = 0;
  std::string label;
  bool failed = false;
  for (auto _ : state) {
    uint64_t prefault_faults = 0;
    StatusOr<uint64_t> prefault_ns = Prepare(c, **m, prefault_faults, stats);
    if (!prefault_ns.ok()) {
      SkipCase(state, prefault_ns.status().ToString());
      failed = true;
      break;
    }
    FaultWindow w;
    benchmark::DoNotOptimize(TimedTouch(
        (*m)->data(), o.size, stride, sample_stride, c.op != Op::kRead, stats));
    uint64_t ns = w.ElapsedNs(), faults = w.Faults(), cpu_ns = w.CpuNs();
    Status check = Validate(c, **m, faults, expected, label);
    if (!check.ok()) {
      FailCase(state, check);
      failed = true;
      break;
    }
    state.SetIterationTime(static_cast<double>(ns + *prefault_ns) * 1e-9);
    stats.Add(ns, faults, o.size, o.size / sample_stride, cpu_ns);
    prefault_ns_total += *prefault_ns;
    state.counters["prefault_faults"] = static_cast<double>(prefault_faults);
  }
  if (!failed && IsDax(c.backing) &&
      settings().kernel_functions != EvidenceMode::kOff) {
    AddKernelEvidence(state, c, **m, stride, sample_stride, expected, label);
  }
  state.SetLabel(label);
  stats.Publish(state);
  double iters = static_cast<double>(std::max<int64_t>(state.iterations(), 1));
  state.counters["prefault_ns"] =
      static_cast<double>(prefault_ns_total) / iters;
  // What the engine pays per page: prefault (if any) plus the touch.
  state.counters["total_ns_per_page"] =
      state.counters["ns_per_page"] + static_cast<double>(prefault_ns_total) /
                                          iters /
                                          (static_cast<double>(o.size) / k4K);
}

}  // namespace

void RegisterTouchCases() {
  struct Backing {
    MappingBacking b;
    std::vector<size_t> units;
  };
  const std::vector<Backing> backings = {
      {MappingBacking::kAnon, {k4K, k2M}},
      {MappingBacking::kMemfd, {k4K, k2M}},
      {MappingBacking::kShmemFile, {k4K}},
      {MappingBacking::kFileShared, {k4K}},
      {MappingBacking::kFilePrivate, {k4K}},
      {MappingBacking::kHugetlb, {k2M}},
      {MappingBacking::kDevDax, {k4K, k2M, size_t{1} << 30}},
      {MappingBacking::kFsDax, {k4K, k2M}},
      {MappingBacking::kFsDaxSync, {k4K, k2M}},
  };
  const std::vector<std::pair<Op, Prefault>> ops = {
      {Op::kRead, Prefault::kNone},
      {Op::kWrite, Prefault::kNone},
      {Op::kUpgrade, Prefault::kNone},
      {Op::kRead, Prefault::kPopulateRead},
      {Op::kWrite, Prefault::kPopulateWrite},
      {Op::kWrite, Prefault::kMapPopulate},
      {Op::kUpgrade, Prefault::kMprotect},
      {Op::kUpgrade, Prefault::kClearRefs},
  };
  for (const Backing& b : backings) {
    for (size_t unit : b.units) {
      for (const auto& [op, prefault] : ops) {
        // Write-protected upgrades: where writenotify is the question.
        if ((prefault == Prefault::kMprotect ||
             prefault == Prefault::kClearRefs) &&
            !IsDax(b.b) && b.b != MappingBacking::kFileShared) {
          continue;
        }
        std::string name =
            std::string("touch/") + probe::MappingBackingName(b.b) + "/" +
            UnitName(unit) + "/" + OpName(op) + PrefaultName(prefault);
        TouchCase c{b.b, unit, op, prefault, name};
        RegisterCase(name, [c](benchmark::State& s, const std::string&) {
          RunTouch(s, c);
        });
      }
    }
  }
}

}  // namespace daxkv::faultbench
