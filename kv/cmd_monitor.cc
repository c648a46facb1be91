// MONITOR (kv/monitor.h): a client that streams every command the server
// runs, and what the feed leaves out (Redis's admin commands).
#include <span>
#include <string_view>
#include <utility>

#include "kv/command.h"
#include "kv/server_state.h"

namespace daxkv::kv {
namespace {

// Redis's CMD_ADMIN, which MONITOR never shows. daxkv's CLIENT and SLOWLOG
// are admin as a whole; in Redis only these subcommands are.
bool IsAdminCall(const CommandSpec& spec,
                 std::span<const std::string_view> argv) {
  if (!(spec.flags & kCmdAdmin)) return false;
  static constexpr std::pair<std::string_view, std::string_view> kAdminSubs[] =
      {{"client", "kill"},  {"client", "list"},    {"client", "no-evict"},
       {"client", "pause"}, {"client", "unblock"}, {"client", "unpause"},
       {"slowlog", "get"},  {"slowlog", "len"},    {"slowlog", "reset"}};
  if (spec.name != "client" && spec.name != "slowlog") return true;
  if (argv.size() < 2) return true;
  for (const auto& [cmd, sub] : kAdminSubs) {
    if (spec.name == cmd && EqualsIgnoreCase(argv[1], sub)) return true;
  }
  return false;
}

void MonitorCommand(CommandContext& ctx) {
  Client& c = ctx.client;
  if (ctx.in_exec) {  // queued in MULTI (a script may not call it)
    ctx.out.Error("ERR MONITOR isn't allowed for DENY BLOCKING client");
    return;
  }
  // A monitor or a replica asking again gets no reply at all, as in Redis.
  if (c.monitor.load() || c.is_replica.load()) return;
  ctx.server.monitors().Add(&c);
  c.monitor.store(true);
  ctx.out.Ok();
}

}  // namespace

void FeedMonitors(const CommandSpec& spec, CommandContext& ctx) {
  if (IsAdminCall(spec, ctx.argv)) return;
  ctx.server.monitors().Feed(ctx.client, RedactedArgs(spec, ctx.argv));
}

void RegisterMonitorCommands(CommandTable* t) {
  t->Add({.name = "monitor",
          .arity = 1,
          .flags = kCmdAdmin | kCmdLoading | kCmdStale,
          .fn = MonitorCommand,
          .group = "server",
          .summary = "Listen for all requests received by the server in real "
                     "time",
          .since = "1.0.0"});
}

}  // namespace daxkv::kv
