// ExecuteCommand: runs one parsed request for a client the way Redis's
// processCommand does: lookup (unknown command), arity, authentication,
// MULTI queueing, then the handler against the engine.
//
// The caller owns durability: when client.touched_db is set afterwards, it
// must DB::Sync() before the reply leaves (the server batches that per
// event-loop round; tests call SyncRound()).
#ifndef DAXKV_KV_EXECUTOR_H_
#define DAXKV_KV_EXECUTOR_H_

#include <span>
#include <string>
#include <string_view>

#include "kv/client.h"
#include "kv/command.h"
#include "kv/resp_writer.h"
#include "kv/server_state.h"

namespace daxkv::kv {

// How many of a command's keys ExecuteCommand prefetches
// (engine::DB::PrefetchKey) before the command runs: past this many the
// first lines would be evicted before use.
inline constexpr size_t kMaxPrefetchedKeys = 16;

// Starts loading the lines a command's first access of `key` waits for:
// its index slot, version words and (with `write`) dead-put counter
// (engine::DB::PrefetchKey), and its access-clock bucket.
inline void PrefetchCommandKey(ServerState& server, std::string_view key,
                               bool write) {
  server.db().PrefetchKey(key, write);
  server.access_clock().Prefetch(key);
}

// `store`: what a command that runs (not queued) reads and writes through;
// null for a DirectStore on the server's engine (GetBatch passes itself).
// A block's store (WriteRun's Txn) runs the command as RunInBlock does.
void ExecuteCommand(ServerState& server, Client& client,
                    std::span<const std::string_view> argv, ReplyWriter& out,
                    Store* store = nullptr);
// ExecuteCommand of a request whose command the caller looked up already:
// `spec` is CommandTable::Default().Find(argv[0]) (null: unknown).
void ExecuteLookedUp(ServerState& server, Client& client,
                     const CommandSpec* spec,
                     std::span<const std::string_view> argv, ReplyWriter& out,
                     Store* store = nullptr);

// Runs a looked-up command's handler and counts it (INFO commandstats,
// errorstats). Returns whether its reply was an error (Redis's failed
// call). Inside a Txn body that may run again, the counting waits in the
// client's CommandNotes (kv/command_notes.h).
bool RunCommand(const CommandSpec& spec, CommandContext& ctx);
// RunCommand's counting of a command that ran for `ticks` (`error`: its
// error reply's first line, when `failed`): commandstats, errorstats, the
// latency monitor and, `with_args` (ctx.argv holds them), MONITOR and the
// slow log.
void NoteCommand(const CommandSpec& spec, CommandContext& ctx, uint64_t ticks,
                 bool failed, std::string_view error, bool with_args = true);
// Whether the slow log takes `spec` after `ticks`.
bool SlowLogTakes(const CommandSpec& spec, ServerState& server, uint64_t ticks);

// Runs a command of a block (EXEC's queue, a script's redis.call) on the
// block's Txn (ctx.store.block()), between a Savepoint() and, when it
// replies an error, a RollbackTo(): a failing command leaves nothing and
// the others keep their effects, as in Redis (whose commands fail before
// writing). A script (kCmdScript), and MIGRATE (kCmdKeepsWritesOnError),
// keep the writes they made before their
// error, as Redis does. REQUIRES: ctx.store.block() is not null.
void RunInBlock(const CommandSpec& spec, CommandContext& ctx);

// Durability: makes every write of the round durable (one DB::Sync());
// call before the round's replies leave. Returns false (and the replies
// must not be sent) on failure.
bool SyncRound(ServerState& server);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_EXECUTOR_H_
