// SlowLog: what SLOWLOG reports, kept as Redis 7.0 keeps it. Every command
// that ran for at least slowlog-log-slower-than microseconds (negative:
// none; 0: every one) is recorded, newest first, with its arguments (at
// most kMaxArgs, each cut at kMaxArgBytes; secrets already redacted by the
// caller), the client's address and name. The log is cut to
// slowlog-max-len entries when an entry is added, so lowering the length
// takes effect at the next entry, as in Redis.
//
// Thread-safety: every method may be called from any thread. Qualifies()
// reads one atomic; the entries are behind a mutex, taken only for a
// command that qualifies and by SLOWLOG itself.
#ifndef DAXKV_KV_SLOWLOG_H_
#define DAXKV_KV_SLOWLOG_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace daxkv::kv {

class SlowLog {
 public:
  struct Entry {
    int64_t id = 0;
    int64_t unix_s = 0;  // when the command ran
    uint64_t micros = 0;
    std::vector<std::string> args;
    std::string peer;  // "ip:port"
    std::string name;  // the client's name, "" without one
  };

  // Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING.
  static constexpr size_t kMaxArgs = 32;
  static constexpr size_t kMaxArgBytes = 128;

  // Whether a command that ran `micros` is to be recorded.
  bool Qualifies(uint64_t micros) const {
    const int64_t t = slower_than_us_.load(std::memory_order_relaxed);
    return t >= 0 && micros >= static_cast<uint64_t>(t);
  }
  // Records a command, then drops the oldest entries past max_len().
  void Add(std::span<const std::string_view> args, uint64_t micros,
           int64_t unix_s, std::string peer, std::string name);
  // Up to `count` entries, newest first.
  std::vector<Entry> Newest(size_t count) const;
  size_t size() const;
  // Empties the log; ids keep counting.
  void Reset();

  int64_t slower_than_us() const { return slower_than_us_.load(); }
  void set_slower_than_us(int64_t us) { slower_than_us_.store(us); }
  uint64_t max_len() const { return max_len_.load(); }
  void set_max_len(uint64_t n) { max_len_.store(n); }

 private:
  std::atomic<int64_t> slower_than_us_{10000};  // Redis's defaults
  std::atomic<uint64_t> max_len_{128};
  mutable Mutex mu_;
  std::deque<Entry> entries_ GUARDED_BY(mu_);  // newest first
  int64_t next_id_ GUARDED_BY(mu_) = 0;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_SLOWLOG_H_
