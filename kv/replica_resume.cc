#include "kv/replica_resume.h"

#include <string>

#include "kv/resp_parser.h"

namespace daxkv::kv {

Status SaveReplicaResumePoint(engine::DB& db, const Replication& repl,
                              bool was_streaming) {
  if (!repl.is_replica() || !was_streaming) return OkStatus();
  std::string replid;
  int64_t next = -1;
  repl.ResumePoint(&replid, &next);
  if (next <= 0 || replid.size() != 40) return OkStatus();
  engine::WriteBatch batch;
  // "<replid> <offset of the last applied command>"
  batch.Put(kReplicaResumeKey, replid + " " + std::to_string(next - 1));
  return db.WriteSystem(batch);
}

Status TakeReplicaResumePoint(engine::DB& db, Replication& repl,
                              int64_t* offset) {
  *offset = -1;
  auto stored = db.GetSystem(kReplicaResumeKey);
  if (stored.status().code() == StatusCode::kNotFound) return OkStatus();
  DAXKV_RETURN_IF_ERROR(stored.status());
  // Durability: gone from the pool before any command can be applied, so
  // a crash from here on never resumes from an offset the data has passed.
  engine::WriteBatch batch;
  batch.Delete(kReplicaResumeKey);
  DAXKV_RETURN_IF_ERROR(db.WriteSystem(batch));
  const std::string& v = *stored;
  int64_t off = 0;
  if (v.size() < 42 || v[40] != ' ' ||
      !ParseInt64(std::string_view(v).substr(41), &off) || off < 0) {
    return OkStatus();  // unreadable: a full sync, as without one
  }
  repl.SeedResumePoint(v.substr(0, 40), off);
  *offset = off;
  return OkStatus();
}

}  // namespace daxkv::kv
