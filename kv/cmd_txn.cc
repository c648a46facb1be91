// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//
// EXEC runs its block under the server's exclusive exec lock (no other
// command runs meanwhile: Redis's isolation) as ONE engine Txn
// (RunStoreTxn, kv/txn_engine_store.h) declaring every queued command's
// keys and the watched keys, whatever their types, so after a crash either
// the whole block is there or none of it. Each queued command runs between
// a savepoint and a rollback when it fails (RunInBlock): a runtime error
// (WRONGTYPE) leaves nothing of that command and the rest applied, as in
// Redis. Keys a key spec cannot name (numkeys forms, scripts' undeclared
// keys) are locked on first use or restart the Txn; a restart runs the
// block again from the start with its replies reset.
//
// WATCH as in Redis 7.0: EXEC fails (null reply) when a watched key was
// written (even back to its old state), flushed, or expired since the
// WATCH. Writes mark the watchers through the server's WatchRegistry;
// expiry shows as a changed version at EXEC.
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "kv/block_serve.h"
#include "kv/command.h"
#include "kv/command_notes.h"
#include "kv/executor.h"
#include "kv/pubsub.h"
#include "kv/replication.h"
#include "kv/txn_engine_store.h"

namespace daxkv::kv {
namespace {

void MultiCommand(CommandContext& ctx) {
  if (ctx.client.in_multi) {
    ctx.out.Error("ERR MULTI calls can not be nested");
    return;
  }
  ctx.client.in_multi = true;
  ctx.client.multi_queued.store(0, std::memory_order_relaxed);
  ctx.out.Ok();
}

void DiscardCommand(CommandContext& ctx) {
  if (!ctx.client.in_multi) {
    ctx.out.Error("ERR DISCARD without MULTI");
    return;
  }
  DiscardTransaction(ctx.server, ctx.client);
  ctx.out.Ok();
}

// The WATCH version of a key of any type as `store` sees it (0 when absent
// or expired): KeyInfo::version, which every write, element writes
// included, deletion and expiry reclaim change. The same at WATCH (the
// engine) and at EXEC (the block's Txn).
uint64_t CurrentVersion(Store& store, std::string_view key) {
  uint64_t version = 0;
  Status s = store.Read({std::string(key)}, [&](engine::ReadOps& ops) {
    DAXKV_ASSIGN_OR_RETURN(engine::KeyInfo info, ops.Stat(key));
    version = info.type == engine::KeyType::kNone ? 0 : info.version;
    return OkStatus();
  });
  return s.ok() ? version : 0;
}

void WatchCommand(CommandContext& ctx) {
  if (ctx.client.in_multi) {
    ctx.out.Error("ERR WATCH inside MULTI is not allowed");
    return;
  }
  for (size_t i = 1; i < ctx.argv.size(); ++i) {
    // Registered before the version is read: see kv/watch_registry.h.
    if (ctx.server.watches().Watch(&ctx.client, ctx.argv[i])) {
      ctx.client.watched.emplace_back(std::string(ctx.argv[i]),
                                      CurrentVersion(ctx.store, ctx.argv[i]));
      ctx.client.watched_bytes += ctx.argv[i].size() + 2 * sizeof(void*);
    }
  }
  ctx.out.Ok();
}

void UnwatchCommand(CommandContext& ctx) {
  ctx.server.watches().UnwatchAll(&ctx.client);
  ctx.out.Ok();
}

using Watched = std::vector<std::pair<std::string, uint64_t>>;

// Whether a watched key changed since WATCH: expired or otherwise changed
// (its version no longer matches). Checked inside the block's Txn, which
// holds every watched key's stripe from its start to its commit, so no
// writer can change one in between (the engine's RequireVersion would
// compare the raw version, which an expiry does not change).
bool WatchedKeyChanged(TxnEngineStore& store, const Watched& watched) {
  for (const auto& [key, version] : watched) {
    if (CurrentVersion(store, key) != version) return true;
  }
  return false;
}

// The keys EXEC's Txn declares: the queued commands' key specs' and the
// watched keys.
std::vector<std::string> BlockKeys(const Client& c) {
  const CommandTable& table = CommandTable::Default();
  std::vector<std::string> keys;
  std::vector<std::string_view> argv;
  for (const auto& q : c.queued) {
    argv.assign(q.begin(), q.end());
    for (std::string_view k : CommandKeys(*table.Find(argv[0]), argv)) {
      keys.emplace_back(k);
    }
  }
  for (const auto& w : c.watched) keys.push_back(w.first);
  return keys;
}

// Runs the queued commands against `store`, replying into ctx.out. Once the
// block's replies reach the client output limit the client is to be closed
// (Redis's CLOSE_ASAP): the block still runs to the end and commits, but its
// replies are dropped as they come, so they never hold more than the limit
// plus one reply.
void RunQueued(CommandContext& ctx, TxnEngineStore& store) {
  const CommandTable& table = CommandTable::Default();
  const uint64_t limit = ctx.server.settings().client_output_limit.load();
  std::string* buf = ctx.out.buffer();
  const size_t mark = buf->size();
  std::vector<std::string_view> argv;
  ctx.out.ArrayHeader(ctx.client.queued.size());
  for (const auto& q : ctx.client.queued) {
    argv.assign(q.begin(), q.end());
    const CommandSpec* spec = table.Find(argv[0]);
    CommandContext sub{ctx.server, ctx.client, store, ctx.out, argv, true};
    RunInBlock(*spec, sub);
    if (limit != 0 && buf->size() - mark >= limit && !ctx.client.close_asap) {
      ctx.client.close_asap = true;
      ctx.server.stats().client_output_limit_disconnects.fetch_add(1);
    }
    if (ctx.client.close_asap) buf->resize(mark);
  }
}

// EXEC's block under the exclusive exec lock, as one engine Txn.
void RunBlockIsolated(CommandContext& ctx) {
  Client& c = ctx.client;
  ExclusiveSection section(ctx);
  if (c.watch_dirty.load(std::memory_order_acquire)) {
    DiscardTransaction(ctx.server, c);
    c.replicaof_deferred = false;
    ctx.out.NullArray();
    return;
  }
  std::vector<std::string> keys = BlockKeys(c);
  const Watched watched = c.watched;
  // As Redis: the block's own writes do not count against its watches.
  ctx.server.watches().UnwatchAll(&c);
  std::string* buf = ctx.out.buffer();
  const size_t mark = buf->size();
  BlockedServer served(ctx.server);
  EffectsMark effects(c);
  CommandNotes notes(ctx.server, c, ctx.out);
  Status s = RunStoreTxn(ctx.server.db(), &ctx.server.watches(), &served,
                         std::move(keys), [&](TxnEngineStore& store) {
                           buf->resize(mark);  // a restart runs it again
                           notes.Restart();
                           effects.Rewind();
                           c.pubsub.deferred.clear();
                           if (WatchedKeyChanged(store, watched)) {
                             return AbortedError("a watched key changed");
                           }
                           RunQueued(ctx, store);
                           return OkStatus();
                         });
  if (!s.ok()) {
    // Nothing of the block was applied: replace its replies.
    buf->resize(mark);
    effects.Rewind();
    c.pubsub.deferred.clear();
    c.replicaof_deferred = false;
    if (s.code() == StatusCode::kAborted) {
      ctx.out.NullArray();
    } else {
      ReplyEngineError(ctx, s);
    }
  } else {
    notes.Flush();
    served.Committed(ctx.client);
    DeliverDeferred(ctx.server.pubsub(),
                    ctx.server.settings().pubsub_output_limit.load(), c);
  }
  DiscardTransaction(ctx.server, c);
}

void ExecCommand(CommandContext& ctx) {
  Client& c = ctx.client;
  if (!c.in_multi) {
    ctx.out.Error("ERR EXEC without MULTI");
    return;
  }
  if (c.multi_error) {
    DiscardTransaction(ctx.server, c);
    ctx.out.Error(
        "EXECABORT Transaction discarded because of previous errors.");
    return;
  }
  c.touched_db = true;
  RunBlockIsolated(ctx);
  // REPLICAOF in the block: the link thread it stops may be waiting for
  // the exec lock, so it is joined only now that the block released it.
  RunDeferredReplicaOf(ctx);
}

}  // namespace

void RegisterTxnCommands(CommandTable* t) {
  const std::string_view g = "transactions";
  const uint32_t f = kCmdNoQueue | kCmdFast | kCmdLoading | kCmdStale;
  t->Add({.name = "multi",
          .arity = 1,
          .flags = f,
          .fn = MultiCommand,
          .group = g,
          .summary = "Mark the start of a transaction block",
          .since = "1.2.0"});
  t->Add({.name = "exec",
          .arity = 1,
          .flags = kCmdNoQueue | kCmdLoading | kCmdStale | kCmdRunsQueue |
                   kCmdSkipSlowlog,
          .fn = ExecCommand,
          .group = g,
          .summary = "Execute all commands issued after MULTI",
          .since = "1.2.0"});
  t->Add({.name = "discard",
          .arity = 1,
          .flags = f,
          .fn = DiscardCommand,
          .group = g,
          .summary = "Discard all commands issued after MULTI",
          .since = "2.0.0"});
  t->Add({.name = "watch",
          .arity = -2,
          .flags = f | kCmdKeyspace,
          .fn = WatchCommand,
          .first_key = 1,
          .last_key = -1,
          .step = 1,
          .group = g,
          .summary = "Watch the given keys to determine execution of the "
                     "MULTI/EXEC block",
          .since = "2.2.0"});
  t->Add({.name = "unwatch",
          .arity = 1,
          .flags = f,
          .fn = UnwatchCommand,
          .group = g,
          .summary = "Forget about all watched keys",
          .since = "2.2.0"});
}

}  // namespace daxkv::kv
