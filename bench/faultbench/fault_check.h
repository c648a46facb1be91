// Validation of a measured fault count against what the case claims to
// measure. A benchmark figure is reported only when the faults it timed are
// the faults it names: a range that was already populated ("no faults
// taken"), a huge mapping that fell back to 4 KiB pages, or a fault-around
// window that differs from the model all fail the case loudly.
//
// Thread-safety: plain functions over values.
#ifndef DAXKV_BENCH_FAULTBENCH_FAULT_CHECK_H_
#define DAXKV_BENCH_FAULTBENCH_FAULT_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace daxkv::faultbench {

// One acceptable outcome: [min, max] faults, and why the model predicts it.
struct FaultExpectation {
  uint64_t min = 0;
  uint64_t max = 0;
  std::string model;  // "1 per 4 KiB page", "1 per 2 MiB PMD", ...
};

// `units` faults, one per `unit_bytes`, plus a small slack for faults the
// timing code itself may take (stack, a lazily mapped vDSO page).
FaultExpectation OnePer(size_t bytes, size_t unit_bytes,
                        const std::string& model);
// Zero faults: the access must be satisfied by existing page tables.
FaultExpectation NoFaults(const std::string& model);

// OK when `taken` fits one of `allowed`; otherwise FailedPrecondition with
// the case name, the count taken, every model and the likely cause.
Status CheckFaults(const std::string& case_name, uint64_t taken,
                   const std::vector<FaultExpectation>& allowed);

// The model of the first expectation `taken` fits ("" when none does).
std::string MatchingModel(uint64_t taken,
                          const std::vector<FaultExpectation>& allowed);

// Checks the huge-page census of a touched range: `huge_pages` of `pages`
// 4 KiB pages were reported PAGE_IS_HUGE. want_huge: all must be; else none.
Status CheckHuge(const std::string& case_name, uint64_t huge_pages,
                 uint64_t pages, bool want_huge);

}  // namespace daxkv::faultbench

#endif  // DAXKV_BENCH_FAULTBENCH_FAULT_CHECK_H_
