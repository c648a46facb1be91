// Recovery/<type>/collections:C/per:P (daxkv-coll-bench): close + open of
// a real pool holding C collections of P elements each; issue 14's target
// is <= 1 s for 10M elements across 100k collections.
#ifndef DAXKV_BENCH_COLLECTIONS_RECOVERY_BENCH_H_
#define DAXKV_BENCH_COLLECTIONS_RECOVERY_BENCH_H_

namespace daxkv::engine::coll {

// Registers the Recovery/* benchmarks.
void RegisterRecovery();

}  // namespace daxkv::engine::coll

#endif  // DAXKV_BENCH_COLLECTIONS_RECOVERY_BENCH_H_
