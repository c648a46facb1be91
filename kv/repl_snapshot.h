// The RDB 10 payload of a full sync: every key of every type with its
// expiry, and the replication AUX fields (repl-id, repl-offset), as of one
// point in time, built while writers go on (docs/replication.md).
//
// Begin() runs while the exec lock is held exclusively (no command runs):
// it lists the live keys. That is the pause, and the point in time: its
// stream offset is the one the replica continues from. Afterwards writers
// run; each write command, before it changes anything and under the
// master's order mutex, hands the keys it may touch to Preserve(), which
// serializes those not yet written with their values as of the pause (the
// command has not run yet). The sync's own thread serializes the rest in
// batches (Finish()), under the same mutex, skipping what writers
// preserved. So every key of the RDB is its value at the pause, however
// long the serialization takes, and no command waits for more than one
// batch. Keys created after the pause are not in the RDB (the stream
// creates them).
//
// Thread-safety: Preserve/PreserveAll and Finish's batches run under the
// master's order mutex (ReplMaster::order_mu()).
#ifndef DAXKV_KV_REPL_SNAPSHOT_H_
#define DAXKV_KV_REPL_SNAPSHOT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/statusor.h"
#include "rdb/writer.h"

namespace daxkv::kv {

class ServerState;

class SnapshotJob {
 public:
  // REQUIRES: the exec lock held exclusively.
  static StatusOr<std::unique_ptr<SnapshotJob>> Begin(ServerState& server,
                                                      const std::string& replid,
                                                      int64_t offset);

  // A write command may touch any of `args`: those still pending are
  // serialized now. REQUIRES: order mutex held.
  void Preserve(std::span<const std::string_view> args);
  // A write whose keys are not known (a script, FLUSHALL): everything
  // still pending is serialized now. REQUIRES: order mutex held.
  void PreserveAll();
  // Serializes what is left (batches under `order_mu`) and returns the RDB;
  // Aborted once `stop` is set (the replica went away).
  StatusOr<std::string> Finish(Mutex& order_mu, const std::atomic<bool>& stop);

  size_t keys() const { return keys_.size(); }
  size_t preserved_by_writers() const { return by_writers_; }

 private:
  explicit SnapshotJob(ServerState& server);
  void Serialize(const std::string& key);

  ServerState& server_;
  std::string out_;
  rdb::RdbWriter writer_;
  Status status_;
  std::vector<std::string> keys_;                 // as of the pause
  std::unordered_set<std::string_view> pending_;  // views into keys_
  size_t by_writers_ = 0;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_REPL_SNAPSHOT_H_
