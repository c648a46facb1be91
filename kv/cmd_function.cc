// Functions: FCALL, FCALL_RO and FUNCTION (LOAD, DELETE, FLUSH, LIST, DUMP,
// RESTORE, STATS, KILL, HELP), as Redis 7.0. A function runs exactly as an
// EVAL script does (kv/cmd_script.cc): in isolation, its writes one engine
// Txn committed before the reply. A change of the libraries is durable in
// the pool's system namespace before its reply (kv/function_store.h).
#include <optional>
#include <string>

#include "kv/command.h"
#include "kv/function_store.h"
#include "kv/script_engine.h"
#include "kv/script_section.h"

namespace daxkv::kv {
namespace {

// After a change of `libs` from `before`: makes it durable, or puts the
// libraries back and replies the error. Returns whether to reply success.
bool Persisted(CommandContext& ctx, FunctionLibraries& libs,
               const LibraryCodes& before) {
  Status s = SaveFunctionChange(ctx.server.db(), before, libs,
                                ctx.client.resume_record);
  if (s.ok()) return true;
  ReplyEngineError(ctx, s);
  return false;
}

void FcallGeneric(CommandContext& ctx, bool ro_command) {
  std::optional<ScriptSection> isolated;
  if (!ctx.in_exec) isolated.emplace(ctx);
  const FunctionInfo* fn =
      ctx.server.scripts().functions().Find(ctx.argv[1]);
  if (fn == nullptr) {
    ctx.out.Error("ERR Function not found");
    return;
  }
  int64_t numkeys = 0;
  if (!ParseInt64(ctx.argv[2], &numkeys)) {
    ctx.out.Error("ERR Bad number of keys provided");
    return;
  }
  if (numkeys > static_cast<int64_t>(ctx.argv.size()) - 3) {
    ctx.out.Error("ERR Number of keys can't be greater than number of args");
    return;
  }
  if (numkeys < 0) {
    ctx.out.Error("ERR Number of keys can't be negative");
    return;
  }
  const ScriptFlags flags{.has_shebang = true,
                          .no_writes = fn->no_writes,
                          .allow_stale = fn->allow_stale};
  if (RefusedUpFront(ctx, flags, ro_command)) return;
  const std::string name = fn->name;  // the run may not outlive a FLUSH
  const auto keys = ctx.argv.subspan(3, static_cast<size_t>(numkeys));
  const auto args = ctx.argv.subspan(3 + static_cast<size_t>(numkeys));
  RunScript(ctx, {ctx, name, keys, args, ro_command || fn->no_writes},
            /*function=*/true);
}

void FcallCommand(CommandContext& ctx) { FcallGeneric(ctx, false); }
void FcallRoCommand(CommandContext& ctx) { FcallGeneric(ctx, true); }

void FunctionLoad(CommandContext& ctx, FunctionLibraries& libs) {
  bool replace = false;
  for (size_t i = 2; i + 1 < ctx.argv.size(); ++i) {
    if (!EqualsIgnoreCase(ctx.argv[i], "replace")) {
      ctx.out.Error("ERR Unknown option given: " + std::string(ctx.argv[i]));
      return;
    }
    replace = true;
  }
  std::string name, error;
  const LibraryCodes before = libs.Codes();
  if (!libs.Load(ctx.argv.back(), replace, &name, &error)) {
    ctx.out.Error(error);
    return;
  }
  if (Persisted(ctx, libs, before)) ctx.out.Bulk(name);
}

void FunctionList(CommandContext& ctx, FunctionLibraries& libs) {
  bool with_code = false;
  std::optional<std::string> pattern;
  for (size_t i = 2; i < ctx.argv.size(); ++i) {
    if (EqualsIgnoreCase(ctx.argv[i], "withcode")) {
      with_code = true;
    } else if (EqualsIgnoreCase(ctx.argv[i], "libraryname")) {
      if (i + 1 == ctx.argv.size()) {
        ctx.out.Error("ERR library name argument was not given");
        return;
      }
      pattern = std::string(ctx.argv[++i]);
    } else {
      ctx.out.Error("ERR Unknown argument " + std::string(ctx.argv[i]));
      return;
    }
  }
  libs.List(with_code, pattern ? &*pattern : nullptr, ctx.out);
}

void FunctionRestore(CommandContext& ctx, FunctionLibraries& libs) {
  if (ctx.argv.size() > 4) {
    ReplySubcommandSyntaxError(ctx);
    return;
  }
  std::string policy = ctx.argv.size() == 4 ? ToLower(ctx.argv[3]) : "append";
  if (policy != "flush" && policy != "append" && policy != "replace") {
    ctx.out.Error("ERR Wrong restore policy given, value should be either "
                  "FLUSH, APPEND or REPLACE.");
    return;
  }
  std::string error;
  const LibraryCodes before = libs.Codes();
  if (!libs.Restore(ctx.argv[2], policy, &error)) {
    ctx.out.Error(error);
    return;
  }
  if (Persisted(ctx, libs, before)) ctx.out.Ok();
}

void FunctionFlush(CommandContext& ctx, FunctionLibraries& libs) {
  if (ctx.argv.size() > 3 ||
      (ctx.argv.size() == 3 && !EqualsIgnoreCase(ctx.argv[2], "sync") &&
       !EqualsIgnoreCase(ctx.argv[2], "async"))) {
    ctx.out.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
    return;
  }
  const LibraryCodes before = libs.Codes();
  libs.Flush();
  if (Persisted(ctx, libs, before)) ctx.out.Ok();
}

void FunctionDelete(CommandContext& ctx, FunctionLibraries& libs) {
  const LibraryCodes before = libs.Codes();
  if (!libs.Delete(ctx.argv[2])) {
    ctx.out.Error("ERR Library not found");
    return;
  }
  if (Persisted(ctx, libs, before)) ctx.out.Ok();
}

void FunctionHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "LOAD [REPLACE] <FUNCTION CODE>",
      "    Create a new library with the given library name and code.",
      "DELETE <LIBRARY NAME>",
      "    Delete the given library.",
      "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
      "    Return general information on all the libraries:",
      "    * Library name",
      "    * The engine used to run the Library",
      "    * Library description",
      "    * Functions list",
      "    * Library code (if WITHCODE is given)",
      "    It also possible to get only function that matches a pattern "
      "using LIBRARYNAME argument.",
      "STATS",
      "    Return information about the current function running:",
      "    * Function name",
      "    * Command used to run the function",
      "    * Duration in MS that the function is running",
      "    If no function is running, return nil",
      "    In addition, returns a list of available engines.",
      "KILL",
      "    Kill the current running function.",
      "FLUSH [ASYNC|SYNC]",
      "    Delete all the libraries.",
      "    When called without the optional mode argument, the behavior is "
      "determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the libraries.",
      "    * SYNC: Synchronously flush the libraries.",
      "DUMP",
      "    Return a serialized payload representing the current libraries, "
      "can be restored using FUNCTION RESTORE command",
      "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
      "    Restore the libraries represented by the given payload, it is "
      "possible to give a restore policy to",
      "    control how to handle existing libraries (default APPEND):",
      "    * FLUSH: delete all existing libraries.",
      "    * APPEND: appends the restored libraries to the existing "
      "libraries. On collision, abort.",
      "    * REPLACE: appends the restored libraries to the existing "
      "libraries, On collision, replace the old",
      "      libraries with the new libraries (notice that even on this "
      "option there is a chance of failure",
      "      in case of functions name collision with another library).",
      "HELP",
      "    Prints this help."};
  ReplyHelp(ctx, kLines);
}

