// MONITOR (kv/monitor.h): a client that streams every command the server
// runs, and what the feed leaves out (Redis's admin commands).
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "kv/acl_categories.h"
#include "kv/command.h"
#include "kv/server_state.h"

namespace daxkv::kv {
namespace {

// Redis's CMD_ADMIN commands and subcommands (its @admin category), which
// MONITOR never shows; a command of daxkv's own by its kCmdAdmin flag.
bool IsAdminCall(const CommandSpec& spec,
                 std::span<const std::string_view> argv) {
  std::string_view categories = RedisAclCategories(spec.name);
  if ((spec.flags & kCmdContainer) && argv.size() >= 2) {
    const std::string_view sub =
        RedisAclCategories(std::string(spec.name) + "|" + ToLower(argv[1]));
    if (!sub.empty()) categories = sub;
  }
  if (categories.empty()) return (spec.flags & kCmdAdmin) != 0;
  return AclCategoriesInclude(categories, "@admin");
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
