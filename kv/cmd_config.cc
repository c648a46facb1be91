// CONFIG GET / SET / RESETSTAT / REWRITE / HELP for the settings daxkv has.
#include <string>
#include <vector>

#include "kv/command.h"
#include "kv/glob.h"

namespace daxkv::kv {
namespace {

// Name/value pairs CONFIG GET reports, current values included.
std::vector<std::pair<std::string, std::string>> Settings(ServerState& s) {
  const ServerConfig& c = s.config();
  RuntimeSettings& r = s.settings();
  uint64_t out_limit = r.client_output_limit.load();
  return {
      {"bind", c.bind},
      {"port", std::to_string(c.port)},
      {"requirepass", r.requirepass()},
      {"maxclients", std::to_string(r.maxclients.load())},
      {"timeout", std::to_string(r.timeout.load())},
      {"protected-mode", r.protected_mode.load() ? "yes" : "no"},
      {"proto-max-bulk-len", std::to_string(r.proto_max_bulk_len.load())},
      {"client-query-buffer-limit",
       std::to_string(c.client_query_buffer_limit)},
      {"client-output-buffer-limit", "normal " + std::to_string(out_limit) +
                                         " 0 0 replica 0 0 0 pubsub 0 0 0"},
      {"io-threads", std::to_string(c.threads)},
      {"databases", "1"},
      {"maxmemory", "0"},
      // daxkv persists every acknowledged write on the pool; it has no RDB
      // snapshots and no AOF.
      {"save", ""},
      {"appendonly", "no"},
      {"appendfsync", "no"},
      {"enable-debug-command", c.enable_debug_command},
      {"pool", c.pool},
      {"pool-size", std::to_string(c.pool_size)},
  };
}

void ConfigGet(CommandContext& ctx) {
  auto all = Settings(ctx.server);
  std::vector<const std::pair<std::string, std::string>*> hits;
  for (const auto& kv : all) {
    for (size_t j = 2; j < ctx.argv.size(); ++j) {
      if (GlobMatch(ctx.argv[j], kv.first, true)) {
        hits.push_back(&kv);
        break;
      }
    }
  }
  ctx.out.MapHeader(hits.size());
  for (const auto* kv : hits) {
    ctx.out.Bulk(kv->first);
    ctx.out.Bulk(kv->second);
  }
}

// Applies one CONFIG SET pair; returns the error detail or "" when done.
std::string SetOne(ServerState& s, const std::string& name,
                   std::string_view value) {
  RuntimeSettings& r = s.settings();
  int64_t n = 0;
  bool is_int = ParseInt64(value, &n);
  if (name == "requirepass") {
    r.set_requirepass(std::string(value));
  } else if (name == "maxclients" || name == "timeout") {
    if (!is_int) return "argument couldn't be parsed into an integer";
    int64_t lo = name == "timeout" ? 0 : 1;
    if (n < lo || n > 2147483647) {
      return "argument must be between " + std::to_string(lo) +
             " and 2147483647 inclusive";
    }
    (name == "timeout" ? r.timeout : r.maxclients).store(static_cast<int>(n));
  } else if (name == "protected-mode") {
    if (value != "yes" && value != "no")
      return "argument must be 'yes' or 'no'";
    r.protected_mode.store(value == "yes");
  } else if (name == "proto-max-bulk-len") {
    if (!is_int || n < 1024)
      return "argument couldn't be parsed into an integer";
    r.proto_max_bulk_len.store(static_cast<uint64_t>(n));
  } else if (name == "save" || name == "appendonly" || name == "appendfsync") {
    // Accepted for tools that switch snapshots off: daxkv has none.
  } else {
    return "can't set immutable config";
  }
  return "";
}

bool IsKnown(ServerState& s, const std::string& name) {
  for (const auto& kv : Settings(s)) {
    if (kv.first == name) return true;
  }
  return false;
}

void ConfigSet(CommandContext& ctx) {
  if (ctx.argv.size() < 4 || ctx.argv.size() % 2 != 0) {
    ReplyWrongArity(ctx, "config|set");
    return;
  }
  for (size_t j = 2; j < ctx.argv.size(); j += 2) {
    std::string name = ToLower(ctx.argv[j]);
    if (!IsKnown(ctx.server, name)) {
      ctx.out.Error(
          "ERR Unknown option or number of arguments for CONFIG SET - '" +
          std::string(ctx.argv[j]) + "'");
      return;
    }
  }
  for (size_t j = 2; j < ctx.argv.size(); j += 2) {
    std::string name = ToLower(ctx.argv[j]);
    std::string err = SetOne(ctx.server, name, ctx.argv[j + 1]);
    if (!err.empty()) {
      ctx.out.Error("ERR CONFIG SET failed (possibly related to argument '" +
                    name + "') - " + err);
      return;
    }
  }
  ctx.out.Ok();
}

void ConfigHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET <pattern>",
      "    Return parameters matching the glob-like <pattern> and their "
      "values.",
      "SET <directive> <value>",
      "    Set the configuration <directive> to <value>.",
      "RESETSTAT",
      "    Reset statistics reported by the INFO command.",
      "HELP",
      "    Prints this help."};
  ReplyHelp(ctx, kLines);
}

void ConfigCommand(CommandContext& ctx) {
  std::string sub = ToLower(ctx.argv[1]);
  if (sub == "get") {
    if (ctx.argv.size() < 3) {
      ReplyWrongArity(ctx, "config|get");
    } else {
      ConfigGet(ctx);
    }
  } else if (sub == "set") {
    ConfigSet(ctx);
  } else if (sub == "resetstat") {
    if (ctx.argv.size() != 2) {
      ReplyWrongArity(ctx, "config|resetstat");
      return;
    }
    ctx.server.stats().Reset();
    ctx.out.Ok();
  } else if (sub == "rewrite") {
    ctx.out.Error("ERR The server is running without a config file");
  } else if (sub == "help" && ctx.argv.size() == 2) {
    ConfigHelp(ctx);
  } else {
    ReplyUnknownSubcommand(ctx);
  }
}

}  // namespace

void RegisterConfigCommands(CommandTable* t) {
  t->Add({.name = "config",
          .arity = -2,
          .flags = kCmdAdmin | kCmdLoading | kCmdStale | kCmdContainer,
          .fn = ConfigCommand,
          .group = "server",
          .summary = "A container for server configuration commands",
          .since = "2.0.0"});
}

}  // namespace daxkv::kv
