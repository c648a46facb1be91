// Server commands: TIME, LASTSAVE, SAVE, BGSAVE, SHUTDOWN, DEBUG.
//
// SAVE and BGSAVE only acknowledge: every acknowledged write is already
// durable on the pool, there is no snapshot to take.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>
#include <thread>

#include "kv/command.h"

namespace daxkv::kv {
namespace {

void TimeCommand(CommandContext& ctx) {
  const int64_t us = ctx.server.clock().NowMicros();
  ctx.out.ArrayHeader(2);
  ctx.out.Bulk(std::to_string(us / 1000000));
  ctx.out.Bulk(std::to_string(us % 1000000));
}

void LastSaveCommand(CommandContext& ctx) {
  ctx.out.Integer(ctx.server.last_save_s().load());
}

void SaveCommand(CommandContext& ctx) {
  ctx.server.last_save_s().store(ctx.server.NowMs() / 1000);
  ctx.out.Ok();
}

void BgSaveCommand(CommandContext& ctx) {
  if (ctx.argv.size() > 2 ||
      (ctx.argv.size() == 2 && !EqualsIgnoreCase(ctx.argv[1], "schedule"))) {
    ReplySyntaxError(ctx);
    return;
  }
  ctx.server.last_save_s().store(ctx.server.NowMs() / 1000);
  ctx.out.Simple("Background saving started");
}

// Redis 7.0's argument rules: NOSAVE|SAVE, NOW, FORCE in any order, or
// ABORT alone; NOSAVE with SAVE, or ABORT with anything, is a syntax error.
// (Every option means the same here: the pool is always durable.)
void ShutdownCommand(CommandContext& ctx) {
  bool abort = false, nosave = false, save = false, other = false;
  for (size_t j = 1; j < ctx.argv.size(); ++j) {
    std::string_view a = ctx.argv[j];
    if (EqualsIgnoreCase(a, "abort")) {
      abort = true;
    } else if (EqualsIgnoreCase(a, "nosave")) {
      nosave = true;
    } else if (EqualsIgnoreCase(a, "save")) {
      save = true;
    } else if (EqualsIgnoreCase(a, "now") || EqualsIgnoreCase(a, "force")) {
      other = true;
    } else {
      ReplySyntaxError(ctx);
      return;
    }
  }
  if ((abort && (nosave || save || other)) || (nosave && save)) {
    ReplySyntaxError(ctx);
    return;
  }
  if (abort) {
    ctx.out.Error("ERR No shutdown in progress.");
    return;
  }
  if (!ctx.server.RequestShutdown()) {
    ctx.out.Error("ERR Errors trying to SHUTDOWN. Check logs.");
    return;
  }
  // Like Redis: no reply; the connection closes as the server drains.
  ctx.client.close_after_reply = true;
}

// Blocks this I/O thread only (Redis blocks its single thread), in short
// slices so that a shutdown (SIGTERM, SHUTDOWN from another thread) is not
// held up by it: the sleep ends as the server starts shutting down.
// A real sleep, so steady time, not the server's Clock.
void DebugSleep(ServerState& server, double secs) {
  using Steady = std::chrono::steady_clock;
  const auto end = Steady::now() + std::chrono::duration_cast<Steady::duration>(
                                       std::chrono::duration<double>(secs));
  constexpr auto kSlice = std::chrono::milliseconds(10);
  while (!server.shutting_down()) {
    auto now = Steady::now();
    if (now >= end) return;
    std::this_thread::sleep_for(std::min<Steady::duration>(end - now, kSlice));
  }
}

void DebugHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "SET-ACTIVE-EXPIRE <0|1>",
      "    Setting it to 0 disables expiring keys in background when they are "
      "not",
      "    accessed (otherwise the Redis behavior). Setting it to 1 reenables "
      "back the",
      "    default.",
      "SLEEP <seconds>",
      "    Stop the server for <seconds>. Decimals allowed.",
      "SIMULATE-PERSIST-ERROR <message>",
      "    Act as if a group commit had failed with <message>: write commands",
      "    are refused (-MISCONF) until a restart. For tests.",
      "HELP",
      "    Prints this help."};
  ReplyHelp(ctx, kLines);
}

void DebugCommand(CommandContext& ctx) {
  std::string sub = ToLower(ctx.argv[1]);
  if (sub == "help" && ctx.argv.size() == 2) {
    DebugHelp(ctx);
  } else if (sub == "sleep" && ctx.argv.size() == 3) {
    std::string arg(ctx.argv[2]);
    char* end = nullptr;
    double secs = std::strtod(arg.c_str(), &end);
    if (*end != '\0' || !(secs >= 0) || std::isinf(secs)) {
      ctx.out.Error("ERR value is not a valid float");
      return;
    }
    DebugSleep(ctx.server, secs);
    ctx.out.Ok();
  } else if (sub == "simulate-persist-error" && ctx.argv.size() == 3) {
    ctx.server.NotePersistenceError(IOError(ctx.argv[2]));
    ctx.out.Ok();
  } else if (sub == "set-active-expire" && ctx.argv.size() == 3) {
    // The engine reclaims expired keys in the background; reads never see
    // them either way, so this switch only records the setting.
    ctx.server.settings().active_expire.store(ctx.argv[2] != "0");
    ctx.out.Ok();
  } else {
    ReplySubcommandSyntaxError(ctx);
  }
}

}  // namespace

void RegisterServerCommands(CommandTable* t) {
  const std::string_view g = "server";
  t->Add({.name = "time",
          .arity = 1,
          .flags = kCmdFast | kCmdLoading | kCmdStale,
          .fn = TimeCommand,
          .group = g,
          .summary = "Return the current server time",
          .since = "2.6.0"});
  t->Add(
      {.name = "lastsave",
       .arity = 1,
       .flags = kCmdFast | kCmdLoading | kCmdStale,
       .fn = LastSaveCommand,
       .group = g,
       .summary = "Get the UNIX time stamp of the last successful save to disk",
       .since = "1.0.0"});
  t->Add({.name = "save",
          .arity = 1,
          .flags = kCmdAdmin,
          .fn = SaveCommand,
          .group = g,
          .summary = "Synchronously save the dataset to disk",
          .since = "1.0.0"});
  t->Add({.name = "bgsave",
          .arity = -1,
          .flags = kCmdAdmin,
          .fn = BgSaveCommand,
          .group = g,
          .summary = "Asynchronously save the dataset to disk",
          .since = "1.0.0"});
  t->Add({.name = "shutdown",
          .arity = -1,
          .flags = kCmdAdmin | kCmdLoading | kCmdStale | kCmdNoMulti,
          .fn = ShutdownCommand,
          .group = g,
          .summary = "Synchronously save the dataset to disk and then shut "
                     "down the server",
          .since = "1.0.0"});
  t->Add({.name = "debug",
          .arity = -2,
          .flags = kCmdAdmin | kCmdLoading | kCmdStale | kCmdProtected,
          .fn = DebugCommand,
          .group = g,
          .summary = "A container for debugging commands",
          .since = "1.0.0"});
}

}  // namespace daxkv::kv
