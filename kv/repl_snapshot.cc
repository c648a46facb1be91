#include "kv/repl_snapshot.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "engine/txn.h"
#include "kv/coll_value.h"
#include "kv/server_state.h"
#include "rdb/writer.h"

namespace daxkv::kv {
namespace {

// Every key, once (DB::Scan may repeat keys).
StatusOr<std::vector<std::string>> AllKeys(engine::DB& db) {
  std::vector<std::string> keys;
  uint64_t cursor = 0;
  do {
    DAXKV_ASSIGN_OR_RETURN(engine::DB::ScanPage page, db.Scan(cursor, 1024));
    for (std::string& k : page.keys) keys.push_back(std::move(k));
    cursor = page.next_cursor;
  } while (cursor != 0);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

struct KeyValue {
  bool live = false;
  rdb::Value value;
  int64_t expire_at_ms = 0;
};

StatusOr<KeyValue> ReadKey(engine::DB& db, const std::string& key) {
  KeyValue kv;
  DAXKV_RETURN_IF_ERROR(db.RunRead({key}, [&](engine::ReadOps& ops) {
    kv = KeyValue{};
    DAXKV_ASSIGN_OR_RETURN(engine::KeyInfo info, ops.Stat(key));
    if (info.type == engine::KeyType::kNone) return OkStatus();
    kv.live = true;
    kv.expire_at_ms = info.expire_at_ms;
    if (info.type == engine::KeyType::kString) {
      std::string v;
      DAXKV_RETURN_IF_ERROR(ops.Get(key, &v));
      kv.value = std::move(v);
      return OkStatus();
    }
    DAXKV_ASSIGN_OR_RETURN(kv.value, ReadCollection(ops, key, info.type));
    return OkStatus();
  }));
  return kv;
}

}  // namespace

StatusOr<std::string> SnapshotRdb(ServerState& server,
                                  const std::string& replid, int64_t offset) {
  std::string out;
  rdb::RdbWriter w([&](std::string_view piece) {
    out.append(piece);
    return OkStatus();
  });
  rdb::RdbAuxInfo aux;
  aux.ctime = server.NowMs() / 1000;
  aux.replication = rdb::RdbAuxInfo::Replication{0, replid, offset};
  DAXKV_RETURN_IF_ERROR(w.Begin(aux));
  engine::DB& db = server.db();
  DAXKV_ASSIGN_OR_RETURN(std::vector<std::string> keys, AllKeys(db));
  if (!keys.empty()) DAXKV_RETURN_IF_ERROR(w.SelectDb(0, keys.size(), 0));
  for (const std::string& key : keys) {
    DAXKV_ASSIGN_OR_RETURN(KeyValue kv, ReadKey(db, key));
    if (!kv.live) continue;
    std::optional<int64_t> expire;
    if (kv.expire_at_ms > 0) expire = kv.expire_at_ms;
    DAXKV_RETURN_IF_ERROR(w.WriteKey(key, kv.value, expire));
  }
  DAXKV_RETURN_IF_ERROR(w.Finish());
  return out;
}

}  // namespace daxkv::kv
