// The master's write stream: the effects of each write command, recorded
// while it runs and appended to the backlog (kv/repl_master.h) in the
// engine's commit order.
//
// Ordering: a top-level command that may write (ReplOrderHold) runs under
// the master's order mutex and appends its effects before releasing it; a
// command that takes the exec lock exclusively (ExclusiveSection: EXEC,
// scripts, MSET) releases the order mutex first and appends at the end of
// its section, while no other command runs. So two writes of one key
// reach the stream in the order they were applied.
//
// Effects, not commands, as Redis 7 propagates: relative expiries become
// absolute (PEXPIREAT, SET ... PXAT), an expiry in the past becomes DEL,
// GETDEL a DEL, SPOP an SREM of what was popped, INCRBYFLOAT a SET of the
// result; the writes of an EXEC block or a script go out inside
// MULTI/EXEC.
//
// Thread-safety: the Client's fields belong to its I/O thread.
#ifndef DAXKV_KV_REPL_EFFECTS_H_
#define DAXKV_KV_REPL_EFFECTS_H_

#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "engine/db.h"

namespace daxkv::kv {

class ServerState;
struct Client;
struct CommandSpec;
struct CommandContext;

// Scoped over one top-level command: records its effects while the master
// has replicas, and appends them at the end.
class ReplOrderHold {
 public:
  // While a full sync's snapshot is being serialized, the keys the
  // command may touch (`argv`, EXEC's queue) are preserved first
  // (kv/repl_snapshot.h).
  ReplOrderHold(ServerState& server, Client& client, const CommandSpec& spec,
                std::span<const std::string_view> argv);
  ~ReplOrderHold();
  ReplOrderHold(const ReplOrderHold&) = delete;
  ReplOrderHold& operator=(const ReplOrderHold&) = delete;

 private:
  ServerState& server_;
  Client& client_;
  std::unique_lock<Mutex> lock_;
};

// After a write command succeeded (RunCommand): records its effects when
// the client is recording. `reply_at`: where its reply starts in ctx.out.
void RecordEffects(CommandContext& ctx, size_t reply_at);

// Records an effect a command works out itself when the client is
// recording: MIGRATE's DEL of the keys the target took, whatever its reply
// (RecordEffects records nothing for MIGRATE).
void RecordEffect(Client& client, const std::vector<std::string>& argv);

// Hands the effects `from` recorded (a script's redis.call) to `to`.
void MoveEffects(Client& from, Client& to);

// A point in the client's recorded effects: a block (EXEC, a script)
// whose Txn restarts runs again from it, and one not applied leaves none.
class EffectsMark {
 public:
  explicit EffectsMark(Client& client);
  void Rewind();

 private:
  Client& client_;
  size_t bytes_;
  int count_;
};

// Appends the client's recorded effects to the backlog (MULTI/EXEC around
// several of a block or a script). REQUIRES: the client holds the order
// mutex, or the exec lock is held exclusively.
void PublishEffects(ServerState& server, Client& client);

// The engine's expiry reclaim as effects: a DEL per key it deletes, as a
// Redis master sends when a key expires (a redis-server replica never
// expires keys itself and waits for that DEL). A batch runs like an I/O
// round's write: the exec lock shared, then (while replicas are attached)
// the order mutex, then the engine's key locks; so a client's write of
// the key reaches the stream after the DEL when it came after the
// deletion, and a full sync's snapshot preserves the key first.
// Thread-safety: called by the engine's background thread only.
class ExpiryEffects final : public engine::ExpiryListener {
 public:
  explicit ExpiryEffects(ServerState& server) : server_(server) {}
  void Enter() override;
  void Expiring(std::string_view key) override;
  void Expired(std::string_view key) override;
  void Exit() override;

 private:
  ServerState& server_;
  std::shared_lock<std::shared_timed_mutex> exec_;
  std::unique_lock<Mutex> order_;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_REPL_EFFECTS_H_
