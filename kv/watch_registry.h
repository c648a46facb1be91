// WatchRegistry: which clients WATCH which keys, so that a write from any
// I/O thread marks the watchers of every key it changed (Redis's
// touchWatchedKey): their next EXEC returns a null reply. Versions alone
// cannot do this: a key absent at WATCH, then SET and DEL again, is absent
// at EXEC with the same (zero) version.
//
// Ordering: Watch() registers the key before the caller reads its version,
// and a writer calls Touch() after its engine write is visible, so a write
// either happened before the version read (the version differs) or is seen
// by Touch() (the client is marked). A write racing a WATCH may mark the
// client although the WATCH read its result: a spurious abort, allowed
// since the two commands overlapped.
//
// Thread-safety: every method may be called from any thread. A client must
// be unwatched (UnwatchAll) before it is destroyed.
#ifndef DAXKV_KV_WATCH_REGISTRY_H_
#define DAXKV_KV_WATCH_REGISTRY_H_

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "kv/client.h"

namespace daxkv::kv {

class WatchRegistry {
 public:
  // Registers c as a watcher of `key`; false when it already was. The
  // caller then reads the key's version and appends it to c->watched.
  // REQUIRES: called on c's own thread.
  bool Watch(Client* c, std::string_view key);
  // Forgets every key in c->watched, clears it and c's dirty mark.
  // REQUIRES: called on c's own thread.
  void UnwatchAll(Client* c);
  // Marks every client watching `key`.
  void Touch(std::string_view key);
  // Every key some client watches (FLUSHALL touches those that existed).
  std::vector<std::string> Keys() const;
  // Keys watched by at least one client; 0 makes Touch() a no-op without
  // taking the lock.
  size_t watched_keys() const {
    return watched_keys_.load(std::memory_order_seq_cst);
  }

 private:
  mutable Mutex mu_;
  std::unordered_map<std::string, std::vector<Client*>> watchers_
      GUARDED_BY(mu_);
  std::atomic<size_t> watched_keys_{0};
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_WATCH_REGISTRY_H_
