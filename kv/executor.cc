#include "kv/executor.h"

#include <span>

#include "base/cycle_clock.h"
#include "base/int_text.h"
#include "kv/block_serve.h"
#include "kv/command_notes.h"
#include "kv/repl_effects.h"
#include "kv/repl_master.h"
#include "kv/script_engine.h"
#include "kv/script_section.h"
#include "kv/txn_engine_store.h"

namespace daxkv::kv {
namespace {

void ReplyUnknownCommand(std::span<const std::string_view> argv,
                         ReplyWriter& out) {
  // Same text as Redis 7.0: each argument quoted, at most ~128 characters.
  std::string args;
  for (size_t i = 1; i < argv.size() && args.size() < 128; ++i) {
    size_t room = 128 - args.size();
    args += "'";
    args.append(argv[i].substr(0, room));
    args += "' ";
  }
  std::string msg = "ERR unknown command '";
  msg.append(argv[0].substr(0, 128));
  msg += "', with args beginning with: ";
  msg += args;
  out.Error(msg);
}

void Queue(uint32_t flags, Client& client,
           std::span<const std::string_view> argv, ReplyWriter& out) {
  auto& q = client.queued.emplace_back();
  q.reserve(argv.size());
  for (auto a : argv) {
    q.emplace_back(a);
    client.queued_bytes += a.size() + sizeof(std::string);
  }
  if (flags & kCmdWrite) client.multi_has_write = true;
  if (!(flags & kCmdStale)) client.multi_has_nonstale = true;
  client.multi_queued.store(static_cast<int>(client.queued.size()),
                            std::memory_order_relaxed);
  out.Simple("QUEUED");
}

// The spec's position in the default table (CommandStats' index); past the
// end for a spec from another table (tests).
size_t SpecIndex(const CommandSpec& spec) {
  const std::vector<CommandSpec>& all = CommandTable::Default().all();
  const CommandSpec* first = all.data();
  if (std::less<>()(&spec, first) ||
      !std::less<>()(&spec, first + all.size())) {
    return all.size();
  }
  return static_cast<size_t>(&spec - first);
}

// Redis's rejectCommand: a rejected EXEC discards the transaction; any
// rejection inside MULTI dooms the block (EXECABORT).
void Reject(ServerState& server, const CommandSpec& spec, Client& client,
            std::string msg, ReplyWriter& out) {
  server.command_stats().Rejected(SpecIndex(spec));
  if (spec.flags & kCmdRunsQueue) {
    DiscardTransaction(server, client);
    std::string_view text = msg;
    if (text.substr(0, 4) == "ERR ") text.remove_prefix(4);
    msg = "EXECABORT Transaction discarded because of: " + std::string(text);
  } else if (client.in_multi) {
    client.multi_error = true;
  }
  server.command_stats().CountError(msg);
  out.Error(msg);
}

// Redis's islocalClient: only these two addresses count as local.
bool IsLocalClient(const Client& client) {
  std::string_view addr = client.addr;
  std::string_view ip = addr.substr(0, addr.rfind(':'));
  return ip == "127.0.0.1" || ip == "::1";
}

// enable-debug-command (Redis's allowProtectedAction).
bool ProtectedAllowed(const ServerState& server, const Client& client) {
  const std::string& mode = server.config().enable_debug_command;
  return mode == "yes" || (mode == "local" && IsLocalClient(client));
}

// Refused while the pool cannot be persisted, as Redis refuses on a failed
// save: write commands, EXEC of a block with writes, and PING.
bool RefusedOnPersistenceError(uint32_t flags, const Client& client) {
  if (flags & kCmdWrite) return true;
  if (flags & kCmdRunsQueue) return client.multi_has_write;
  return (flags & kCmdRefusedOnMisconf) != 0;
}

// Redis's is_denystale_command: a command without kCmdStale, or EXEC of a
// block holding one.
bool IsDenyStaleCommand(uint32_t flags, const Client& client) {
  if (!(flags & kCmdStale)) return true;
  return (flags & kCmdRunsQueue) && client.multi_has_nonstale;
}

// Redis's is_write_command: a write, or EXEC of a block holding one.
bool IsWriteCommand(uint32_t flags, const Client& client) {
  if (flags & kCmdWrite) return true;
  return (flags & kCmdRunsQueue) && client.multi_has_write;
}

constexpr std::string_view kDebugNotAllowed =
    "ERR DEBUG command not allowed. If the enable-debug-command option is "
    "set to \"local\", you can run it from a local connection, otherwise "
    "you need to set this option in the configuration file, and then "
    "restart the server.";

// Records an access to each key argument, as Redis's lookupKey does.
// AccessClock keeps whole seconds (Redis's LRU clock lags up to 1000/hz
// ms), so the clock's coarse reading serves.
void TouchKeys(const CommandSpec& spec, const CommandContext& ctx) {
  const int64_t now = ctx.server.clock().CoarseNowMs();
  ForEachCommandKey(spec, ctx.argv, [&](std::string_view key) {
    ctx.server.access_clock().Touch(key, now);
  });
}

// Starts loading, for each key the command names, the lines its first
// access waits for (engine::DB::PrefetchKey, the access clock), so that the
// checks before the command, and a script's interpreter set-up, overlap
// those misses. EVAL, EVALSHA and FCALL name their keys after numkeys.
void PrefetchKeys(ServerState& server, const CommandSpec& spec,
                  std::span<const std::string_view> argv) {
  auto budget = static_cast<int64_t>(kMaxPrefetchedKeys);
  // A script may write unless it is EVAL_RO's kind.
  const bool write = (spec.flags & kCmdWrite) || ((spec.flags & kCmdScript) &&
                                                  !(spec.flags & kCmdReadOnly));
  // False once the budget is spent: a long key list is not walked past it.
  auto prefetch = [&](std::string_view key) {
    if (--budget < 0) return false;
    PrefetchCommandKey(server, key, write);
    return true;
  };
  if (spec.flags & kCmdScript) {
    int64_t numkeys = 0;
    if (argv.size() < 3 || !ParseInt64(argv[2], &numkeys)) return;
    const auto argc = static_cast<int64_t>(argv.size());
    for (int64_t i = 3; i < argc && i < 3 + numkeys; ++i) {
      if (!prefetch(argv[i])) break;
    }
    return;
  }
  ForEachCommandKey(spec, argv, prefetch);
}

// Redis's check for a RESP2 client in subscribed mode: only these run.
bool AllowedWhileSubscribed(std::string_view name) {
  return name == "ping" || name == "subscribe" || name == "ssubscribe" ||
         name == "unsubscribe" || name == "sunsubscribe" ||
         name == "psubscribe" || name == "punsubscribe" || name == "quit" ||
         name == "reset";
}

// While a script is busy this thread serves its clients without the round
// lock (IoThread::LockRound): only what touches no data may run, as
// Redis's CMD_ALLOW_BUSY commands (SHUTDOWN only with NOSAVE).
bool ServedWithoutRoundLock(const Client& client) {
  return client.round_lock != nullptr && !client.round_lock->owns_lock() &&
         !HoldsKeptExclusive();
}

bool AllowedWhileBusy(const CommandSpec& spec,
                      std::span<const std::string_view> argv) {
  if (spec.name == "script" || spec.name == "function") {
    return argv.size() == 2 &&
           (EqualsIgnoreCase(argv[1], "kill") ||
            (spec.name == "function" && EqualsIgnoreCase(argv[1], "stats")));
  }
  if (spec.name != "shutdown") return false;
  for (size_t i = 1; i < argv.size(); ++i) {
    if (EqualsIgnoreCase(argv[i], "nosave")) return true;
  }
  return false;
}

std::string FullName(const CommandSpec& spec,
                     std::span<const std::string_view> argv) {
  std::string name(spec.name);
  if ((spec.flags & kCmdContainer) && argv.size() > 1) {
    name += "|" + ToLower(argv[1]);
  }
  return name;
}

// The latency monitor's sample and the slow log's entry for a command
// that ran for `ticks`.
void NoteDuration(const CommandSpec& spec, CommandContext& ctx, uint64_t ticks,
                  bool with_args) {
  const uint64_t micros = CycleClock::ToMicros(ticks);
  if (ctx.server.latency().threshold_ms() > 0) {
    ctx.server.latency().MaybeAdd(
        (spec.flags & kCmdFast) ? "fast-command" : "command", micros / 1000,
        ctx.server.NowMs() / 1000);
  }
  if ((spec.flags & kCmdSkipSlowlog) || !with_args) return;
  if (ctx.client.blocked != nullptr) {  // not done: logged once served
    NoteBlockedCommand(spec, ctx, micros);
  } else if (ctx.server.slowlog().Qualifies(micros)) {
    RecordSlowCommand(spec, ctx, micros);
  }
}

}  // namespace

void NoteCommand(const CommandSpec& spec, CommandContext& ctx, uint64_t ticks,
                 bool failed, std::string_view error, bool with_args) {
  if (failed) ctx.server.command_stats().CountError(error);
  ctx.server.command_stats().Record(SpecIndex(spec), ticks, failed);
  if (with_args && !(spec.flags & kCmdScript) &&
      ctx.server.monitors().active()) {
    FeedMonitors(spec, ctx);
  }
  NoteDuration(spec, ctx, ticks, with_args);
}

bool SlowLogTakes(const CommandSpec& spec, ServerState& server,
                  uint64_t ticks) {
  return !(spec.flags & kCmdSkipSlowlog) &&
         server.slowlog().Qualifies(CycleClock::ToMicros(ticks));
}

bool RunCommand(const CommandSpec& spec, CommandContext& ctx) {
  if (spec.flags & kCmdKeyspace) ctx.client.touched_db = true;
  CommandNotes* const notes = ctx.client.notes;
  if (notes == nullptr) {
    ctx.server.stats().commands_processed.fetch_add(1,
                                                    std::memory_order_relaxed);
  }
  ctx.spec = &spec;
  const std::string& reply = *ctx.out.buffer();
  const size_t reply_at = reply.size();
  const size_t effects_at = ctx.client.repl_effects.size();
  const int effect_count = ctx.client.repl_effect_count;
  // A script shows in MONITOR before the commands it runs, as in Redis.
  if ((spec.flags & kCmdScript) && ctx.server.monitors().active()) {
    if (notes != nullptr) {
      notes->Add(spec, ctx, 0, false, {}, /*monitor_only=*/true);
    } else {
      FeedMonitors(spec, ctx);
    }
  }
  const uint64_t start = CycleClock::Now();
  spec.fn(ctx);
  // Two CPUs' counters may be a few ticks apart: a negative time is 0.
  const uint64_t end = CycleClock::Now();
  const uint64_t ticks = end > start ? end - start : 0;
  // The command's own reply starts at reply_at: an error reply there is a
  // failed call (Redis's failed_calls), and its code goes to errorstats.
  const bool failed = reply.size() > reply_at && reply[reply_at] == '-';
  std::string_view error;
  if (failed) {
    const size_t eol = reply.find('\r', reply_at);
    error = std::string_view(reply).substr(
        reply_at + 1, eol == std::string::npos ? eol : eol - reply_at - 1);
  }
  if (notes != nullptr) {
    notes->Add(spec, ctx, ticks, failed, error, false);
  } else {
    NoteCommand(spec, ctx, ticks, failed, error);
  }
  if (!failed && (spec.flags & (kCmdWrite | kCmdMayReplicate)) &&
      !(spec.flags & (kCmdScript | kCmdRunsQueue))) {
    // Pops the command served to blocked clients (BlockedServer) follow
    // its own effect.
    Client& c = ctx.client;
    std::string served = c.repl_effects.substr(effects_at);
    const int served_count = c.repl_effect_count - effect_count;
    c.repl_effects.resize(effects_at);
    c.repl_effect_count = effect_count;
    RecordEffects(ctx, reply_at);
    c.repl_effects += served;
    c.repl_effect_count += served_count;
  }
  if (spec.first_key > 0 && !(spec.flags & kCmdNoTouch)) TouchKeys(spec, ctx);
  // Not inside a block: its Txn still holds the stripes a read needs.
  if ((spec.flags & (kCmdWrite | kCmdRunsQueue | kCmdScript)) &&
      ctx.store.block() == nullptr) {
    UnblockGoneStreamReaders(ctx.server);
  }
  return failed;
}

void RunInBlock(const CommandSpec& spec, CommandContext& ctx) {
  TxnEngineStore& block = *ctx.store.block();
  const uint64_t savepoint = block.txn().Savepoint();
  const size_t touched = block.touched_mark();
  const bool failed = RunCommand(spec, ctx);
  if (failed && !(spec.flags & (kCmdScript | kCmdKeepsWritesOnError))) {
    block.txn().RollbackTo(savepoint);
    block.Rewind(touched);
  }
}

void ExecuteCommand(ServerState& server, Client& client,
                    std::span<const std::string_view> argv, ReplyWriter& out,
                    Store* store) {
  if (argv.empty()) return;
  ExecuteLookedUp(server, client, CommandTable::Default().Find(argv[0]), argv,
                  out, store);
}

namespace {

// Why `spec` must not run for `client` now (Redis's processCommand checks
// after the arity, in its order), or "" when it may; counts a MISCONF
// refusal. `flags`: the command's, or a script's declared ones.
std::string Refusal(ServerState& server, Client& client,
                    const CommandSpec& spec,
                    std::span<const std::string_view> argv, uint32_t flags) {
  if ((spec.flags & kCmdProtected) && !ProtectedAllowed(server, client)) {
    return std::string(kDebugNotAllowed);
  }
  if (!client.authenticated && !(spec.flags & kCmdNoAuth) &&
      server.settings().auth_required()) {
    return "NOAUTH Authentication required.";
  }
  if (ServedWithoutRoundLock(client) && !AllowedWhileBusy(spec, argv)) {
    return std::string(server.scripts().BusyError());
  }
  if (client.in_multi && (spec.flags & kCmdNoMulti)) {
    return "ERR Command not allowed inside a transaction";
  }
  if (Replication& repl = server.replication(); !client.is_master) {
    // Redis's order: -LOADING, then -READONLY (processCommand).
    if (repl.loading() && !(spec.flags & kCmdLoading)) {
      return "LOADING Redis is loading the dataset in memory";
    }
    if (repl.refuses_writes() && IsWriteCommand(flags, client)) {
      return std::string(kErrReadOnly);
    }
  }
  if (RefusedOnPersistenceError(flags, client) &&
      !server.PersistenceError().ok()) {
    server.stats().misconf_rejections.fetch_add(1);
    return std::string(kErrMisconf);
  }
  if (client.monitor.load(std::memory_order_relaxed) &&
      (flags & (kCmdWrite | kCmdReadOnly | kCmdMayReplicate))) {
    return "ERR Replica can't interact with the keyspace";
  }
  if (client.resp.load(std::memory_order_relaxed) == 2 &&
      client.pubsub.subscribed() && !AllowedWhileSubscribed(spec.name)) {
    return "ERR Can't execute '" + FullName(spec, argv) +
           "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
           "are allowed in this context";
  }
  if (!client.is_master && IsDenyStaleCommand(flags, client) &&
      server.replication().refuses_stale()) {
    return std::string(kErrMasterDown);
  }
  return "";
}

// Queues the command (MULTI) or runs it, on `store` when a pipelined run
// gives one.
void Dispatch(ServerState& server, Client& client, const CommandSpec& spec,
              std::span<const std::string_view> argv, ReplyWriter& out,
              Store* store, uint32_t flags) {
  client.last_command.store(&spec, std::memory_order_relaxed);
  if ((spec.flags & kCmdContainer) && argv.size() > 1) {
    MutexLock l(&client.info_mu);
    client.last_subcommand = ToLower(argv[1]);
  }
  if (client.in_multi && !(spec.flags & kCmdNoQueue)) {
    Queue(flags, client, argv, out);
  } else {
    DirectStore direct(&server.db(), &server.watches());
    CommandContext ctx{server, client, store != nullptr ? *store : direct, out,
                       argv};
    ReplOrderHold hold(server, client, spec, argv);
    if (store != nullptr && store->block() != nullptr) {
      RunInBlock(spec, ctx);  // a WriteRun's command: rolled back alone
    } else {
      RunCommand(spec, ctx);
    }
  }
  // What a client keeps between commands (its MULTI queue and WATCHed
  // keys) is bounded like its query buffer: over the limit it is closed,
  // as Redis closes a client whose query buffer overflows.
  if (client.queued_bytes + client.watched_bytes >
      server.config().client_query_buffer_limit) {
    client.close_asap = true;
  }
}

// ExecuteLookedUp's checks, then the command.
void ExecuteChecked(ServerState& server, Client& client,
                    const CommandSpec* spec,
                    std::span<const std::string_view> argv, ReplyWriter& out,
                    Store* store) {
  // A script's exclusive hold carries over only to the next script.
  if (spec == nullptr || !(spec->flags & kCmdScript)) {
    ReleaseKeptExclusive(client);
  }
  if (spec == nullptr) {
    ReplyUnknownCommand(argv, out);
    server.command_stats().CountError("ERR unknown command");
    if (client.in_multi) client.multi_error = true;
    return;
  }
  if (!ArityOk(*spec, argv.size())) {
    Reject(server, *spec, client,
           "ERR wrong number of arguments for '" + std::string(spec->name) +
               "' command",
           out);
    return;
  }
  // A queued command runs at EXEC; a batch of GETs prefetched its own.
  if (!client.in_multi && store == nullptr) PrefetchKeys(server, *spec, argv);
  // A script is judged by the flags it declares, as Redis's getCommandFlags.
  const uint32_t flags =
      (spec->flags & kCmdScript)
          ? ScriptCommandFlags(server.scripts(), spec->name, argv, spec->flags)
          : spec->flags;
  if (std::string why = Refusal(server, client, *spec, argv, flags);
      !why.empty()) {
    Reject(server, *spec, client, why, out);
    return;
  }
  Dispatch(server, client, *spec, argv, out, store, flags);
}

}  // namespace

void ExecuteLookedUp(ServerState& server, Client& client,
                     const CommandSpec* spec,
                     std::span<const std::string_view> argv, ReplyWriter& out,
                     Store* store) {
  if (argv.empty()) return;
  // Messages published before this command ran go out before its reply.
  DrainMailbox(server, client, out);
  client.reply_skip = client.reply_skip_next;  // CLIENT REPLY SKIP's target
  client.reply_skip_next = false;
  const size_t reply_at = out.buffer()->size();
  ExecuteChecked(server, client, spec, argv, out, store);
  std::string& reply = *out.buffer();
  const bool pushes = spec != nullptr && (spec->flags & kCmdRepliesPushes) &&
                      reply.size() > reply_at && reply[reply_at] != '-';
  if ((client.reply_off || client.reply_skip) && !pushes) {
    reply.resize(reply_at);
    if (client.blocked != nullptr) client.drop_blocked_reply = true;
  }
  client.reply_skip = false;
}

bool SyncRound(ServerState& server) {
  server.stats().syncs.fetch_add(1, std::memory_order_relaxed);
  // The replication stream appended so far is the effects of writes this
  // Sync covers: replicas may have it once the Sync succeeded.
  ReplMaster& master = server.replication().master();
  const bool feeding = master.active();
  const int64_t stream_upto = feeding ? master.offset() : 0;
  Status s = server.db().Sync();
  if (!s.ok()) {
    server.NotePersistenceError(s);
    return false;
  }
  if (feeding) master.MarkDurable(stream_upto);
  return true;
}

}  // namespace daxkv::kv
