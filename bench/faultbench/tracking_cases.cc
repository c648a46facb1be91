// Dirty tracking of a written working set (seed 003: PAGEMAP_SCAN with
// WP_ASYNC vs soft-dirty vs mprotect+SIGSEGV), and fork() with pinned vs
// unpinned anonymous memory (seed 004: early COW of pinned pages).
#include <string>
#include <vector>

#include "bench/faultbench/case_util.h"
#include "bench/faultbench/fault_check.h"
#include "bench/faultbench/seed_cases.h"
#include "probe/dirty_tracking.h"
#include "probe/mapping.h"
#include "probe/page_state.h"
#include "probe/pin.h"

namespace daxkv::faultbench {
namespace {

using probe::DirtyTrackingMethod;

// One page in kDirtyStride is written per round.
constexpr size_t kDirtyStride = 4;

StatusOr<std::unique_ptr<probe::Mapping>> MapAnon(size_t size) {
  probe::MappingOptions o;
  o.size = size;
  o.thp = probe::ThpAdvice::kNoHugePage;
  return probe::Mapping::Create(o);
}

void RunDirty(benchmark::State& state, const std::string& name,
              DirtyTrackingMethod method) {
  const size_t size = settings().region_bytes;
  auto m = MapAnon(size);
  if (!m.ok()) return SkipCase(state, m.status().ToString());
  Status s = (*m)->PopulateWrite();
  if (!s.ok()) return SkipCase(state, s.ToString());
  auto tracker = probe::DirtyTracker::Create(method, (*m)->data(), size);
  if (!tracker.ok()) return SkipCase(state, tracker.status().ToString());
  const uint64_t written = size / k4K / kDirtyStride;
  // mprotect's write faults end in SIGSEGV before the kernel counts them;
  // the other two methods take one write-protect fault per written page.
  const std::vector<FaultExpectation> expected = {
      method == DirtyTrackingMethod::kMprotect
          ? FaultExpectation{0, written + 2 + written / 100,
                             "SIGSEGV per written page (not counted as a "
                             "fault by every kernel)"}
          : OnePer(written * k4K, k4K, "1 write-protect fault per page")};
  CaseStats stats(written);
  uint64_t write_ns_total = 0, scan_ns_total = 0;
  for (auto _ : state) {
    std::vector<uint64_t>& samples = stats.samples();
    FaultWindow w;
    for (uint64_t i = 0; i < written; ++i) {
      uint64_t t0 = NowNs();
      (*m)->data()[i * kDirtyStride * k4K] += 1;
      if (samples.size() < samples.capacity()) samples.push_back(NowNs() - t0);
    }
    uint64_t write_ns = w.ElapsedNs(), faults = w.Faults();
    uint64_t cpu_ns = w.CpuNs();
    uint64_t t0 = NowNs();
    StatusOr<uint64_t> dirty = (*tracker)->Collect();
    uint64_t scan_ns = NowNs() - t0;
    Status check = dirty.status();
    if (check.ok()) check = CheckFaults(name, faults, expected);
    if (check.ok() && *dirty != written) {
      check = FailedPreconditionError(
          name + ": tracker reported " + std::to_string(*dirty) +
          " dirty pages, " + std::to_string(written) + " were written");
    }
    if (!check.ok()) {
      FailCase(state, check);
      break;
    }
    state.SetIterationTime(static_cast<double>(write_ns + scan_ns) * 1e-9);
    stats.Add(write_ns + scan_ns, faults, written * k4K, written, cpu_ns);
    write_ns_total += write_ns;
    scan_ns_total += scan_ns;
  }
  stats.Publish(state);
  double iters = static_cast<double>(std::max<int64_t>(state.iterations(), 1));
  state.counters["write_ns_per_page"] = static_cast<double>(write_ns_total) /
                                        iters / static_cast<double>(written);
  state.counters["scan_ns"] = static_cast<double>(scan_ns_total) / iters;
  state.counters["region_pages"] = static_cast<double>(size / k4K);
}

// While the child lives: pinned pages must have been copied (the parent's
// stay exclusively mapped), unpinned ones shared copy-on-write (none).
Status CheckForkSharing(const probe::Mapping& m, bool pinned) {
  auto entries = probe::ReadPagemap(m.begin(), m.end());
  if (!entries.ok()) return entries.status();
  uint64_t exclusive = 0;
  for (const probe::PagemapEntry& e : *entries) exclusive += e.exclusive;
  uint64_t pages = entries->size();
  if (pinned && exclusive != pages) {
    return FailedPreconditionError(
        "fork/pinned: only " + std::to_string(exclusive) + " of " +
        std::to_string(pages) +
        " pinned pages exclusive in the parent: no early COW happened");
  }
  if (!pinned && exclusive != 0) {
    return FailedPreconditionError(
        "fork/unpinned: " + std::to_string(exclusive) +
        " pages still exclusive while the child lives: not shared COW");
  }
  return OkStatus();
}

void RunFork(benchmark::State& state, const std::string& name, bool pinned) {
  const size_t size = settings().region_bytes * 4;
  auto m = MapAnon(size);
  if (!m.ok()) return SkipCase(state, m.status().ToString());
  Status s = (*m)->PopulateWrite();
  if (!s.ok()) return SkipCase(state, s.ToString());
  std::unique_ptr<probe::PinnedBuffers> pins;
  if (pinned) {
    auto p = probe::PinnedBuffers::Pin((*m)->data(), size);
    if (!p.ok()) return SkipCase(state, p.status().ToString());
    pins = std::move(*p);
  }
  CaseStats stats(0);
  for (auto _ : state) {
    Status sharing;
    StatusOr<uint64_t> ns =
        probe::TimeFork([&] { sharing = CheckForkSharing(**m, pinned); });
    Status check = ns.ok() ? sharing : ns.status();
    if (!check.ok()) {
      FailCase(state, check);
      break;
    }
    state.SetIterationTime(static_cast<double>(*ns) * 1e-9);
    stats.Add(*ns, 0, size, 1);
  }
  stats.Publish(state);
  double mib = static_cast<double>(size) / kMiB;
  state.counters["ns_per_mib"] = state.counters["ns_per_event"] / mib;
}

}  // namespace

void RegisterTrackingCases() {
  for (DirtyTrackingMethod m :
       {DirtyTrackingMethod::kWpAsync, DirtyTrackingMethod::kSoftDirty,
        DirtyTrackingMethod::kMprotect}) {
    RegisterCase(
        std::string("dirty/anon/4k/") + probe::DirtyTrackingMethodName(m),
        [m](benchmark::State& s, const std::string& n) { RunDirty(s, n, m); });
  }
  RegisterCase(
      "fork/anon/4k/unpinned",
      [](benchmark::State& s, const std::string& n) { RunFork(s, n, false); });
  RegisterCase(
      "fork/anon/4k/pinned",
      [](benchmark::State& s, const std::string& n) { RunFork(s, n, true); });
}

void RegisterSeedCases() {
  RegisterUffdCases();
  RegisterTrackingCases();
}

}  // namespace daxkv::faultbench
