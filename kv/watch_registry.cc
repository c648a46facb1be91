#include "kv/watch_registry.h"

#include <algorithm>

namespace daxkv::kv {

bool WatchRegistry::Watch(Client* c, std::string_view key) {
  for (const auto& [k, v] : c->watched) {
    if (k == key) return false;
  }
  MutexLock l(&mu_);
  auto [it, inserted] = watchers_.try_emplace(std::string(key));
  it->second.push_back(c);
  if (inserted) watched_keys_.fetch_add(1, std::memory_order_seq_cst);
  return true;
}

void WatchRegistry::UnwatchAll(Client* c) {
  if (c->watched.empty()) {  // not registered anywhere: nobody can mark it
    c->watch_dirty.store(false, std::memory_order_release);
    return;
  }
  // Under the lock: once c is unwatched no Touch() can mark it again.
  MutexLock l(&mu_);
  for (const auto& [key, version] : c->watched) {
    auto it = watchers_.find(key);
    if (it == watchers_.end()) continue;
    auto& v = it->second;
    v.erase(std::remove(v.begin(), v.end(), c), v.end());
    if (v.empty()) {
      watchers_.erase(it);
      watched_keys_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }
  c->watched.clear();
  c->watched_bytes = 0;
  c->watch_dirty.store(false, std::memory_order_release);
}

void WatchRegistry::Touch(std::string_view key) {
  if (watched_keys() == 0) return;
  MutexLock l(&mu_);
  // Heterogeneous lookup needs C++20 transparent hashing; keys are short.
  auto it = watchers_.find(std::string(key));
  if (it == watchers_.end()) return;
  for (Client* c : it->second) {
    c->watch_dirty.store(true, std::memory_order_release);
  }
}

std::vector<std::string> WatchRegistry::Keys() const {
  std::vector<std::string> keys;
  if (watched_keys() == 0) return keys;
  MutexLock l(&mu_);
  keys.reserve(watchers_.size());
  for (const auto& [key, clients] : watchers_) keys.push_back(key);
  return keys;
}

}  // namespace daxkv::kv
