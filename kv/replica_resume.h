// A replica's resume point (issue #15): the master's replid and the
// offset of the last command the pool holds, kept in the pool's system
// namespace (key "replication/resume", value "<replid> <offset>"). The
// replica link writes it in the same engine Txn as the master's commands
// it covers (kv/replica_link.h, one record per group commit), so after a
// crash at any point the pool holds exactly the commands up to the stored
// offset; every start (clean or after kill -9 / power loss) reads it, and
// REPLICAOF (or --replicaof) sends PSYNC <replid> <offset+1>: the master
// answers +CONTINUE when its backlog still covers it.
//
// Durability: the offset is exact, never ahead of the pool and never
// behind it (a master's stream is not idempotent: INCR applied twice is
// wrong). A full sync deletes the record (durably) before its FLUSHALL
// and writes a new one only once the loaded data set is durable;
// promotion (REPLICAOF NO ONE) deletes it before any client write.
//
// Thread-safety: Load at start-up with no link running; the rest from the
// link thread or with the link stopped.
#ifndef DAXKV_KV_REPLICA_RESUME_H_
#define DAXKV_KV_REPLICA_RESUME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "engine/db.h"
#include "kv/replication.h"

namespace daxkv::kv {

inline constexpr std::string_view kReplicaResumeKey = "replication/resume";

// The record's value for the master `replid` at `offset` (the offset of
// the last command applied).
std::string ReplicaResumeRecord(std::string_view replid, int64_t offset);

// Start: seeds `repl` with the stored point. *offset is the resumed
// offset, or -1 when none (or an unreadable one) is stored.
Status LoadReplicaResumePoint(engine::DB& db, Replication& repl,
                              int64_t* offset);

// Deletes the stored point, durably (nothing to do when there is none).
Status ForgetReplicaResumePoint(engine::DB& db);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_REPLICA_RESUME_H_
