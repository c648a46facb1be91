#include "bench/faultbench/kernel_evidence.h"

#include "bench/faultbench/fault_check.h"

namespace daxkv::faultbench {
namespace {

using probe::DaxFaultPath;

std::string HitList(const std::map<std::string, uint64_t>& hits) {
  std::string out;
  for (const auto& [name, n] : hits) {
    if (n == 0) continue;
    if (!out.empty()) out += ", ";
    out += name + " " + std::to_string(n);
  }
  return out.empty() ? "none" : out;
}

std::string Join(const std::vector<std::string>& names, const char* sep) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : sep) + n;
  return out;
}

// `faults` minus the slack every fault model allows (faults the measuring
// thread takes outside the range).
uint64_t AtLeast(uint64_t faults) {
  uint64_t slack = 2 + faults / 100;
  return faults > slack ? faults - slack : 0;
}

std::map<std::string, uint64_t> Merge(
    std::map<std::string, uint64_t> a,
    const std::map<std::string, uint64_t>& b) {
  for (const auto& [name, n] : b) a[name] += n;
  return a;
}

}  // namespace

KernelEvidence& KernelEvidence::Get(EvidenceMode mode) {
  static KernelEvidence* instance = new KernelEvidence(mode);
  return *instance;
}

KernelEvidence::KernelEvidence(EvidenceMode mode) : mode_(mode) {
  if (mode == EvidenceMode::kOff) {
    why_not_ = "off (--kernel_functions=off)";
    return;
  }
  StatusOr<probe::KernelSymbols> symbols = probe::KernelSymbols::Load();
  if (!symbols.ok()) {
    why_not_ = symbols.status().ToString();
    return;
  }
  expected_ = probe::FaultPathFromSymbols(*symbols, &expected_why_);
  StatusOr<std::unique_ptr<probe::KprobeCounters>> k =
      probe::KprobeCounters::Create(*symbols, probe::DaxEvidenceFunctions());
  if (!k.ok()) {
    why_not_ = k.status().ToString();
    return;
  }
  counters_ = std::move(*k);
}

std::string KernelEvidence::Describe() const {
  if (!available()) return "unavailable: " + why_not_;
  return "kprobes on " + std::to_string(counters_->probed().size()) +
         " functions: " + Join(counters_->probed(), " ");
}

bool KernelEvidence::FirstRunOf(const std::string& case_name) {
  return done_.insert(case_name).second;
}

void KernelEvidence::RecordFailure(const std::string& case_name,
                                   const Status& why) {
  failed_.emplace(case_name, why);
}

Status KernelEvidence::EarlierFailure(const std::string& case_name) const {
  auto it = failed_.find(case_name);
  return it == failed_.end() ? OkStatus() : it->second;
}

StatusOr<CaseEvidence> KernelEvidence::Collect(
    const std::function<Status()>& setup,
    const std::function<uint64_t()>& touch) {
  if (!available()) {
    return FailedPreconditionError("no kernel-function evidence: " + why_not_);
  }
  DAXKV_RETURN_IF_ERROR(counters_->Enable());
  CaseEvidence e;
  Status s = OkStatus();
  StatusOr<std::map<std::string, uint64_t>> s0 = counters_->Read();
  if (s0.ok()) s = setup();
  StatusOr<std::map<std::string, uint64_t>> s1 = counters_->Read();
  if (s.ok() && s1.ok()) e.touch_faults = touch();
  StatusOr<std::map<std::string, uint64_t>> s2 = counters_->Read();
  Status off = counters_->Disable();
  for (const auto* r : {&s0, &s1, &s2}) {
    if (!r->ok()) return r->status();
  }
  DAXKV_RETURN_IF_ERROR(s);
  DAXKV_RETURN_IF_ERROR(off);
  e.setup = probe::HitsBetween(*s0, *s1);
  e.touch = probe::HitsBetween(*s1, *s2);
  e.path = probe::FaultPathFromHits(Merge(e.setup, e.touch), &e.path_why);
  return e;
}

Status KernelEvidence::Check(const std::string& name, const CaseEvidence& e,
                             probe::DaxEntryLevel level, bool fsdax,
                             bool upgrade) const {
  const std::string path = probe::DaxFaultPathName(expected_);
  if (e.path != DaxFaultPath::kUnknown && e.path != expected_) {
    return FailedPreconditionError(
        name + ": the kernel functions show the " +
        probe::DaxFaultPathName(e.path) + " path (" + e.path_why +
        ") but the kernel's symbols say " + path + " (" + expected_why_ + ")");
  }
  if (e.touch_faults == 0) return OkStatus();
  const uint64_t need = AtLeast(e.touch_faults);
  probe::FunctionGroups groups =
      upgrade ? probe::UpgradeFunctions(expected_, level, fsdax)
              : probe::FunctionGroups{probe::InsertFunctions(expected_, level)};
  for (const std::vector<std::string>& group : groups) {
    const uint64_t hits = probe::SumHits(e.touch, group);
    if (hits >= need) continue;
    return FailedPreconditionError(
        name + ": " + std::to_string(e.touch_faults) + " faults " +
        (upgrade ? "claim the " + path + " upgrade path (" +
                       probe::DaxEntryLevelName(level) + ")"
                 : "should each install a " + path + " " +
                       probe::DaxEntryLevelName(level)) +
        ", but " + Join(group, " / ") + " ran " + std::to_string(hits) +
        " times; the touch ran: " + HitList(e.touch));
  }
  return OkStatus();
}

void KernelEvidence::Publish(benchmark::State& state,
                             const CaseEvidence& e) const {
  for (const auto& [name, n] : e.touch) {
    state.counters["kfn." + name] = static_cast<double>(n);
  }
  for (const auto& [name, n] : e.setup) {
    if (n > 0) state.counters["kfn_setup." + name] = static_cast<double>(n);
  }
  state.counters["kfn_faults"] = static_cast<double>(e.touch_faults);
  // 1 legacy, 2 refcounted, 0 neither could be told (the label says why).
  state.counters["kfn_path"] = e.path == DaxFaultPath::kLegacy       ? 1
                               : e.path == DaxFaultPath::kRefcounted ? 2
                                                                     : 0;
}

}  // namespace daxkv::faultbench
