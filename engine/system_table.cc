#include "engine/system_table.h"

namespace daxkv::engine {

SystemTable::Entry SystemTable::Offer(std::string_view key, const Entry& e,
                                      bool* taken) {
  MutexLock l(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    entries_.emplace(std::string(key), e);
    *taken = true;
    return {};
  }
  if (e.seq <= it->second.seq) {
    *taken = false;
    return {};
  }
  Entry old = it->second;
  it->second = e;
  *taken = true;
  return old;
}

bool SystemTable::Relocate(std::string_view key, uint64_t from, uint64_t to) {
  MutexLock l(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.loc != from) return false;
  it->second.loc = to;
  return true;
}

bool SystemTable::IsCurrent(std::string_view key, uint64_t loc) const {
  MutexLock l(&mu_);
  auto it = entries_.find(key);
  return it != entries_.end() && it->second.loc == loc;
}

void SystemTable::ForEach(
    const std::function<void(const std::string&, const Entry&)>& fn) const {
  MutexLock l(&mu_);
  for (const auto& [key, e] : entries_) fn(key, e);
}

size_t SystemTable::size() const {
  MutexLock l(&mu_);
  return entries_.size();
}

void SystemTable::Clear() {
  MutexLock l(&mu_);
  entries_.clear();
}

}  // namespace daxkv::engine
