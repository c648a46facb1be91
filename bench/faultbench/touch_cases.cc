// First-touch read, write and read-then-write ("upgrade", the mkwrite path
// of seed 001) per backing and mapping granularity, with and without
// prefaulting.
#include "bench/faultbench/touch_cases.h"

#include <string>
#include <vector>

#include "bench/faultbench/case_util.h"
#include "bench/faultbench/fault_check.h"
#include "dax/discovery.h"
#include "dax/features.h"
#include "dax/mapping.h"
#include "dax/page_state.h"

namespace daxkv::faultbench {
namespace {

using dax::MappingBacking;

enum class Op { kRead, kWrite, kUpgrade };
enum class Prefault { kNone, kPopulateRead, kPopulateWrite, kMapPopulate };

struct TouchCase {
  MappingBacking backing;
  size_t unit;  // mapping granularity: 4 KiB, 2 MiB or 1 GiB
  Op op;
  Prefault prefault;
  std::string name;
};

const char* OpName(Op op) {
  return op == Op::kRead ? "read" : op == Op::kWrite ? "write" : "upgrade";
}
const char* PrefaultName(Prefault p) {
  switch (p) {
    case Prefault::kNone:
      return "";
    case Prefault::kPopulateRead:
      return "/populate_read";
    case Prefault::kPopulateWrite:
      return "/populate_write";
    case Prefault::kMapPopulate:
      return "/map_populate";
  }
  return "";
}
std::string UnitName(size_t unit) {
  return unit == k4K ? "4k" : unit == k2M ? "2m" : "1g";
}

bool IsShmem(MappingBacking b) {
  return b == MappingBacking::kMemfd || b == MappingBacking::kShmemFile;
}
bool IsPageCache(MappingBacking b) {
  return IsShmem(b) || b == MappingBacking::kFileShared ||
         b == MappingBacking::kFilePrivate;
}
bool IsFsDax(MappingBacking b) {
  return b == MappingBacking::kFsDax || b == MappingBacking::kFsDaxSync;
}
bool IsPrivate(MappingBacking b) {
  return b == MappingBacking::kAnon || b == MappingBacking::kFilePrivate ||
         b == MappingBacking::kHugetlb;
}

std::string UnitModel(size_t unit) {
  return unit == k4K   ? "1 fault per 4 KiB PTE"
         : unit == k2M ? "1 fault per 2 MiB PMD"
                       : "1 fault per 1 GiB PUD";
}

// ext4 (6.16+) and other filesystems cache files in large folios, and a
// fault may map a whole folio: between one fault per 2 MiB and one per page.
FaultExpectation PerPageOrFolio(size_t size, size_t page_unit,
                                const std::string& model) {
  FaultExpectation e = OnePer(size, page_unit, model);
  e.min = std::max<uint64_t>(1, size / k2M);
  e.model += ", or fewer where a large page-cache folio is mapped whole";
  return e;
}

// What a write to pages that a read fault already mapped costs.
std::vector<FaultExpectation> UpgradeModels(const TouchCase& c, size_t size) {
  const MappingBacking b = c.backing;
  if (b == MappingBacking::kAnon && c.unit == k2M) {
    return {OnePer(size, k2M, "huge zero PMD replaced by a THP (6.12+)"),
            OnePer(size, k4K, "huge zero PMD split, COW per 4 KiB")};
  }
  if (b == MappingBacking::kAnon) {
    return {OnePer(size, k4K, "COW of the shared zero page")};
  }
  if (b == MappingBacking::kFilePrivate) {
    return {OnePer(size, k4K, "COW of the page-cache page")};
  }
  if (b == MappingBacking::kHugetlb) {
    return {OnePer(size, c.unit, "write-protect fault per huge page")};
  }
  if (b == MappingBacking::kFileShared) {
    return {PerPageOrFolio(size, k4K,
                           "write-protect fault + page_mkwrite per page")};
  }
  std::string mk = UnitModel(c.unit) +
                   ": read-only entry upgraded in place "
                   "(mkwrite)";
  std::string none =
      "read fault mapped the entry writable already (no writenotify)";
  if (IsFsDax(b)) return {OnePer(size, c.unit, mk), NoFaults(none)};
  return {NoFaults(none), OnePer(size, c.unit, mk)};  // shmem, devdax
}

std::vector<FaultExpectation> Expected(const TouchCase& c, size_t size,
                                       size_t fault_around) {
  const MappingBacking b = c.backing;
  switch (c.op) {
    case Op::kRead:
      if (c.prefault == Prefault::kPopulateRead) {
        return {NoFaults("MADV_POPULATE_READ mapped every page")};
      }
      if (IsPageCache(b) && c.unit == k4K) {
        std::string model = "1 read fault per " +
                            std::to_string(fault_around / kKiB) +
                            " KiB fault-around window";
        if (IsShmem(b)) return {OnePer(size, fault_around, model)};
        return {PerPageOrFolio(size, fault_around, model)};
      }
      return {OnePer(size, c.unit, UnitModel(c.unit))};
    case Op::kWrite:
      if (c.prefault == Prefault::kPopulateWrite) {
        return {NoFaults("MADV_POPULATE_WRITE mapped every page writable")};
      }
      if (c.prefault == Prefault::kMapPopulate) {
        if (IsPrivate(b)) {
          return {NoFaults("MAP_POPULATE write-faulted the private mapping")};
        }
        return UpgradeModels(c, size);  // MAP_POPULATE read-faults shared
      }
      if (b == MappingBacking::kFileShared) {
        return {PerPageOrFolio(size, k4K, "1 write fault per page")};
      }
      return {OnePer(size, c.unit, UnitModel(c.unit))};
    case Op::kUpgrade:
      return UpgradeModels(c, size);
  }
  return {};
}

// Whether this machine can run the case; fills `why` when not.
bool Runnable(const TouchCase& c, dax::MappingOptions& o, std::string& why) {
  const Settings& s = settings();
  dax::ThpSettings thp = dax::ReadThpSettings();
  if (c.backing == MappingBacking::kDevDax) {
    if (s.devdax.empty()) return why = "no --devdax device given", false;
    // One discovery per run: libndctl scans are slow under emulation.
    static const StatusOr<dax::DaxDevice> dev = dax::FindDaxDevice(s.devdax);
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

// Resets page tables, applies the prefault; returns its cost in ns.
StatusOr<uint64_t> Prepare(const TouchCase& c, dax::Mapping& m,
                           uint64_t& prefault_faults) {
  if (c.prefault == Prefault::kMapPopulate) {
    FaultWindow w;
    DAXKV_RETURN_IF_ERROR(m.Remap(/*map_populate=*/true));
    prefault_faults = w.Faults();
    return w.ElapsedNs();
  }
  DAXKV_RETURN_IF_ERROR(m.Discard());
  if (c.op == Op::kUpgrade)
    benchmark::DoNotOptimize(ReadAll(m.data(), m.size()));
  if (c.prefault == Prefault::kNone) return uint64_t{0};
  FaultWindow w;
  DAXKV_RETURN_IF_ERROR(c.prefault == Prefault::kPopulateRead
                            ? m.PopulateRead()
                            : m.PopulateWrite());
  prefault_faults = w.Faults();
  return w.ElapsedNs();
}

// Every page must be mapped after the touch, and PMD/PUD vs PTE must match
// (PAGE_IS_HUGE). Without PAGEMAP_SCAN the fault count alone is evidence.
Status CheckMappingSize(const std::string& name, const dax::Mapping& m,
                        bool want_huge, bool& checked) {
  StatusOr<dax::PageScanResult> r = dax::ScanPages(m.begin(), m.end());
  checked = r.ok() && r->method == dax::PageScanMethod::kPagemapScan;
  if (!checked) return OkStatus();
  uint64_t pages = m.size() / k4K;
  uint64_t present = r->CountPages(dax::kPageIsPresent);
  if (present != pages) {
    return FailedPreconditionError(name + ": " + std::to_string(present) +
                                   " of " + std::to_string(pages) +
                                   " pages present after the touch");
  }
  return CheckHuge(name, r->CountPages(dax::kPageIsHuge), pages, want_huge);
}

dax::MappingOptions OptionsFor(const TouchCase& c) {
  dax::MappingOptions o;
  o.backing = c.backing;
  o.size = (settings().region_bytes + c.unit - 1) / c.unit * c.unit;
  // 2 MiB alignment even for 4 KiB cases: fault-around windows then tile
  // the range exactly, and only the THP advice decides PMD vs PTE.
  o.alignment = std::max(c.unit, k2M);
  if (c.backing != MappingBacking::kDevDax &&
      c.backing != MappingBacking::kHugetlb) {
    o.thp =
        c.unit == k4K ? dax::ThpAdvice::kNoHugePage : dax::ThpAdvice::kHugePage;
  }
  return o;
}

// Every check of one timed touch that took `faults`; `label` gets the
// matching model.
Status Validate(const TouchCase& c, dax::Mapping& m, uint64_t faults,
                const std::vector<FaultExpectation>& expected,
                std::string& label) {
  DAXKV_RETURN_IF_ERROR(CheckFaults(c.name, faults, expected));
  bool huge_checked = false;
  bool want_huge =
      c.unit > k4K && !(c.op == Op::kUpgrade && faults > m.size() / k2M + 8);
  DAXKV_RETURN_IF_ERROR(CheckMappingSize(c.name, m, want_huge, huge_checked));
  DAXKV_RETURN_IF_ERROR(
      SweepTakesNoFaults(c.name, m.data(), m.size(), c.op != Op::kRead));
  label = std::string(huge_checked ? "huge-checked " : "") +
          "model: " + MatchingModel(faults, expected);
  return OkStatus();
}

void RunTouch(benchmark::State& state, TouchCase c) {
  dax::MappingOptions o = OptionsFor(c);
  std::string why;
  if (!Runnable(c, o, why)) return SkipCase(state, why);
  StatusOr<std::unique_ptr<dax::Mapping>> m = dax::Mapping::Create(o);
  if (!m.ok()) return SkipCase(state, m.status().ToString());
  const size_t around = dax::FaultAroundBytes().bytes;
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
  for (auto _ : state) {
    uint64_t prefault_faults = 0;
    StatusOr<uint64_t> prefault_ns = Prepare(c, **m, prefault_faults);
    if (!prefault_ns.ok()) {
      SkipCase(state, prefault_ns.status().ToString());
      break;
    }
    FaultWindow w;
    benchmark::DoNotOptimize(TimedTouch(
        (*m)->data(), o.size, stride, sample_stride, c.op != Op::kRead, stats));
    uint64_t ns = w.ElapsedNs(), faults = w.Faults(), cpu_ns = w.CpuNs();
    std::string label;
    Status check = Validate(c, **m, faults, expected, label);
    if (!check.ok()) {
      FailCase(state, check);
      break;
    }
    state.SetIterationTime(static_cast<double>(ns + *prefault_ns) * 1e-9);
    stats.Add(ns, faults, o.size, o.size / sample_stride, cpu_ns);
    prefault_ns_total += *prefault_ns;
    state.counters["prefault_faults"] = static_cast<double>(prefault_faults);
    state.SetLabel(label);
  }
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
  };
  for (const Backing& b : backings) {
    for (size_t unit : b.units) {
      for (const auto& [op, prefault] : ops) {
        std::string name = std::string("touch/") +
                           dax::MappingBackingName(b.b) + "/" + UnitName(unit) +
                           "/" + OpName(op) + PrefaultName(prefault);
        TouchCase c{b.b, unit, op, prefault, name};
        RegisterCase(name, [c](benchmark::State& s, const std::string&) {
          RunTouch(s, c);
        });
      }
    }
  }
}

}  // namespace daxkv::faultbench
