// Kernel-function evidence for the DAX touch cases: kprobe hit counts
// (probe/kernel_functions.h) of the functions in probe/fault_evidence.h over
// one extra, untimed run of the case, so no timed run ever carries a probe.
//
// The evidence goes into the case's JSON (counters kfn.<function> for the
// touch, kfn_setup.<function> for the preparation, kfn_faults, kfn_path)
// and is checked: the DAX entries must come from the path the kernel's own
// symbols name, every fault of the touch must have reached that path's
// insert function, and a case whose model claims an in-place upgrade must
// have reached the upgrade functions once per fault.
//
// Thread-safety: used from the benchmark thread only.
#ifndef DAXKV_BENCH_FAULTBENCH_KERNEL_EVIDENCE_H_
#define DAXKV_BENCH_FAULTBENCH_KERNEL_EVIDENCE_H_

#include <benchmark/benchmark.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "base/status.h"
#include "base/statusor.h"
#include "bench/faultbench/case_util.h"
#include "probe/fault_evidence.h"
#include "probe/kernel_functions.h"

namespace daxkv::faultbench {

struct CaseEvidence {
  std::map<std::string, uint64_t> setup;  // hits during the preparation
  std::map<std::string, uint64_t> touch;  // hits during the touch
  uint64_t touch_faults = 0;              // the touch's own fault count
  probe::DaxFaultPath path = probe::DaxFaultPath::kUnknown;
  std::string path_why;
};

class KernelEvidence {
 public:
  // The process-wide instance; the first call loads /proc/kallsyms and
  // places the probes (a few seconds under emulation).
  static KernelEvidence& Get(EvidenceMode mode);

  bool available() const { return counters_ != nullptr; }
  const std::string& unavailable_reason() const { return why_not_; }
  EvidenceMode mode() const { return mode_; }
  // The path the kernel's symbols name, and why.
  probe::DaxFaultPath expected_path() const { return expected_; }
  const std::string& expected_why() const { return expected_why_; }
  std::string Describe() const;  // for the run context

  // True once per case name: evidence is taken in a case's first run.
  bool FirstRunOf(const std::string& case_name);
  // A failed evidence check fails every later run of the case too: a
  // repetition set where only some runs failed would be aggregated.
  void RecordFailure(const std::string& case_name, const Status& why);
  Status EarlierFailure(const std::string& case_name) const;

  // Runs setup() and then touch() (which returns the faults it took) with
  // the probes armed; hits of each phase.
  StatusOr<CaseEvidence> Collect(const std::function<Status()>& setup,
                                 const std::function<uint64_t()>& touch);

  // The checks described above. `upgrade`: the case's matched model
  // claims an in-place upgrade.
  Status Check(const std::string& case_name, const CaseEvidence& e,
               probe::DaxEntryLevel level, bool fsdax, bool upgrade) const;

  // Counters and a label suffix for the case's JSON.
  void Publish(benchmark::State& state, const CaseEvidence& e) const;

 private:
  explicit KernelEvidence(EvidenceMode mode);

  EvidenceMode mode_;
  std::unique_ptr<probe::KprobeCounters> counters_;
  std::string why_not_;
  probe::DaxFaultPath expected_ = probe::DaxFaultPath::kUnknown;
  std::string expected_why_;
  std::set<std::string> done_;
  std::map<std::string, Status> failed_;
};

}  // namespace daxkv::faultbench

#endif  // DAXKV_BENCH_FAULTBENCH_KERNEL_EVIDENCE_H_
