// MigrateCache: MIGRATE's connections to its targets, kept for reuse as
// Redis keeps them (migrateGetSocket): one per "host:port" as the command
// spelled it, at most 64 (a new one evicts the least recently used), each
// with the database last SELECTed on it, and closed once unused for more
// than 10 s (CloseIdle, from the I/O threads' housekeeping every second,
// as Redis's cron).
//
// A connection is taken out of the cache while a MIGRATE uses it, so two
// MIGRATEs to one target at once (on two I/O threads) each use their own;
// of the two put back, the second is closed.
//
// Thread-safety: every method may be called from any thread.
#ifndef DAXKV_KV_MIGRATE_CACHE_H_
#define DAXKV_KV_MIGRATE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "base/mutex.h"

namespace daxkv::kv {

inline constexpr int64_t kMigrateIdleMs = 10000;
inline constexpr size_t kMigrateMaxConns = 64;

struct MigrateConn {
  int fd = -1;
  // The database the last successful MIGRATE selected (-1: unknown, a
  // SELECT is sent first).
  int64_t last_dbid = -1;
  int64_t last_use_ms = 0;  // SteadyMs() when last taken
};

class MigrateCache {
 public:
  MigrateCache() = default;
  ~MigrateCache();  // closes every cached connection
  MigrateCache(const MigrateCache&) = delete;
  MigrateCache& operator=(const MigrateCache&) = delete;

  // The cached connection to `name`, taken out (fd -1 when there is none).
  MigrateConn Take(const std::string& name);
  // Caches a connection that is still good (its last_use_ms set by the
  // caller when it took or opened it).
  void Put(const std::string& name, MigrateConn conn);
  // Closes the connections unused for more than kMigrateIdleMs.
  void CloseIdle(int64_t now_ms);
  size_t size() const;

 private:
  mutable Mutex mu_;
  std::map<std::string, MigrateConn> conns_ GUARDED_BY(mu_);
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_MIGRATE_CACHE_H_
