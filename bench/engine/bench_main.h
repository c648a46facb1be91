// What the engine benchmarks' main()s share: default repetitions ahead of
// the command line (so medians are reported unless it says otherwise),
// Google Benchmark's and gflags' parsing, the persistence granularity
// libpmem2 must see before it maps a pool, and the pool's removal.
#ifndef DAXKV_BENCH_ENGINE_BENCH_MAIN_H_
#define DAXKV_BENCH_ENGINE_BENCH_MAIN_H_

#include <benchmark/benchmark.h>
#include <gflags/gflags.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace daxkv::bench {

// Parses argv with --benchmark_repetitions=`repetitions` and aggregates
// only as defaults, then sets PMEM2_FORCE_GRANULARITY to `granularity` (a
// gflags string, read after parsing) unless it is empty.
// REQUIRES: called once, first in main(), before any pool is mapped.
inline void InitBenchmarks(int argc, char** argv, int repetitions,
                           const std::string& granularity) {
  static std::vector<std::string> defaults = {
      "--benchmark_repetitions=" + std::to_string(repetitions),
      "--benchmark_report_aggregates_only=true"};
  static std::vector<char*> args;
  args = {argv[0]};
  for (std::string& d : defaults) args.push_back(d.data());
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  int n = static_cast<int>(args.size());
  char** av = args.data();
  benchmark::Initialize(&n, av);
  gflags::ParseCommandLineFlags(&n, &av, true);
  if (!granularity.empty()) {
    setenv("PMEM2_FORCE_GRANULARITY", granularity.c_str(), 1);
  }
}

// Runs the registered benchmarks, then removes the directory of `pool` (a
// pool file the benchmarks created); main()'s exit code.
inline int RunBenchmarksAndRemovePool(const std::string& pool) {
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(std::filesystem::path(pool).parent_path());
  return 0;
}

}  // namespace daxkv::bench

#endif  // DAXKV_BENCH_ENGINE_BENCH_MAIN_H_
