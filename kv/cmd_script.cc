// Scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (LOAD, EXISTS,
// FLUSH, KILL, DEBUG, HELP), as Redis 7.0.
//
// A script runs in isolation under the server's exclusive exec lock (as an
// EXEC block does) in ONE engine Txn (RunStoreTxn, kv/txn_engine_store.h)
// declaring its KEYS; keys it uses undeclared are locked on first use, or
// the Txn restarts and the script runs again from scratch (only the final
// run's writes and reply exist). Its redis.call()s, of every type, read
// their own writes; the Txn commits before the reply, and the round's Sync
// makes it durable (the EVAL commands are kCmdKeyspace). A crash leaves
// all of a script or none of it. As in Redis, an error part way keeps the
// writes made before it (they commit; a failing redis.call itself leaves
// nothing, RunInBlock); inside MULTI the script joins EXEC's Txn instead.
#include <optional>
#include <string>
#include <vector>

#include "kv/block_serve.h"
#include "kv/command.h"
#include "kv/command_notes.h"
#include "kv/executor.h"
#include "kv/pubsub.h"
#include "kv/replication.h"
#include "kv/script_engine.h"
#include "kv/script_section.h"
#include "kv/script_text.h"
#include "kv/txn_engine_store.h"

namespace daxkv::kv {
namespace {

constexpr std::string_view kNoScript =
    "NOSCRIPT No matching script. Please use EVAL.";

}  // namespace

void RunScript(CommandContext& ctx, const ScriptRun& request, bool function) {
  ScriptEngine& engine = ctx.server.scripts();
  auto run = [&](const ScriptRun& r) {
    return function ? engine.RunFunction(r) : engine.Run(r);
  };
  if (ctx.store.block() != nullptr) {
    // Inside EXEC. A shutdown stopped it: EXEC's Txn dies with the server.
    if (!run(request)) ctx.client.close_asap = true;
    return;
  }
  // The executor started loading the keys' index slots (PrefetchKeys); the
  // entries those slots point at, which the script's first reads compare,
  // can start loading now, under the interpreter's set-up.
  for (size_t i = 0; i < request.keys.size() && i < kMaxPrefetchedKeys; ++i) {
    ctx.server.db().PrefetchEntry(request.keys[i]);
  }
  std::string* buf = ctx.out.buffer();
  const size_t mark = buf->size();
  bool stopped = false;
  std::vector<std::string> keys(request.keys.begin(), request.keys.end());
  BlockedServer served(ctx.server);
  EffectsMark effects(ctx.client);
  CommandNotes notes(ctx.server, ctx.client, ctx.out);
  Status s = RunStoreTxn(
      ctx.server.db(), &ctx.server.watches(), &served, std::move(keys),
      [&](TxnEngineStore& store) {
        buf->resize(mark);  // a restart runs the script again
        notes.Restart();
        effects.Rewind();
        ctx.client.pubsub.deferred.clear();
        CommandContext inner{ctx.server, ctx.client, store,
                             ctx.out,    ctx.argv,   true};
        stopped = !run({inner, request.name, request.keys, request.args,
                        request.read_only});
        // Stopped by a shutdown: none of it is applied.
        return stopped ? AbortedError("script stopped by a shutdown")
                       : OkStatus();
      });
  if (stopped || !s.ok()) {  // nothing applied
    effects.Rewind();
    ctx.client.pubsub.deferred.clear();
  }
  if (stopped) {
    buf->resize(mark);  // nothing replied
    ctx.client.close_asap = true;
  } else if (!s.ok()) {
    // Nothing of the script was applied: its reply must not say otherwise.
    buf->resize(mark);
    ReplyEngineError(ctx, s);
  } else {
    notes.Flush();
    served.Committed(ctx.client);
    DeliverDeferred(ctx.server.pubsub(),
                    ctx.server.settings().pubsub_output_limit.load(),
                    ctx.client);
  }
}

bool RefusedUpFront(CommandContext& ctx, const ScriptFlags& flags,
                    bool ro_command) {
  // Redis judges a script by its flags as it judges a command: a script
  // with a shebang writes unless no-writes; only allow-stale ones run on a
  // stale replica (a script without a shebang never does).
  const bool writes = flags.has_shebang && !flags.no_writes;
  if (writes && !ctx.server.PersistenceError().ok()) {
    ctx.out.Error(kErrMisconf);
    return true;
  }
  if (Replication& repl = ctx.server.replication(); !ctx.client.is_master) {
    if (writes && repl.refuses_writes()) {
      ctx.out.Error(kErrReadOnly);
      return true;
    }
    if (!flags.allow_stale && repl.refuses_stale()) {
      ctx.out.Error(kErrMasterDown);
      return true;
    }
  }
  if (!writes) return false;
  if (ro_command) {
    ctx.out.Error(
        "ERR Can not execute a script with write flag using *_ro command.");
    return true;
  }
  return false;
}

uint32_t ScriptCommandFlags(ScriptEngine& engine, std::string_view command,
                            std::span<const std::string_view> argv,
                            uint32_t spec_flags) {
  if (argv.size() < 2) return spec_flags;
  ScriptFlags flags;
  if (command.starts_with("fcall")) {
    const FunctionInfo* fn = engine.functions().Find(argv[1]);
    if (fn == nullptr) return spec_flags;
    flags = {.has_shebang = true,
             .no_writes = fn->no_writes,
             .allow_stale = fn->allow_stale};
  } else if (command.starts_with("evalsha")) {
    char buf[kShaHexLen];
    const std::string_view sha = LowerSha(argv[1], buf);
    if (sha.size() != kShaHexLen || !engine.Has(sha, &flags)) {
      return spec_flags;
    }
  } else {
    // EVAL's flags are its body's shebang, cached or not; a bad one is
    // reported when the script loads.
    size_t skip = 0;
    std::string error;
    if (!ParseShebang(argv[1], &flags, &skip, &error)) return spec_flags;
  }
  if (!flags.has_shebang) return spec_flags;
  uint32_t out = spec_flags & ~(kCmdWrite | kCmdStale);
  if (!flags.no_writes) out |= kCmdWrite;
  if (flags.allow_stale) out |= kCmdStale;
  return out;
}

namespace {

// Runs the cached script `sha` (lower case) with the caller's keys and
// arguments. REQUIRES: the caller runs exclusively.
void RunEval(CommandContext& ctx, std::string_view sha,
             const ScriptFlags& flags, int64_t numkeys, bool ro_command) {
  if (RefusedUpFront(ctx, flags, ro_command)) return;
  const auto keys = ctx.argv.subspan(3, static_cast<size_t>(numkeys));
  const auto args = ctx.argv.subspan(3 + static_cast<size_t>(numkeys));
  RunScript(ctx, {ctx, sha, keys, args, ro_command || flags.no_writes},
            /*function=*/false);
}

void EvalGeneric(CommandContext& ctx, bool by_sha, bool ro_command) {
  int64_t numkeys = 0;
  if (!ParseIntArg(ctx, ctx.argv[2], &numkeys)) return;
  const auto extra = static_cast<int64_t>(ctx.argv.size()) - 3;
  if (numkeys > extra) {
    ctx.out.Error("ERR Number of keys can't be greater than number of args");
    return;
  }
  if (numkeys < 0) {
    ctx.out.Error("ERR Number of keys can't be negative");
    return;
  }
  std::optional<ScriptSection> isolated;
  if (!ctx.in_exec) isolated.emplace(ctx);
  ScriptEngine& engine = ctx.server.scripts();
  ScriptFlags flags;
  if (by_sha) {
    // The executor looked the script up already (ScriptCommandFlags), but
    // outside this section: a SCRIPT FLUSH may have run since. Only a
    // lookup under the section says what will run.
    char buf[kShaHexLen];
    const std::string_view sha = LowerSha(ctx.argv[1], buf);
    if (sha.size() != kShaHexLen || !engine.Has(sha, &flags)) {
      ctx.out.Error(kNoScript);
      return;
    }
    RunEval(ctx, sha, flags, numkeys, ro_command);
    return;
  }
  std::string sha, error;
  if (!engine.Load(ctx.argv[1], &sha, &error)) {
    ctx.out.Error(error);
    return;
  }
  (void)engine.Has(sha, &flags);
  RunEval(ctx, sha, flags, numkeys, ro_command);
}

void EvalCommand(CommandContext& ctx) { EvalGeneric(ctx, false, false); }
void EvalRoCommand(CommandContext& ctx) { EvalGeneric(ctx, false, true); }
void EvalShaCommand(CommandContext& ctx) { EvalGeneric(ctx, true, false); }
void EvalShaRoCommand(CommandContext& ctx) { EvalGeneric(ctx, true, true); }

void ScriptLoad(CommandContext& ctx) {
  std::optional<ExclusiveSection> isolated;
  if (!ctx.in_exec) isolated.emplace(ctx);
  std::string sha, error;
  if (!ctx.server.scripts().Load(ctx.argv[2], &sha, &error)) {
    ctx.out.Error(error);
    return;
  }
  ctx.out.Bulk(sha);
}

void ScriptExists(CommandContext& ctx) {
  ctx.out.ArrayHeader(ctx.argv.size() - 2);
  for (size_t i = 2; i < ctx.argv.size(); ++i) {
    ctx.out.Integer(ctx.server.scripts().Exists(ctx.argv[i]) ? 1 : 0);
  }
}

// SYNC and ASYNC both drop the cache at once: it is small, and the Lua
// state goes with it.
void ScriptFlush(CommandContext& ctx) {
  const size_t argc = ctx.argv.size();
  if (argc > 3 || (argc == 3 && !EqualsIgnoreCase(ctx.argv[2], "sync") &&
                   !EqualsIgnoreCase(ctx.argv[2], "async"))) {
    ctx.out.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    return;
  }
  std::optional<ExclusiveSection> isolated;
  if (!ctx.in_exec) isolated.emplace(ctx);
  ctx.server.scripts().Flush();
  ctx.out.Ok();
}

// The debugger (LDB) is not implemented: NO is accepted.
void ScriptDebug(CommandContext& ctx) {
  std::string_view mode = ctx.argv[2];
  if (EqualsIgnoreCase(mode, "no")) {
    ctx.out.Ok();
  } else if (EqualsIgnoreCase(mode, "yes") || EqualsIgnoreCase(mode, "sync")) {
    ctx.out.Error("ERR SCRIPT DEBUG (the Lua debugger) is not supported");
  } else {
    ctx.out.Error("ERR Use SCRIPT DEBUG YES/SYNC/NO");
  }
}

void ScriptHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "DEBUG (YES|SYNC|NO)",
      "    Set the debug mode for subsequent scripts executed.",
      "EXISTS <sha1> [<sha1> ...]",
      "    Return information about the existence of the scripts in the "
      "script cache.",
      "FLUSH [ASYNC|SYNC]",
      "    Flush the Lua scripts cache. Very dangerous on replicas.",
      "    When called without the optional mode argument, the behavior is "
      "determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the scripts cache.",
      "    * SYNC: Synchronously flush the scripts cache.",
      "KILL",
      "    Kill the currently executing Lua script.",
      "LOAD <script>",
      "    Load a script into the scripts cache without executing it.",
      "HELP",
      "    Prints this help."};
  ReplyHelp(ctx, kLines);
}

