// The fault models of the first-touch cases: how many faults a touch of N
// bytes should take on each backing, granularity and preparation, and why.
#include <algorithm>

#include "bench/faultbench/touch_case.h"

namespace daxkv::faultbench {
namespace {

using probe::MappingBacking;

constexpr char kUpgraded[] = "upgraded in place";

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

// A write fault per read-only DAX entry, upgraded in place: fsdax through
// ->pfn_mkwrite and the insert function (mkwrite); device-dax PMDs through
// ->huge_fault and the insert function; device-dax PTEs in do_wp_page
// alone (device-dax has no mkwrite callback).
FaultExpectation DaxUpgrade(const TouchCase& c, size_t size) {
  std::string how = IsFsDax(c.backing) || c.unit > k4K
                        ? " (mkwrite)"
                        : " (write-protect fault, page reused)";
  return OnePer(size, c.unit,
                UnitModel(c.unit) + ": read-only entry " + kUpgraded + how);
}

FaultExpectation NoWritenotify() {
  return NoFaults(
      "read fault mapped the entry writable already (no writenotify)");
}

// Writes after the range was read and then write-protected by mprotect
// (mapped PROT_READ first) or by clearing soft-dirty.
std::vector<FaultExpectation> ProtectedUpgradeModels(const TouchCase& c,
                                                     size_t size) {
  const MappingBacking b = c.backing;
  if (b == MappingBacking::kFileShared) {
    return {PerPageOrFolio(size, k4K,
                           "write-protect fault + page_mkwrite per page")};
  }
  if (c.prefault == Prefault::kMprotect && b == MappingBacking::kDevDax) {
    // Device-dax wants no writenotify, so mprotect may make the present
    // entries writable itself; which happened is the finding.
    return {DaxUpgrade(c, size),
            NoFaults("mprotect made the present entries writable (no "
                     "writenotify on device-dax)")};
  }
  return {DaxUpgrade(c, size)};
}

// What a write to pages that a read fault already mapped costs.
std::vector<FaultExpectation> UpgradeModels(const TouchCase& c, size_t size) {
  const MappingBacking b = c.backing;
  if (c.prefault == Prefault::kMprotect || c.prefault == Prefault::kClearRefs) {
    return ProtectedUpgradeModels(c, size);
  }
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
  if (IsFsDax(b)) return {DaxUpgrade(c, size), NoWritenotify()};
  return {NoWritenotify(), DaxUpgrade(c, size)};  // shmem, devdax
}

}  // namespace

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
    case Prefault::kMprotect:
      return "/mprotect";
    case Prefault::kClearRefs:
      return "/clear_refs";
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
bool IsDax(MappingBacking b) {
  return IsFsDax(b) || b == MappingBacking::kDevDax;
}
bool IsPrivate(MappingBacking b) {
  return b == MappingBacking::kAnon || b == MappingBacking::kFilePrivate ||
         b == MappingBacking::kHugetlb;
}

bool IsUpgradeModel(const std::string& model) {
  return model.find(kUpgraded) != std::string::npos;
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

}  // namespace daxkv::faultbench
