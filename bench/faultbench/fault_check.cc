#include "bench/faultbench/fault_check.h"

namespace daxkv::faultbench {

FaultExpectation OnePer(size_t bytes, size_t unit_bytes,
                        const std::string& model) {
  uint64_t n = unit_bytes ? bytes / unit_bytes : 0;
  // Slack for faults the measuring thread takes outside the range: a stack
  // page, the timer's vDSO data. Never enough to hide a PMD -> PTE fallback
  // (512x) or a fault-around change (16x).
  uint64_t slack = 2 + n / 100;
  return {n, n + slack, model};
}

FaultExpectation NoFaults(const std::string& model) { return {0, 2, model}; }

Status CheckFaults(const std::string& case_name, uint64_t taken,
                   const std::vector<FaultExpectation>& allowed) {
  std::string models;
  bool all_expect_faults = !allowed.empty();
  for (const FaultExpectation& e : allowed) {
    if (taken >= e.min && taken <= e.max) return OkStatus();
    if (!models.empty()) models += " or ";
    models += "[" + std::to_string(e.min) + ", " + std::to_string(e.max) +
              "] (" + e.model + ")";
    if (e.min == 0) all_expect_faults = false;
  }
  std::string msg = case_name + ": took " + std::to_string(taken) +
                    " faults, expected " + models;
  if (taken == 0 && all_expect_faults) {
    msg += ": no faults taken (the range was already populated)";
  } else if (!allowed.empty() && taken > allowed.front().max) {
    msg +=
        ": more faults than modelled (huge mapping fell back to PTEs, "
        "or fault-around differs)";
  } else {
    msg +=
        ": fewer faults than modelled (pages already mapped, or larger "
        "mappings than modelled)";
  }
  return FailedPreconditionError(msg);
}

std::string MatchingModel(uint64_t taken,
                          const std::vector<FaultExpectation>& allowed) {
  for (const FaultExpectation& e : allowed) {
    if (taken >= e.min && taken <= e.max) return e.model;
  }
  return "";
}

Status CheckHuge(const std::string& case_name, uint64_t huge_pages,
                 uint64_t pages, bool want_huge) {
  if (want_huge && huge_pages != pages) {
    return FailedPreconditionError(
        case_name + ": only " + std::to_string(huge_pages) + " of " +
        std::to_string(pages) + " pages PAGE_IS_HUGE; expected a PMD mapping");
  }
  if (!want_huge && huge_pages != 0) {
    return FailedPreconditionError(
        case_name + ": " + std::to_string(huge_pages) + " of " +
        std::to_string(pages) + " pages PAGE_IS_HUGE; expected 4 KiB PTEs");
  }
  return OkStatus();
}

}  // namespace daxkv::faultbench
