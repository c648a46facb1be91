// One first-touch case ("touch/<backing>/<unit>/<op>[/<variant>]") and the
// fault models it is validated against.
//
// Thread-safety: plain values and functions.
#ifndef DAXKV_BENCH_FAULTBENCH_TOUCH_CASE_H_
#define DAXKV_BENCH_FAULTBENCH_TOUCH_CASE_H_

#include <string>
#include <vector>

#include "bench/faultbench/case_util.h"
#include "bench/faultbench/fault_check.h"
#include "probe/mapping.h"

namespace daxkv::faultbench {

enum class Op { kRead, kWrite, kUpgrade };

// How the range is prepared before the timed touch.
enum class Prefault {
  kNone,
  kPopulateRead,   // MADV_POPULATE_READ
  kPopulateWrite,  // MADV_POPULATE_WRITE
  kMapPopulate,    // munmap + mmap(MAP_POPULATE)
  // Upgrade variants: how the entries the read faults mapped become
  // read-only before the timed write (none: they stay as the read fault
  // made them).
  kMprotect,   // mapped PROT_READ, read, then mprotect(PROT_READ|PROT_WRITE)
  kClearRefs,  // read, then "4" > /proc/self/clear_refs (soft-dirty clear)
};

struct TouchCase {
  probe::MappingBacking backing;
  size_t unit;  // mapping granularity: 4 KiB, 2 MiB or 1 GiB
  Op op;
  Prefault prefault;
  std::string name;
};

const char* OpName(Op op);
const char* PrefaultName(Prefault p);  // "" or "/populate_read", ...
std::string UnitName(size_t unit);     // "4k", "2m", "1g"

bool IsShmem(probe::MappingBacking b);
bool IsPageCache(probe::MappingBacking b);
bool IsFsDax(probe::MappingBacking b);
bool IsDax(probe::MappingBacking b);
bool IsPrivate(probe::MappingBacking b);

// The outcomes the case may have for `size` bytes; the first one that the
// measured fault count fits names the model. `fault_around` is the
// kernel's fault-around window.
std::vector<FaultExpectation> Expected(const TouchCase& c, size_t size,
                                       size_t fault_around);

// Whether an outcome is a write fault on a present read-only entry that
// the kernel upgrades in place (the mkwrite path of seed 001).
bool IsUpgradeModel(const std::string& model);

}  // namespace daxkv::faultbench

#endif  // DAXKV_BENCH_FAULTBENCH_TOUCH_CASE_H_
