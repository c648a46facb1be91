// AclLog: what ACL LOG reports, kept as Redis 7.0 keeps it. daxkv has the
// default user only, with every permission, so the one denial it logs is a
// failed authentication (AUTH, HELLO AUTH): reason "auth", the command's
// name as the client spelt it for object, the username tried. An entry like one
// of the 10 newest (same reason, context, object and username, within 60 s of
// it) is counted into that one, which moves to the front, as Redis groups them.
// The log is cut to acllog-max-len entries when an entry is added.
//
// Thread-safety: every method may be called from any thread.
#ifndef DAXKV_KV_ACL_LOG_H_
#define DAXKV_KV_ACL_LOG_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace daxkv::kv {

class AclLog {
 public:
  struct Entry {
    int64_t count = 1;
    std::string reason;   // "auth"
    std::string context;  // "toplevel", "multi"
    std::string object;   // "AUTH", "hello": argv[0]
    std::string username;
    int64_t updated_ms = 0;   // the newest occurrence
    std::string client_info;  // the client's CLIENT LIST line then
  };

  // Records a failed authentication as `username` by `command`.
  void AddAuthFailure(std::string_view command, std::string_view username,
                      bool in_multi, std::string client_info, int64_t now_ms);
  // Up to `count` entries, newest first.
  std::vector<Entry> Newest(size_t count) const;
  void Reset();

  uint64_t max_len() const { return max_len_.load(); }
  void set_max_len(uint64_t n) { max_len_.store(n); }

 private:
  std::atomic<uint64_t> max_len_{128};  // Redis's default
  mutable Mutex mu_;
  std::deque<Entry> entries_ GUARDED_BY(mu_);  // newest first
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_ACL_LOG_H_
