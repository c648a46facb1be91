#include "kv/replica_resume.h"

#include <string>

#include "kv/resp_parser.h"

namespace daxkv::kv {

std::string ReplicaResumeRecord(std::string_view replid, int64_t offset) {
  std::string v(replid);
  v += ' ';
  v += std::to_string(offset);
  return v;
}

Status LoadReplicaResumePoint(engine::DB& db, Replication& repl,
                              int64_t* offset) {
  *offset = -1;
  auto stored = db.GetSystem(kReplicaResumeKey);
  if (stored.status().code() == StatusCode::kNotFound) return OkStatus();
  DAXKV_RETURN_IF_ERROR(stored.status());
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

Status ForgetReplicaResumePoint(engine::DB& db) {
  auto stored = db.GetSystem(kReplicaResumeKey);
  if (stored.status().code() == StatusCode::kNotFound) return OkStatus();
  DAXKV_RETURN_IF_ERROR(stored.status());
  engine::WriteBatch batch;
  batch.Delete(kReplicaResumeKey);
  // Durability: WriteSystem is synchronous: once it returns no crash can
  // bring the point back, so the caller may change the data set.
  return db.WriteSystem(batch);
}

}  // namespace daxkv::kv
