// Serving blocked clients inside the pusher's Txn (docs/collections.md §8):
// the one place of the collection commit path where a Txn that made list
// or zset keys non-empty (Txn::ReadyKeys) hands their elements to the
// clients blocked on them, FIFO per key, before it commits. The pops (and a
// BLMOVE's push, which may in turn serve the destination's waiters, as
// Redis does) are part of the pusher's batch: a crash keeps the push and
// the pops together or neither, and no third client can take the element
// between them.
//
// Every caller that commits a Txn of client commands (RunCollWrite; EXEC
// and scripts once they run on engine Txns) does, per attempt:
//
//   BlockedServer served(server);
//   RunTxn(..., [&](Txn& txn) {
//     served.Reset();                 // claims of an earlier attempt
//     ... the command(s) ...
//     return served.Serve(txn, &modified);   // last, before Commit
//   });
//   ok ? served.Committed(client) : served.Reset();
//
// Committed() hands the replies to the pusher's round (Client::round_woken),
// which delivers them after its DB::Sync(): the pop a served client is told
// about is durable before its reply leaves.
//
// Thread-safety: one BlockedServer per Txn, used by the Txn's thread.
#ifndef DAXKV_KV_BLOCK_SERVE_H_
#define DAXKV_KV_BLOCK_SERVE_H_

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/txn.h"
#include "kv/block_registry.h"
#include "kv/client.h"
#include "kv/command.h"
#include "kv/resp_writer.h"

namespace daxkv::kv {

class ServerState;

// Performs `op` on the non-empty `key` (of op.type) in txn, writing the
// reply Redis gives that command into out: a blocking command that finds
// data at once and a served waiter reply the same. BLMOVE to a destination
// of another type replies WRONGTYPE and pops nothing. Keys it changed are
// appended to *modified (WATCH).
Status RunBlockOp(engine::Txn& txn, std::string_view key, const BlockOp& op,
                  ReplyWriter& out, std::vector<std::string>* modified);

// After a blocking command's Txn: nothing when it did not block (waiter
// null); the waiter leaves the registry when the Txn replied an error
// (!ok); else the client is marked blocked on it.
void SettleBlocking(CommandContext& ctx, bool ok,
                    std::shared_ptr<Waiter> waiter);

// After a write committed, while XREADGROUPs wait: each one with a key
// that no longer holds a stream (deleted, expired by the write, renamed
// away, overwritten, flushed) is woken with Redis's "UNBLOCKED the stream
// key no longer exists" (unblockDeletedStreamReadgroupClients).
void UnblockGoneStreamReaders(ServerState& server);

class BlockedServer {
 public:
  explicit BlockedServer(ServerState& server) : server_(server) {}
  ~BlockedServer() { Reset(); }
  BlockedServer(const BlockedServer&) = delete;
  BlockedServer& operator=(const BlockedServer&) = delete;

  // Serves the waiters of `also` (keys a write outside this Txn filled:
  // RENAME, COPY, RESTORE) and of txn's ready keys; an error (a restart,
  // an engine failure) fails the Txn.
  Status Serve(engine::Txn& txn, std::vector<std::string>* modified,
               std::span<const std::string> also = {});
  // The Txn committed: the served waiters leave the registry and their
  // replies go to `pusher`'s round (or at once without one: tests). While
  // the master feeds replicas, the pops are recorded as the pusher's
  // effects (after its own: kv/repl_effects.h).
  void Committed(Client& pusher);
  // The Txn did not commit (or is about to run again): every claimed
  // waiter waits again in its place.
  void Reset();

 private:
  struct Served {
    std::shared_ptr<Waiter> waiter;
    std::string reply;
    std::string effect;  // what replicas apply (RESP; empty for XREAD)
    int effect_count = 1;  // commands in `effect`
  };
  Status ServeKey(engine::Txn& txn, const std::string& key,
                  std::vector<std::string>* modified);
  // XREAD waiters do not consume: every one whose ID is below the newest
  // entry is served; the others wait on, in their places. XREADGROUP
  // waiters take the entries above their group's last delivered ID, FIFO,
  // so one group's next waiter finds them gone; one whose group is gone
  // gets Redis's NOGROUP error.
  Status ServeStreamKey(engine::Txn& txn, const std::string& key);

  ServerState& server_;
  std::vector<Served> served_;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_BLOCK_SERVE_H_
