// The RDB 10 payload of a full sync: every live key of every type with its
// expiry, and the replication AUX fields (repl-id, repl-offset).
//
// REQUIRES: the exec lock held exclusively (no command runs), so the
// payload is one point-in-time view of the data set and matches `offset`
// in the stream. The engine's own background work (compaction, expiry
// reclaim) may run meanwhile; a key that expires during the snapshot is
// left out or written with its (past) expiry, which the replica drops.
#ifndef DAXKV_KV_REPL_SNAPSHOT_H_
#define DAXKV_KV_REPL_SNAPSHOT_H_

#include <cstdint>
#include <string>

#include "base/statusor.h"

namespace daxkv::kv {

class ServerState;

StatusOr<std::string> SnapshotRdb(ServerState& server,
                                  const std::string& replid, int64_t offset);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_REPL_SNAPSHOT_H_
