// SLOWLOG GET / LEN / RESET / HELP (kv/slowlog.h), and the slow log's
// record of a command (its arguments redacted: kv/redacted_args.cc).
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kv/command.h"
#include "kv/server_state.h"
#include "kv/slowlog.h"

namespace daxkv::kv {
namespace {

void SlowLogGet(CommandContext& ctx) {
  int64_t count = 10;
  if (ctx.argv.size() == 3 &&
      (!ParseInt64(ctx.argv[2], &count) || count < -1)) {
    ctx.out.Error("ERR count should be greater than or equal to -1");
    return;
  }
  SlowLog& log = ctx.server.slowlog();
  const std::vector<SlowLog::Entry> entries =
      log.Newest(count == -1 ? SIZE_MAX : static_cast<size_t>(count));
  ctx.out.ArrayHeader(entries.size());
  for (const SlowLog::Entry& e : entries) {
    ctx.out.ArrayHeader(6);
    ctx.out.Integer(e.id);
    ctx.out.Integer(e.unix_s);
    ctx.out.Integer(static_cast<int64_t>(e.micros));
    ctx.out.ArrayHeader(e.args.size());
    for (const std::string& a : e.args) ctx.out.Bulk(a);
    ctx.out.Bulk(e.peer);
    ctx.out.Bulk(e.name);
  }
}

void SlowLogHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET [<count>]",
      "    Return top <count> entries from the slowlog (default: 10, -1 mean "
      "all).",
      "    Entries are made of:",
      "    id, timestamp, time in microseconds, arguments array, client IP "
      "and port,",
      "    client name",
      "LEN",
      "    Return the length of the slowlog.",
      "RESET",
      "    Reset the slowlog.",
      "HELP",
      "    Prints this help."};
  ReplyHelp(ctx, kLines);
}

void SlowLogCommand(CommandContext& ctx) {
  const std::string_view sub = ctx.argv[1];
  const size_t argc = ctx.argv.size();
  if (EqualsIgnoreCase(sub, "get")) {
    if (argc > 3) return ReplySubcommandSyntaxError(ctx);
    return SlowLogGet(ctx);
  }
  const bool len = EqualsIgnoreCase(sub, "len");
  const bool reset = EqualsIgnoreCase(sub, "reset");
  const bool help = EqualsIgnoreCase(sub, "help");
  if (!len && !reset && !help) return ReplyUnknownSubcommand(ctx);
  if (argc != 2) {
    return ReplyWrongArity(ctx, "slowlog|" + ToLower(sub));
  }
  if (help) return SlowLogHelp(ctx);
  if (len)
    return ctx.out.Integer(static_cast<int64_t>(ctx.server.slowlog().size()));
  ctx.server.slowlog().Reset();
  ctx.out.Ok();
}

void AddEntry(ServerState& server, Client& c,
              std::span<const std::string_view> args, uint64_t micros) {
  std::string name;
  {
    MutexLock l(&c.info_mu);
    name = c.name;
  }
  server.slowlog().Add(args, micros, static_cast<int64_t>(std::time(nullptr)),
                       c.addr, std::move(name));
}

}  // namespace

void RecordSlowCommand(const CommandSpec& spec, CommandContext& ctx,
                       uint64_t micros) {
  AddEntry(ctx.server, ctx.client, RedactedArgs(spec, ctx.argv), micros);
}

void NoteBlockedCommand(const CommandSpec& spec, CommandContext& ctx,
                        uint64_t micros) {
  Client& c = ctx.client;
  c.blocked_slowlog_args.clear();
  if (ctx.server.slowlog().slower_than_us() < 0) return;
  for (std::string_view a : RedactedArgs(spec, ctx.argv)) {
    c.blocked_slowlog_args.emplace_back(a);
  }
  c.blocked_micros = micros;
}

void EndBlockForSlowLog(ServerState& server, Client& client, bool served) {
  std::vector<std::string> args;
  args.swap(client.blocked_slowlog_args);  // taken, whatever the outcome
  if (!served || args.empty() ||
      !server.slowlog().Qualifies(client.blocked_micros)) {
    return;
  }
  const std::vector<std::string_view> views(args.begin(), args.end());
  AddEntry(server, client, views, client.blocked_micros);
}

void RegisterSlowLogCommands(CommandTable* t) {
  t->Add({.name = "slowlog",
          .arity = -2,
          .flags = kCmdAdmin | kCmdLoading | kCmdStale | kCmdContainer,
          .fn = SlowLogCommand,
          .group = "server",
          .summary = "A container for slow log commands",
          .since = "2.2.12"});
}

}  // namespace daxkv::kv
