// Shared steps of the collection crash tests (crash_coll_test.cc,
// crash_stream_test.cc): a list of decided-up-front ops run as one Txn,
// and a compaction step.
#ifndef DAXKV_TESTS_ENGINE_CRASH_COLL_UTIL_H_
#define DAXKV_TESTS_ENGINE_CRASH_COLL_UTIL_H_

#include <cstdint>
#include <vector>

#include "engine/txn.h"
#include "tests/engine/crash_harness.h"
#include "tests/engine/db_test_hooks.h"

namespace daxkv::engine::crash {

// Runs `ops` in one Txn on a DB in state `base`: run(&txn, state, op)
// decides from the shadow state what to send. RunTxn may re-run the body,
// so each run starts from a copy of `base`.
template <typename State, typename Op, typename RunOp>
Status RunTxnOps(DB* db, const std::vector<Op>& ops, const State& base,
                 bool sync, RunOp run) {
  return db->RunTxn(TxnOptions{}, WriteOptions{.sync = sync}, [&](Txn& t) {
    State scratch = base;
    for (const Op& o : ops) DAXKV_RETURN_IF_ERROR(run(&t, scratch, o));
    return OkStatus();
  });
}

// A compaction of up to two segments as a harness step (nothing visible
// changes); adds the segments it freed to *freed.
inline Status CompactStep(CrashHarness& h, uint64_t* freed) {
  uint64_t got = 0;
  Status s = h.Step(
      "compact",
      [&](DB* db) {
        auto r = TEST_Compact(db, 2);
        if (r.ok()) got = *r;
        return r.status();
      },
      [](Model*) {});
  if (s.ok()) *freed += got;
  return s;
}

}  // namespace daxkv::engine::crash

#endif  // DAXKV_TESTS_ENGINE_CRASH_COLL_UTIL_H_
