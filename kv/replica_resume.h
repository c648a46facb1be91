// A replica's resume point across a restart (issue #15): at a clean
// shutdown a streaming replica stores its master's replid and the offset of
// the last command it applied in the pool's system namespace
// (engine::DB::WriteSystem, key "replication/resume"); the next start takes
// it, so REPLICAOF (or --replicaof) sends PSYNC <replid> <offset+1> and the
// master can answer +CONTINUE instead of a full sync.
//
// Durability: the offset is exact, never ahead of the pool and never
// behind it (a master's stream is not idempotent: INCR applied twice is
// wrong). It is written only after the link has stopped and DB::Sync()
// made every applied command durable, and it is deleted (durably) at start
// before any command is applied. So a crash (kill -9, power loss) after a
// start leaves no resume point: the next start does a full sync.
//
// Thread-safety: call from the server's start-up and shutdown, with no
// replication link running.
#ifndef DAXKV_KV_REPLICA_RESUME_H_
#define DAXKV_KV_REPLICA_RESUME_H_

#include <string_view>

#include "base/status.h"
#include "engine/db.h"
#include "kv/replication.h"

namespace daxkv::kv {

inline constexpr std::string_view kReplicaResumeKey = "replication/resume";

// Shutdown, after the link stopped and a DB::Sync() returned OK: stores
// the resume point when the link was streaming as the shutdown began
// (`was_streaming`: LinkState::kConnected then; its data is the master's
// at the processed offset, the point the link itself would reconnect
// from). Stores nothing otherwise (a full sync cut short, no master).
Status SaveReplicaResumePoint(engine::DB& db, const Replication& repl,
                              bool was_streaming);

// Start: takes the stored point (deleting it durably) and seeds `repl`
// with it. *offset is the resumed offset, or -1 when none was stored.
Status TakeReplicaResumePoint(engine::DB& db, Replication& repl,
                              int64_t* offset);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_REPLICA_RESUME_H_
