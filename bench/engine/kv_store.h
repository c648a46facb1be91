// KvStore: the one interface daxkv-bench drives, so every engine runs the
// same workload code in the same process on the same medium, each at its
// own per-operation durability (daxkv durable-on-return, LMDB one commit per
// write, RocksDB WriteOptions::sync = true).
//
// Thread-safety: Put/Get may be called from up to kMaxThreads threads at
// once, each passing its own `thread` slot in [0, kMaxThreads). BulkLoad and
// Reopen require that nothing else runs.
#ifndef DAXKV_BENCH_ENGINE_KV_STORE_H_
#define DAXKV_BENCH_ENGINE_KV_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/statusor.h"

namespace daxkv::bench {

struct StoreConfig {
  // daxkv: the pool (file in /dev/shm, fsdax file or /dev/daxX.Y).
  // Peers: a directory on the same filesystem.
  std::string path;
  // Bytes the store should be able to hold (pool size, LMDB map size).
  uint64_t capacity = 0;
};

inline constexpr int kMaxThreads = 64;

class KvStore {
 public:
  virtual ~KvStore() = default;
  virtual const char* name() const = 0;

  // Durable when it returns OK.
  virtual Status Put(int thread, std::string_view key,
                     std::string_view value) = 0;
  // NotFound when absent. `value` is overwritten.
  virtual Status Get(int thread, std::string_view key, std::string* value) = 0;
  // Gets keys.size() keys into `values` (same size) as one batch: OK when
  // every key is present, else the first other status. The default is a
  // loop of Get.
  virtual Status MultiGet(int thread, std::span<const std::string_view> keys,
                          std::span<std::string> values) {
    Status first;
    for (size_t i = 0; i < keys.size(); ++i) {
      Status s = Get(thread, keys[i], &values[i]);
      if (first.ok() && !s.ok()) first = s;
    }
    return first;
  }

  // Setup only (not measured): writes keys [0, n) with `key_fn`/`value_fn`
  // using the store's fastest safe bulk path, then makes them durable.
  using KeyFn = std::function<void(uint64_t, std::string*)>;
  virtual Status BulkLoad(uint64_t n, const KeyFn& key_fn,
                          const KeyFn& value_fn) = 0;

  // Closes and reopens the store (recovery); the time is what Open takes.
  virtual Status Reopen() = 0;
  // daxkv: the same, but the open ignores the clean-close index snapshot
  // and scans the pool (what a crash costs); the close before it still
  // writes one. Unimplemented for peers.
  virtual Status ReopenScanning() {
    return NotSupportedError("ReopenScanning");
  }

  // DRAM the store's index holds (0 when the store cannot say).
  virtual uint64_t IndexBytes() const { return 0; }
  // daxkv's own recovery duration from its stats (0 for peers).
  virtual uint64_t RecoveryMs() const { return 0; }
  // daxkv: how the last open rebuilt its index (Stats::index_recovery).
  virtual std::string IndexRecovery() const { return ""; }
  // daxkv: the last Reopen's close and open, wall-clock ms each.
  virtual double LastCloseMs() const { return 0; }
  virtual double LastOpenMs() const { return 0; }
  // daxkv: waits for the scrub after a snapshot open; ms from the end of
  // the last Reopen until it finished (0 when there was none).
  virtual double WaitScrubMs() { return 0; }
  // daxkv: bytes its compaction has copied since the open; nullopt for
  // peers, which do not say.
  virtual std::optional<uint64_t> RelocatedBytes() const {
    return std::nullopt;
  }
};

StatusOr<std::unique_ptr<KvStore>> OpenDaxkvStore(const StoreConfig& config);
StatusOr<std::unique_ptr<KvStore>> OpenLmdbStore(const StoreConfig& config);
StatusOr<std::unique_ptr<KvStore>> OpenRocksdbStore(const StoreConfig& config);

}  // namespace daxkv::bench

#endif  // DAXKV_BENCH_ENGINE_KV_STORE_H_
