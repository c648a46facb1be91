// The environment a run measured, recorded in the JSON "context": kernel,
// CPU, THP, feature probes, DAX provider/region/namespace/align/NUMA and the
// kernel's DAX fault path.
#ifndef DAXKV_BENCH_FAULTBENCH_CONTEXT_H_
#define DAXKV_BENCH_FAULTBENCH_CONTEXT_H_

namespace daxkv::faultbench {
// REQUIRES: SetSettings() was called. Call before running benchmarks.
void AddRunContext();
}  // namespace daxkv::faultbench

#endif  // DAXKV_BENCH_FAULTBENCH_CONTEXT_H_
