#include "kv/acl_log.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace daxkv::kv {
namespace {

// Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA, and how many of the newest
// entries it searches for one to count a new one into.
constexpr int64_t kGroupingMs = 60000;
constexpr size_t kGroupingSearch = 10;

bool SameDenial(const AclLog::Entry& a, const AclLog::Entry& b) {
  return a.reason == b.reason && a.context == b.context &&
         std::llabs(a.updated_ms - b.updated_ms) <= kGroupingMs &&
         a.object == b.object && a.username == b.username;
}

}  // namespace

void AclLog::AddAuthFailure(std::string_view command, std::string_view username,
                            bool in_multi, std::string client_info,
                            int64_t now_ms) {
  Entry e{.reason = "auth",
          .context = in_multi ? "multi" : "toplevel",
          .object = std::string(command),
          .username = std::string(username),
          .updated_ms = now_ms,
          .client_info = std::move(client_info)};
  MutexLock l(&mu_);
  const size_t search = std::min(entries_.size(), kGroupingSearch);
  for (size_t i = 0; i < search; ++i) {
    if (!SameDenial(entries_[i], e)) continue;
    e.count = entries_[i].count + 1;
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
    break;
  }
  entries_.push_front(std::move(e));
  while (entries_.size() > max_len_.load()) entries_.pop_back();
}

std::vector<AclLog::Entry> AclLog::Newest(size_t count) const {
  MutexLock l(&mu_);
  const size_t n = std::min(count, entries_.size());
  return std::vector<Entry>(entries_.begin(),
                            entries_.begin() + static_cast<std::ptrdiff_t>(n));
}

void AclLog::Reset() {
  MutexLock l(&mu_);
  entries_.clear();
}

}  // namespace daxkv::kv
