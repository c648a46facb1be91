// Registers the first-touch cases ("touch/<backing>/<unit>/<op>[/<prefault>]").
#ifndef DAXKV_BENCH_FAULTBENCH_TOUCH_CASES_H_
#define DAXKV_BENCH_FAULTBENCH_TOUCH_CASES_H_

namespace daxkv::faultbench {
// REQUIRES: SetSettings() was called (iterations/repetitions are read here).
void RegisterTouchCases();
}  // namespace daxkv::faultbench

#endif  // DAXKV_BENCH_FAULTBENCH_TOUCH_CASES_H_
