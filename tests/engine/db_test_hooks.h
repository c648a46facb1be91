// The engine's test hooks (DBImpl::TEST_*), as LevelDB's TEST_CompactRange:
// maintenance the background threads normally do, called by tests that
// switch those threads off (Options::background_*). They are not part of
// the public DB interface.
//
// REQUIRES: `db` came from DB::Open (it is a DBImpl); otherwise the hooks
// fail with FailedPrecondition.
#ifndef DAXKV_TESTS_ENGINE_DB_TEST_HOOKS_H_
#define DAXKV_TESTS_ENGINE_DB_TEST_HOOKS_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "base/status.h"
#include "base/statusor.h"
#include "engine/db.h"
#include "engine/db_impl.h"

namespace daxkv::engine {

// Compacts up to `max_segments` segments holding dead bytes; how many it
// freed.
inline StatusOr<uint64_t> TEST_Compact(DB* db, size_t max_segments) {
  auto* impl = dynamic_cast<DBImpl*>(db);
  if (impl == nullptr) return FailedPreconditionError("not an engine DB");
  return impl->TEST_Compact(max_segments);
}
inline StatusOr<uint64_t> TEST_Compact(const std::unique_ptr<DB>& db,
                                       size_t max_segments) {
  return TEST_Compact(db.get(), max_segments);
}

// Scrubs up to `max_segments` of the segments a snapshot open left to
// verify (engine/scrub.cc); how many are left.
inline StatusOr<uint64_t> TEST_Scrub(DB* db, size_t max_segments) {
  auto* impl = dynamic_cast<DBImpl*>(db);
  if (impl == nullptr) return FailedPreconditionError("not an engine DB");
  return impl->TEST_Scrub(max_segments);
}

// Durably deletes the expired keys; how many.
inline StatusOr<uint64_t> TEST_ReclaimExpired(DB* db) {
  auto* impl = dynamic_cast<DBImpl*>(db);
  if (impl == nullptr) return FailedPreconditionError("not an engine DB");
  return impl->TEST_ReclaimExpired();
}
inline StatusOr<uint64_t> TEST_ReclaimExpired(const std::unique_ptr<DB>& db) {
  return TEST_ReclaimExpired(db.get());
}

// Internal unless every unindexed element put on the medium is counted
// dead (engine/dead_count_check.cc). REQUIRES: no writer running.
inline Status TEST_CheckElemDeadCounts(DB* db) {
  auto* impl = dynamic_cast<DBImpl*>(db);
  if (impl == nullptr) return FailedPreconditionError("not an engine DB");
  return impl->TEST_CheckElemDeadCounts();
}

// Runs fn between each run of compacted elements' copies and their swap
// (engine/elem_compactor.cc), the window in which writers may change them;
// null clears it. fn runs with compaction_mu_ held: it may write, but not
// fill the pool.
inline Status TEST_SetBeforeElemSwap(DB* db, std::function<void()> fn) {
  auto* impl = dynamic_cast<DBImpl*>(db);
  if (impl == nullptr) return FailedPreconditionError("not an engine DB");
  impl->TEST_SetBeforeElemSwap(std::move(fn));
  return OkStatus();
}

// The calling thread's user log head (DBImpl::TEST_WriteHead); put it on
// head `i` (TEST_SetWriteHead); make its next write move on, as waiting
// behind an older thread's append does (TEST_RequestHeadMove).
inline StatusOr<size_t> TEST_WriteHead(DB* db) {
  auto* impl = dynamic_cast<DBImpl*>(db);
  if (impl == nullptr) return FailedPreconditionError("not an engine DB");
  return impl->TEST_WriteHead();
}
inline Status TEST_SetWriteHead(DB* db, size_t i) {
  auto* impl = dynamic_cast<DBImpl*>(db);
  if (impl == nullptr) return FailedPreconditionError("not an engine DB");
  impl->TEST_SetWriteHead(i);
  return OkStatus();
}
inline Status TEST_RequestHeadMove(DB* db) {
  auto* impl = dynamic_cast<DBImpl*>(db);
  if (impl == nullptr) return FailedPreconditionError("not an engine DB");
  impl->TEST_RequestHeadMove();
  return OkStatus();
}

}  // namespace daxkv::engine

#endif  // DAXKV_TESTS_ENGINE_DB_TEST_HOOKS_H_