struct Subcommand {
  std::string_view name;
  int arity;
  CommandFn fn;
};

}  // namespace

void ReplyScriptKill(CommandContext& ctx, bool function) {
  ScriptEngine& engine = ctx.server.scripts();
  switch (engine.Kill(function)) {
    case ScriptEngine::KillResult::kNotBusy:
      ctx.out.Error("NOTBUSY No scripts in execution right now.");
      break;
    case ScriptEngine::KillResult::kUnkillable:
      ctx.out.Error(
          "UNKILLABLE Sorry the script already executed write commands "
          "against the dataset. You can either wait the script termination "
          "or kill the server in a hard way using the SHUTDOWN NOSAVE "
          "command.");
      break;
    case ScriptEngine::KillResult::kOtherKind:
      ctx.out.Error(engine.BusyError());
      break;
    case ScriptEngine::KillResult::kKilled:
      ctx.out.Ok();
      break;
  }
}

namespace {

void ScriptKill(CommandContext& ctx) { ReplyScriptKill(ctx, false); }

void ScriptCommand(CommandContext& ctx) {
  static constexpr Subcommand kSubcommands[] = {
      {"load", 3, ScriptLoad},    {"exists", -3, ScriptExists},
      {"flush", -2, ScriptFlush}, {"kill", 2, ScriptKill},
      {"debug", 3, ScriptDebug},  {"help", 2, ScriptHelp}};
  for (const Subcommand& sub : kSubcommands) {
    if (!EqualsIgnoreCase(ctx.argv[1], sub.name)) continue;
    const int argc = static_cast<int>(ctx.argv.size());
    if (sub.arity >= 0 ? argc != sub.arity : argc < -sub.arity) {
      ReplyWrongArity(ctx, "script|" + std::string(sub.name));
      return;
    }
    sub.fn(ctx);
    return;
  }
  ReplyUnknownSubcommand(ctx);
}

}  // namespace

