// SlowLog (kv/slowlog.h).
#include "kv/slowlog.h"

#include <algorithm>
#include <utility>

namespace daxkv::kv {

void SlowLog::Add(std::span<const std::string_view> args, uint64_t micros,
                  int64_t unix_s, std::string peer, std::string name) {
  Entry e;
  e.unix_s = unix_s;
  e.micros = micros;
  e.peer = std::move(peer);
  e.name = std::move(name);
  // Past kMaxArgs, the last kept slot says how many were left out.
  const size_t kept = std::min(args.size(), kMaxArgs);
  e.args.reserve(kept);
  for (size_t i = 0; i < kept; ++i) {
    if (kept != args.size() && i == kept - 1) {
      e.args.push_back("... (" + std::to_string(args.size() - kept + 1) +
                       " more arguments)");
    } else if (args[i].size() > kMaxArgBytes) {
      e.args.push_back(std::string(args[i].substr(0, kMaxArgBytes)) + "... (" +
                       std::to_string(args[i].size() - kMaxArgBytes) +
                       " more bytes)");
    } else {
      e.args.emplace_back(args[i]);
    }
  }
  MutexLock l(&mu_);
  e.id = next_id_++;
  entries_.push_front(std::move(e));
  const uint64_t max = max_len_.load();
  while (entries_.size() > max) entries_.pop_back();
}

std::vector<SlowLog::Entry> SlowLog::Newest(size_t count) const {
  MutexLock l(&mu_);
  count = std::min(count, entries_.size());
  return {entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(count)};
}

size_t SlowLog::size() const {
  MutexLock l(&mu_);
  return entries_.size();
}

void SlowLog::Reset() {
  MutexLock l(&mu_);
  entries_.clear();
}

}  // namespace daxkv::kv
