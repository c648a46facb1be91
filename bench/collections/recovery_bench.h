// Recovery/<type>/collections:C/per:P (daxkv-coll-bench): clean close +
// open of a real pool holding C collections of P elements each, the open
// loading the index snapshot (issue 17: a clean restart copies the index);
// RecoveryScan/<type>: the same with snapshots off, so that the open scans
// every record as after a crash (issue 14's target: <= 1 s for 10M
// elements across 100k collections). The label says how the open rebuilt
// the index.
#ifndef DAXKV_BENCH_COLLECTIONS_RECOVERY_BENCH_H_
#define DAXKV_BENCH_COLLECTIONS_RECOVERY_BENCH_H_

namespace daxkv::engine::coll {

// Registers the Recovery/* benchmarks.
void RegisterRecovery();

}  // namespace daxkv::engine::coll

#endif  // DAXKV_BENCH_COLLECTIONS_RECOVERY_BENCH_H_
