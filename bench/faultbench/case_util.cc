#include "bench/faultbench/case_util.h"

#include <algorithm>
#include <atomic>

namespace daxkv::faultbench {
namespace {

Settings g_settings;
std::atomic<int> g_failures{0};

uint64_t Percentile(std::vector<uint64_t> v, double p) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

}  // namespace

bool ParseEvidenceMode(const std::string& text, EvidenceMode* mode) {
  if (text == "off") {
    *mode = EvidenceMode::kOff;
  } else if (text == "auto") {
    *mode = EvidenceMode::kAuto;
  } else if (text == "on") {
    *mode = EvidenceMode::kOn;
  } else {
    return false;
  }
  return true;
}

const Settings& settings() { return g_settings; }
void SetSettings(const Settings& s) { g_settings = s; }

void FailCase(benchmark::State& state, const Status& why) {
  g_failures.fetch_add(1);
  state.SkipWithError(("validation failed: " + why.ToString()).c_str());
}

void SkipCase(benchmark::State& state, const std::string& why) {
  state.SkipWithError(("skipped: " + why).c_str());
}

int ValidationFailures() { return g_failures.load(); }

benchmark::internal::Benchmark* RegisterCase(const std::string& name,
                                             CaseFn fn) {
  return benchmark::RegisterBenchmark(
             name.c_str(), [fn, name](benchmark::State& s) { fn(s, name); })
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond)
      ->Iterations(settings().iterations)
      ->Repetitions(settings().repetitions);
}

CaseStats::CaseStats(size_t samples_per_iteration) {
  // Written once here, not just reserved: a reserved buffer's pages fault
  // on first use, and those faults would land in the timed window of the
  // case (32 of them for 16384 samples, a devdax 4k upgrade's whole count).
  samples_.resize(samples_per_iteration *
                  static_cast<size_t>(settings().iterations + 1));
  samples_.clear();
}

void CaseStats::RewriteSamples() {
  const size_t n = samples_.size();
  samples_.resize(samples_.capacity());
  samples_.resize(n);
}

void CaseStats::Add(uint64_t ns, uint64_t faults, uint64_t bytes,
                    uint64_t events, uint64_t cpu_ns) {
  ns_ += ns;
  cpu_ns_ += cpu_ns;
  faults_ += faults;
  bytes_ += bytes;
  events_ += events;
  ++runs_;
}

void CaseStats::Publish(benchmark::State& state) const {
  if (runs_ == 0) return;
  double runs = static_cast<double>(runs_);
  state.counters["faults"] = static_cast<double>(faults_) / runs;
  state.counters["bytes"] = static_cast<double>(bytes_) / runs;
  state.counters["events"] = static_cast<double>(events_) / runs;
  state.counters["ns_per_fault"] =
      faults_ ? static_cast<double>(ns_) / static_cast<double>(faults_) : 0;
  if (cpu_ns_ && faults_) {
    state.counters["cpu_ns_per_fault"] =
        static_cast<double>(cpu_ns_) / static_cast<double>(faults_);
  }
  state.counters["ns_per_event"] =
      events_ ? static_cast<double>(ns_) / static_cast<double>(events_) : 0;
  state.counters["ns_per_page"] =
      bytes_ ? static_cast<double>(ns_) / (static_cast<double>(bytes_) / k4K)
             : 0;
  if (!samples_.empty()) {
    state.counters["p50_ns"] = static_cast<double>(Percentile(samples_, 0.5));
    state.counters["p99_ns"] = static_cast<double>(Percentile(samples_, 0.99));
  }
}

}  // namespace daxkv::faultbench
