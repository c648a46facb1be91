// Shared plumbing of daxkv-faultbench cases: per-touch timing, counters,
// and the loud failure / reasoned skip that every case ends with.
//
// Thread-safety: a TouchTimer belongs to one benchmark thread; the failure
// count is atomic.
#ifndef DAXKV_BENCH_FAULTBENCH_CASE_UTIL_H_
#define DAXKV_BENCH_FAULTBENCH_CASE_UTIL_H_

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "probe/system_info.h"

namespace daxkv::faultbench {

constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * kKiB;
constexpr size_t k4K = 4 * kKiB;
constexpr size_t k2M = 2 * kMiB;

// --kernel_functions: off; auto (when root and tracefs allow); on (a DAX
// case without kernel-function evidence fails).
enum class EvidenceMode { kOff, kAuto, kOn };
bool ParseEvidenceMode(const std::string& text, EvidenceMode* mode);

// Run-wide settings from the command line.
struct Settings {
  std::string devdax;             // "" = no devdax case
  std::string fsdax;              // directory on an fsdax mount; "" = none
  std::string file_dir = "/tmp";  // block-backed dir for page-cache files
  bool short_mode = false;
  size_t region_bytes = 64 * kMiB;  // per case and iteration
  int repetitions = 5;
  int iterations = 3;
  EvidenceMode kernel_functions = EvidenceMode::kAuto;
};
const Settings& settings();
void SetSettings(const Settings& s);

// Ends a case whose figure cannot be trusted: "validation failed: ..." and
// the process exits non-zero at the end of the run.
void FailCase(benchmark::State& state, const Status& why);
// Ends a case that cannot run here: "skipped: ..." (exit code unaffected).
void SkipCase(benchmark::State& state, const std::string& why);
int ValidationFailures();

// Registers a manual-time case with the run's iterations/repetitions; `fn`
// gets the case's own name (State::name() is newer than benchmark 1.7).
using CaseFn = std::function<void(benchmark::State&, const std::string&)>;
benchmark::internal::Benchmark* RegisterCase(const std::string& name,
                                             CaseFn fn);

inline uint64_t NowNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// Accumulates timed work, fault counts and per-event latencies over the
// iterations of one case, then publishes the counters.
class CaseStats {
 public:
  // Reserves room for `samples_per_iteration` latencies per iteration so
  // recording never allocates (and never faults) while timing.
  explicit CaseStats(size_t samples_per_iteration);
  std::vector<uint64_t>& samples() { return samples_; }
  // `cpu_ns`: the measuring thread's CPU time over the same span (0 when
  // the work ran elsewhere, e.g. in a handler thread).
  void Add(uint64_t ns, uint64_t faults, uint64_t bytes, uint64_t events,
           uint64_t cpu_ns = 0);
  // ns_per_fault, ns_per_event, faults, bytes, events, p50_ns, p99_ns
  // (per event), ns_per_page (4 KiB), cpu_ns_per_fault.
  void Publish(benchmark::State& state) const;
  // Writes every page of the sample buffer again (after clear_refs has
  // write-protected the process, so recording a sample takes no fault).
  void RewriteSamples();

 private:
  std::vector<uint64_t> samples_;
  uint64_t ns_ = 0, faults_ = 0, bytes_ = 0, events_ = 0, runs_ = 0;
  uint64_t cpu_ns_ = 0;
};

// Brackets a timed section: fault counters of the calling thread and time.
class FaultWindow {
 public:
  FaultWindow()
      : faults_(probe::ThreadFaultCounts()),
        cpu_start_(probe::ThreadCpuNs()),
        start_(NowNs()) {}
  uint64_t ElapsedNs() const { return NowNs() - start_; }
  uint64_t CpuNs() const { return probe::ThreadCpuNs() - cpu_start_; }
  uint64_t Faults() const {
    return probe::ThreadFaultCounts().total() - faults_.total();
  }

 private:
  probe::FaultCounts faults_;
  uint64_t cpu_start_;
  uint64_t start_;
};

}  // namespace daxkv::faultbench

#endif  // DAXKV_BENCH_FAULTBENCH_CASE_UTIL_H_