void RegisterScriptCommands(CommandTable* t) {
  const std::string_view g = "scripting";
  const uint32_t f = kCmdKeyspace | kCmdStale | kCmdScript;
  t->Add({.name = "eval",
          .arity = -3,
          .flags = f,
          .fn = EvalCommand,
          .group = g,
          .summary = "Execute a Lua script server side",
          .since = "2.6.0"});
  t->Add({.name = "evalsha",
          .arity = -3,
          .flags = f,
          .fn = EvalShaCommand,
          .group = g,
          .summary = "Execute a Lua script server side",
          .since = "2.6.0"});
  t->Add({.name = "eval_ro",
          .arity = -3,
          .flags = f | kCmdReadOnly,
          .fn = EvalRoCommand,
          .group = g,
          .summary = "Execute a read-only Lua script server side",
          .since = "7.0.0"});
  t->Add({.name = "evalsha_ro",
          .arity = -3,
          .flags = f | kCmdReadOnly,
          .fn = EvalShaRoCommand,
          .group = g,
          .summary = "Execute a read-only Lua script server side",
          .since = "7.0.0"});
  t->Add({.name = "script",
          .arity = -2,
          .flags = kCmdContainer | kCmdStale,
          .fn = ScriptCommand,
          .group = g,
          .summary = "A container for Lua scripts management commands",
          .since = "2.6.0"});
}

}  // namespace daxkv::kv