struct Subcommand {
  std::string_view name;
  int arity;
  void (*fn)(CommandContext&, FunctionLibraries&);
};

void FunctionCommand(CommandContext& ctx) {
  static constexpr Subcommand kSubcommands[] = {
      {"load", -3, FunctionLoad},        {"delete", 3, FunctionDelete},
      {"flush", -2, FunctionFlush},      {"list", -2, FunctionList},
      {"restore", -3, FunctionRestore},
      {"dump", 2,
       [](CommandContext& c, FunctionLibraries& l) { c.out.Bulk(l.Dump()); }}};
  const int argc = static_cast<int>(ctx.argv.size());
  if (EqualsIgnoreCase(ctx.argv[1], "kill") ||
      EqualsIgnoreCase(ctx.argv[1], "help") ||
      EqualsIgnoreCase(ctx.argv[1], "stats")) {
    if (argc != 2) {
      ReplyWrongArity(ctx, "function|" + ToLower(ctx.argv[1]));
    } else if (EqualsIgnoreCase(ctx.argv[1], "help")) {
      FunctionHelp(ctx);
    } else if (EqualsIgnoreCase(ctx.argv[1], "stats")) {
      // Runs while a script is busy (as Redis's, CMD_ALLOW_BUSY), without
      // isolation: it reads only the engine's running-script snapshot and
      // the libraries' counters.
      ScriptEngine& scripts = ctx.server.scripts();
      RunningScript running;
      const bool is_running = scripts.Running(&running);
      if (is_running && !running.function) {
        ctx.out.Error(scripts.BusyError());  // Redis 7.0: an EVAL runs
      } else {
        scripts.functions().Stats(is_running ? &running : nullptr, ctx.out);
      }
    } else {
      ReplyScriptKill(ctx, true);  // runs while a function is busy
    }
    return;
  }
  for (const Subcommand& sub : kSubcommands) {
    if (!EqualsIgnoreCase(ctx.argv[1], sub.name)) continue;
    if (sub.arity >= 0 ? argc != sub.arity : argc < -sub.arity) {
      ReplyWrongArity(ctx, "function|" + std::string(sub.name));
      return;
    }
    std::optional<ExclusiveSection> isolated;
    if (!ctx.in_exec) isolated.emplace(ctx);
    sub.fn(ctx, ctx.server.scripts().functions());
    return;
  }
  ReplyUnknownSubcommand(ctx);
}

}  // namespace

void RegisterFunctionCommands(CommandTable* t) {
  const std::string_view g = "scripting";
  t->Add({.name = "fcall",
          .arity = -3,
          .flags = kCmdKeyspace | kCmdStale | kCmdScript,
          .fn = FcallCommand,
          .group = g,
          .summary = "Invoke a function",
          .since = "7.0.0"});
  t->Add({.name = "fcall_ro",
          .arity = -3,
          .flags = kCmdKeyspace | kCmdStale | kCmdReadOnly | kCmdScript,
          .fn = FcallRoCommand,
          .group = g,
          .summary = "Invoke a read-only function",
          .since = "7.0.0"});
  t->Add({.name = "function",
          .arity = -2,
          .flags = kCmdContainer | kCmdStale,
          .fn = FunctionCommand,
          .group = g,
          .summary = "A container for function commands",
          .since = "7.0.0"});
}

}  // namespace daxkv::kv
