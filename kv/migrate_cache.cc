#include "kv/migrate_cache.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

namespace daxkv::kv {

MigrateCache::~MigrateCache() {
  MutexLock l(&mu_);
  for (auto& [name, conn] : conns_) close(conn.fd);
}

MigrateConn MigrateCache::Take(const std::string& name) {
  MutexLock l(&mu_);
  auto it = conns_.find(name);
  if (it == conns_.end()) return {};
  MigrateConn conn = it->second;
  conns_.erase(it);
  return conn;
}

void MigrateCache::Put(const std::string& name, MigrateConn conn) {
  int evicted = -1;
  {
    MutexLock l(&mu_);
    if (conns_.count(name) != 0) {
      evicted = conn.fd;  // another MIGRATE's connection came back first
    } else {
      if (conns_.size() >= kMigrateMaxConns) {
        auto oldest = std::min_element(
            conns_.begin(), conns_.end(), [](const auto& a, const auto& b) {
              return a.second.last_use_ms < b.second.last_use_ms;
            });
        evicted = oldest->second.fd;
        conns_.erase(oldest);
      }
      conns_.emplace(name, conn);
    }
  }
  if (evicted >= 0) close(evicted);
}

void MigrateCache::CloseIdle(int64_t now_ms) {
  MutexLock l(&mu_);
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (now_ms - it->second.last_use_ms > kMigrateIdleMs) {
      close(it->second.fd);
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t MigrateCache::size() const {
  MutexLock l(&mu_);
  return conns_.size();
}

}  // namespace daxkv::kv
