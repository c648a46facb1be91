#include "kv/repl_load.h"

#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <utility>
#include <variant>

#include "engine/txn.h"
#include "kv/coll_value.h"
#include "kv/server_state.h"

namespace daxkv::kv {

bool LockRoundUnlessStopped(std::shared_lock<std::shared_timed_mutex>* round,
                            const std::atomic<bool>& stop) {
  while (!round->try_lock_for(std::chrono::milliseconds(100))) {
    if (stop.load()) return false;
  }
  return true;
}

Status RdbLoader::OnKey(uint64_t /*db*/, std::string key, rdb::Object object) {
  const int64_t expire_ms = object.expire_ms.value_or(0);
  if (expire_ms != 0 && expire_ms <= server_->NowMs()) {
    // Already expired on our clock: the master deletes it and propagates
    // the DEL; storing it would only make the engine reclaim it.
    ++expired_;
    return OkStatus();
  }
  std::shared_lock<std::shared_timed_mutex> round(server_->exec_lock(),
                                                  std::defer_lock);
  if (!LockRoundUnlessStopped(&round, *stop_)) {
    return AbortedError("replication link stopped during the load");
  }
  engine::DB& db = server_->db();
  const engine::WriteOptions no_sync{.sync = false};
  Status s;
  if (auto* str = std::get_if<std::string>(&object.value)) {
    s = db.Put(key, *str, expire_ms, no_sync);
  } else {
    engine::TxnOptions to;
    to.keys.push_back(key);
    s = db.RunTxn(to, no_sync, [&](engine::Txn& txn) -> Status {
      bool existed = false;
      DAXKV_RETURN_IF_ERROR(txn.Delete(key, &existed));
      DAXKV_RETURN_IF_ERROR(WriteCollection(txn, key, object.value));
      if (expire_ms != 0) DAXKV_RETURN_IF_ERROR(txn.SetExpiry(key, expire_ms));
      return OkStatus();
    });
  }
  if (!s.ok()) return s.WithContext("loading key from the master's RDB");
  server_->watches().Touch(key);
  ++written_;
  return OkStatus();
}

Status RdbLoader::OnFunction(std::string_view library_code) {
  const std::string_view argv[] = {"FUNCTION", "LOAD", "REPLACE", library_code};
  Status s = run_(argv);
  if (!s.ok()) return s.WithContext("loading a function library from the RDB");
  return OkStatus();
}

}  // namespace daxkv::kv
