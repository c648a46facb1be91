#include "kv/repl_snapshot.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "engine/txn.h"
#include "kv/coll_value.h"
#include "kv/script_engine.h"
#include "kv/server_state.h"

namespace daxkv::kv {
namespace {

// Keys serialized per hold of the order mutex by the sync's thread.
constexpr size_t kBatch = 128;

// Every key (DB::Scan may repeat one: pending_ holds it once, and only
// its first occurrence is serialized).
StatusOr<std::vector<std::string>> AllKeys(engine::DB& db) {
  std::vector<std::string> keys;
  keys.reserve(db.Count());
  uint64_t cursor = 0;
  do {
    DAXKV_ASSIGN_OR_RETURN(engine::DB::ScanPage page, db.Scan(cursor, 16384));
    for (std::string& k : page.keys) keys.push_back(std::move(k));
    cursor = page.next_cursor;
  } while (cursor != 0);
  return keys;
}

// Redis's debugDelay for rdb-key-save-delay, for `keys` keys: `us` per key,
// or for a negative -n one microsecond per key with probability 1/n. Slept
// in slices that watch `stop`: a replica going away (Detach joins this
// thread) waits for one slice, not for whatever the setting adds up to.
void KeySaveDelay(int us, size_t keys, const std::atomic<bool>& stop) {
  if (us == 0 || keys == 0) return;
  int64_t total = 0;
  if (us > 0) {
    total = static_cast<int64_t>(us) * static_cast<int64_t>(keys);
  } else {
    thread_local std::minstd_rand rng{std::random_device{}()};
    std::uniform_int_distribution<int64_t> pick(0,
                                                -static_cast<int64_t>(us) - 1);
    for (size_t k = 0; k < keys; ++k) total += pick(rng) == 0 ? 1 : 0;
  }
  using Clock = std::chrono::steady_clock;
  const Clock::time_point until =
      Clock::now() + std::chrono::microseconds(total);
  constexpr auto kSlice = std::chrono::milliseconds(10);
  for (Clock::time_point now = Clock::now(); now < until && !stop.load();
       now = Clock::now()) {
    std::this_thread::sleep_for(std::min<Clock::duration>(until - now, kSlice));
  }
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

SnapshotJob::SnapshotJob(ServerState& server)
    : server_(server), writer_([this](std::string_view piece) {
        out_.append(piece);
        return OkStatus();
      }) {}

StatusOr<std::unique_ptr<SnapshotJob>> SnapshotJob::Begin(
    ServerState& server, const std::string& replid, int64_t offset) {
  std::unique_ptr<SnapshotJob> job(new SnapshotJob(server));
  rdb::RdbAuxInfo aux;
  aux.ctime = server.NowMs() / 1000;
  aux.replication = rdb::RdbAuxInfo::Replication{0, replid, offset};
  DAXKV_RETURN_IF_ERROR(job->writer_.Begin(aux));
  // Function libraries as Redis's rdbSaveFunctions writes them, before the
  // keys; FUNCTION commands take the exec lock exclusively, as this pause
  // does, so the libraries agree with the offset.
  for (const auto& library : server.scripts().functions().Codes()) {
    DAXKV_RETURN_IF_ERROR(job->writer_.WriteFunction(library.second));
  }
  DAXKV_ASSIGN_OR_RETURN(job->keys_, AllKeys(server.db()));
  job->pending_.reserve(job->keys_.size());
  for (const std::string& k : job->keys_) job->pending_.insert(k);
  if (!job->keys_.empty()) {
    DAXKV_RETURN_IF_ERROR(job->writer_.SelectDb(0, job->keys_.size(), 0));
  }
  return job;
}

// A key that expired or was reclaimed since the pause is left out: the
// replica would drop it on load (its expiry has passed).
void SnapshotJob::Serialize(const std::string& key) {
  if (!status_.ok()) return;
  StatusOr<KeyValue> kv = ReadKey(server_.db(), key);
  if (!kv.ok()) {
    status_ = kv.status();
    return;
  }
  if (!kv->live) return;
  std::optional<int64_t> expire;
  if (kv->expire_at_ms > 0) expire = kv->expire_at_ms;
  status_ = writer_.WriteKey(key, kv->value, expire);
}

void SnapshotJob::Preserve(std::span<const std::string_view> args) {
  for (std::string_view a : args) {
    auto it = pending_.find(a);
    if (it == pending_.end()) continue;
    const std::string key(*it);
    pending_.erase(it);
    ++by_writers_;
    Serialize(key);
  }
}

void SnapshotJob::PreserveAll() {
  for (const std::string& key : keys_) {
    if (pending_.erase(key) == 0) continue;
    ++by_writers_;
    Serialize(key);
  }
}

StatusOr<std::string> SnapshotJob::Finish(Mutex& order_mu,
                                          const std::atomic<bool>& stop) {
  for (size_t i = 0; i < keys_.size(); i += kBatch) {
    if (stop.load()) return AbortedError("the replica went away");
    size_t serialized = 0;
    {
      MutexLock l(&order_mu);
      const size_t end = std::min(keys_.size(), i + kBatch);
      for (size_t j = i; j < end; ++j) {
        if (pending_.erase(keys_[j]) == 0) continue;
        Serialize(keys_[j]);
        ++serialized;
      }
      if (!status_.ok()) return status_;
    }
    // Outside the mutex: the delay holds the sync open, not the writers.
    KeySaveDelay(server_.settings().rdb_key_save_delay_us.load(), serialized,
                 stop);
  }
  MutexLock l(&order_mu);
  DAXKV_RETURN_IF_ERROR(status_);
  DAXKV_RETURN_IF_ERROR(writer_.Finish());
  return std::move(out_);
}

}  // namespace daxkv::kv
