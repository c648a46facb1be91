// RdbLoader: the RDB visitor a replica's full sync feeds (kv/replica_link.h):
// writes every key of the master's RDB into the engine, with its expiry, as
// the master holds it (every type daxkv holds: strings, lists, sets, hashes,
// sorted sets) and the master's function libraries (FUNCTION LOAD through
// `run`). What daxkv cannot hold (streams, module values) stops the load with
// the reader's NotSupported error: the sync fails loudly, nothing is dropped
// silently.
//
// Durability: keys are written without a per-key sync; the caller makes the
// whole load durable with one DB::Sync() before it reports the sync done
// (and before any offset is acknowledged).
//
// Thread-safety: one thread (the link's); each key is written under a
// shared hold of the server's exec lock, as a round of an I/O thread.
#ifndef DAXKV_KV_REPL_LOAD_H_
#define DAXKV_KV_REPL_LOAD_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "rdb/reader.h"

namespace daxkv::kv {

class ServerState;

// Takes a shared hold of the server's exec lock, giving up (false) once
// *stop is set.
bool LockRoundUnlessStopped(std::shared_lock<std::shared_timed_mutex>* round,
                            const std::atomic<bool>& stop);

class RdbLoader final : public rdb::RdbVisitor {
 public:
  // `stop`: the link's stop flag; set, the load ends with Aborted (it never
  // waits for the exec lock while the link is being stopped).
  // `run` executes a command as the master client and returns its error
  // reply as a non-OK status.
  using RunFn = std::function<Status(std::span<const std::string_view> argv)>;
  RdbLoader(ServerState* server, const std::atomic<bool>* stop, RunFn run)
      : server_(server), stop_(stop), run_(std::move(run)) {}

  Status OnKey(uint64_t db, std::string key, rdb::Object object) override;
  Status OnFunction(std::string_view library_code) override;

  uint64_t keys_written() const { return written_; }
  uint64_t keys_expired() const { return expired_; }

 private:
  ServerState* server_;
  const std::atomic<bool>* stop_;
  RunFn run_;
  uint64_t written_ = 0;
  uint64_t expired_ = 0;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_REPL_LOAD_H_
