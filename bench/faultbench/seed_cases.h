// Registers the seed-path cases: "uffd/...", "dirty/...", "fork/...".
#ifndef DAXKV_BENCH_FAULTBENCH_SEED_CASES_H_
#define DAXKV_BENCH_FAULTBENCH_SEED_CASES_H_

namespace daxkv::faultbench {
// REQUIRES: SetSettings() was called.
void RegisterSeedCases();      // both of the below
void RegisterUffdCases();      // uffd_cases.cc
void RegisterTrackingCases();  // tracking_cases.cc
}  // namespace daxkv::faultbench

#endif  // DAXKV_BENCH_FAULTBENCH_SEED_CASES_H_
