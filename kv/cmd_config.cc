// CONFIG GET / SET / RESETSTAT / REWRITE / HELP for the settings daxkv has.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "dax/file_replace.h"
#include "kv/command.h"
#include "kv/config_rewrite.h"
#include "kv/glob.h"
#include "kv/repl_master.h"

namespace daxkv::kv {
namespace {

// client-output-buffer-limit as Redis prints it (daxkv has no replicas:
// its slave class is all zeros).
std::string OutputLimits(RuntimeSettings& r) {
  auto cls = [](std::string_view name, uint64_t hard, uint64_t soft,
                int64_t secs) {
    return std::string(name) + " " + std::to_string(hard) + " " +
           std::to_string(soft) + " " + std::to_string(secs);
  };
  return cls("normal", r.client_output_limit.load(),
             r.client_output_soft_limit.load(),
             r.client_output_soft_seconds.load()) +
         " slave 0 0 0 " +
         cls("pubsub", r.pubsub_output_limit.load(),
             r.pubsub_output_soft_limit.load(),
             r.pubsub_output_soft_seconds.load());
}

// Redis's memtoull: a count with an optional unit (k = 1000, kb = 1024, ...).
bool ParseMemory(std::string_view v, uint64_t* out) {
  size_t digits = 0;
  while (digits < v.size() && v[digits] >= '0' && v[digits] <= '9') ++digits;
  int64_t n = 0;
  if (digits == 0 || !ParseInt64(v.substr(0, digits), &n)) return false;
  std::string unit = ToLower(v.substr(digits));
  static const std::pair<std::string_view, uint64_t> kUnits[] = {
      {"", 1},           {"b", 1},           {"k", 1000},
      {"kb", 1024},      {"m", 1000 * 1000}, {"mb", 1024 * 1024},
      {"g", 1000000000}, {"gb", 1ull << 30}};
  for (const auto& [name, mult] : kUnits) {
    if (unit == name) {
      *out = static_cast<uint64_t>(n) * mult;
      return true;
    }
  }
  return false;
}

// CONFIG SET client-output-buffer-limit "<class> <hard> <soft> <secs> ...".
std::string SetOutputLimits(RuntimeSettings& r, std::string_view value) {
  std::vector<std::string_view> t;
  for (size_t i = 0; i < value.size();) {
    size_t j = value.find(' ', i);
    if (j == std::string_view::npos) j = value.size();
    if (j > i) t.push_back(value.substr(i, j - i));
    i = j + 1;
  }
  if (t.size() % 4 != 0) {
    return "Wrong number of arguments in buffer limit configuration.";
  }
  for (size_t i = 0; i < t.size(); i += 4) {
    std::string cls = ToLower(t[i]);
    if (cls != "normal" && cls != "pubsub" && cls != "slave" &&
        cls != "replica") {
      return "Invalid client class specified in buffer limit configuration.";
    }
    uint64_t hard = 0, soft = 0;
    int64_t secs = 0;
    if (!ParseMemory(t[i + 1], &hard) || !ParseMemory(t[i + 2], &soft) ||
        !ParseInt64(t[i + 3], &secs) || secs < 0) {
      return "Error in hard, soft or soft_seconds setting in buffer limit "
             "configuration.";
    }
  }
  for (size_t i = 0; i < t.size(); i += 4) {
    std::string cls = ToLower(t[i]);
    uint64_t hard = 0, soft = 0;
    int64_t secs = 0;
    ParseMemory(t[i + 1], &hard);
    ParseMemory(t[i + 2], &soft);
    if (!ParseInt64(t[i + 3], &secs)) secs = 0;  // checked above
    if (cls == "normal") {
      r.client_output_limit.store(hard);
      r.client_output_soft_limit.store(soft);
      r.client_output_soft_seconds.store(secs);
    } else if (cls == "pubsub") {
      r.pubsub_output_limit.store(hard);
      r.pubsub_output_soft_limit.store(soft);
      r.pubsub_output_soft_seconds.store(secs);
    }  // slave/replica: daxkv has no replicas yet; accepted, as in Redis.
  }
  return "";
}

// Name/value pairs CONFIG GET reports, current values included.
std::vector<std::pair<std::string, std::string>> Settings(ServerState& s) {
  const ServerConfig& c = s.config();
  RuntimeSettings& r = s.settings();
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
      {"client-output-buffer-limit", OutputLimits(r)},
      {"hll-sparse-max-bytes", std::to_string(r.hll_sparse_max_bytes.load())},
      {"set-max-intset-entries",
       std::to_string(r.set_max_intset_entries.load())},
      {"busy-reply-threshold",
       std::to_string(r.busy_reply_threshold_ms.load())},
      {"lua-time-limit", std::to_string(r.busy_reply_threshold_ms.load())},
      {"slowlog-log-slower-than", std::to_string(s.slowlog().slower_than_us())},
      {"slowlog-max-len", std::to_string(s.slowlog().max_len())},
      {"acllog-max-len", std::to_string(s.acl_log().max_len())},
      {"latency-monitor-threshold", std::to_string(s.latency().threshold_ms())},
      {"latency-tracking", s.command_stats().tracking() ? "yes" : "no"},
      {"latency-tracking-info-percentiles",
       s.command_stats().PercentilesText()},
      {"io-threads", std::to_string(c.threads)},
      {"io-engine", c.io_engine},
      {"databases", "1"},
      {"maxmemory", "0"},
      // daxkv persists every acknowledged write on the pool; it has no RDB
      // snapshots and no AOF.
      {"save", ""},
      {"appendonly", "no"},
      {"appendfsync", "no"},
      {"enable-debug-command", c.enable_debug_command},
      {"masterauth", s.replication().masterauth()},
      {"masteruser", s.replication().masteruser()},
      {"replica-read-only", s.replication().read_only().load() ? "yes" : "no"},
      {"slave-read-only", s.replication().read_only().load() ? "yes" : "no"},
      {"replica-priority", std::to_string(r.replica_priority.load())},
      {"slave-priority", std::to_string(r.replica_priority.load())},
      {"repl-timeout", "60"},
      {"repl-ping-replica-period",
       std::to_string(s.replication().master().ping_period_s())},
      {"repl-ping-slave-period",
       std::to_string(s.replication().master().ping_period_s())},
      {"repl-backlog-size",
       std::to_string(s.replication().master().backlog_size())},
      {"replica-serve-stale-data",
       s.replication().serve_stale_data().load() ? "yes" : "no"},
      {"slave-serve-stale-data",
       s.replication().serve_stale_data().load() ? "yes" : "no"},
      {"pool", c.pool},
      {"pool-size", std::to_string(c.pool_size)},
  };
}

// Settings Redis hides (its testing knobs): CONFIG GET names them exactly,
// a pattern never lists them.
std::vector<std::pair<std::string, std::string>> HiddenSettings(
    ServerState& s) {
  return {{"rdb-key-save-delay",
           std::to_string(s.settings().rdb_key_save_delay_us.load())}};
}

// As Redis: an argument with no glob character names one setting (any
// case) and the reply repeats it as given; a pattern lists every matching
// setting that is not hidden. A setting is reported once.
void ConfigGet(CommandContext& ctx) {
  auto all = Settings(ctx.server);
  auto hidden = HiddenSettings(ctx.server);
  std::vector<std::pair<std::string, std::string>> hits;
  auto reported = [&hits](std::string_view name) {
    return std::any_of(hits.begin(), hits.end(), [name](const auto& hit) {
      return EqualsIgnoreCase(hit.first, name);
    });
  };
  for (size_t j = 2; j < ctx.argv.size(); ++j) {
    std::string_view arg = ctx.argv[j];
    if (arg.find_first_of("[*?") == std::string_view::npos) {
      if (reported(arg)) continue;
      for (const auto* list : {&all, &hidden}) {
        for (const auto& kv : *list) {
          if (EqualsIgnoreCase(arg, kv.first)) {
            hits.emplace_back(std::string(arg), kv.second);
          }
        }
      }
      continue;
    }
    for (const auto& kv : all) {
      if (!reported(kv.first) && GlobMatch(arg, kv.first, true)) {
        hits.push_back(kv);
      }
    }
  }
  ctx.out.MapHeader(hits.size());
  for (const auto& [name, value] : hits) {
    ctx.out.Bulk(name);
    ctx.out.Bulk(value);
  }
}

constexpr std::string_view kErrYesNo = "argument must be 'yes' or 'no'";

// "yes" or "no", any case as Redis takes it; nullopt for anything else.
std::optional<bool> YesNo(std::string_view value) {
  if (EqualsIgnoreCase(value, "yes")) return true;
  if (EqualsIgnoreCase(value, "no")) return false;
  return std::nullopt;
}

// A yes/no setting; returns the error detail or "" when stored.
std::string SetYesNo(std::atomic<bool>& setting, std::string_view value) {
  const std::optional<bool> yes = YesNo(value);
  if (!yes) return std::string(kErrYesNo);
  setting.store(*yes);
  return "";
}

// Applies one CONFIG SET pair; returns the error detail or "" when done.
std::string SetOne(ServerState& s, const std::string& name,
                   std::string_view value) {
  RuntimeSettings& r = s.settings();
  int64_t n = 0;
  bool is_int = ParseInt64(value, &n);
  if (name == "requirepass") {
    r.set_requirepass(std::string(value));
  } else if (name == "masterauth") {
    s.replication().set_masterauth(std::string(value));
  } else if (name == "masteruser") {
    s.replication().set_masteruser(std::string(value));
  } else if (name == "replica-read-only" || name == "slave-read-only") {
    return SetYesNo(s.replication().read_only(), value);
  } else if (name == "replica-serve-stale-data" ||
             name == "slave-serve-stale-data") {
    return SetYesNo(s.replication().serve_stale_data(), value);
  } else if (name == "replica-priority" || name == "slave-priority") {
    if (!is_int) return "argument couldn't be parsed into an integer";
    if (n < 0 || n > 2147483647) {
      return "argument must be between 0 and 2147483647 inclusive";
    }
    r.replica_priority.store(static_cast<int>(n));
  } else if (name == "repl-backlog-size") {
    uint64_t bytes = 0;
    if (!ParseMemory(value, &bytes) || bytes < 1 ||
        bytes > static_cast<uint64_t>(INT64_MAX)) {
      return "argument must be a memory value";
    }
    s.replication().master().set_backlog_size(static_cast<int64_t>(bytes));
  } else if (name == "repl-ping-replica-period" ||
             name == "repl-ping-slave-period") {
    if (!is_int) return "argument couldn't be parsed into an integer";
    if (n < 1 || n > 2147483647) {
      return "argument must be between 1 and 2147483647 inclusive";
    }
    s.replication().master().set_ping_period_s(n);
  } else if (name == "maxclients" || name == "timeout") {
    if (!is_int) return "argument couldn't be parsed into an integer";
    int64_t lo = name == "timeout" ? 0 : 1;
    if (n < lo || n > 2147483647) {
      return "argument must be between " + std::to_string(lo) +
             " and 2147483647 inclusive";
    }
    (name == "timeout" ? r.timeout : r.maxclients).store(static_cast<int>(n));
  } else if (name == "protected-mode") {
    return SetYesNo(r.protected_mode, value);
  } else if (name == "proto-max-bulk-len") {
    if (!is_int || n < 1024)
      return "argument couldn't be parsed into an integer";
    r.proto_max_bulk_len.store(static_cast<uint64_t>(n));
  } else if (name == "hll-sparse-max-bytes") {
    uint64_t bytes = 0;
    if (!ParseMemory(value, &bytes)) return "argument must be a memory value";
    r.hll_sparse_max_bytes.store(bytes);
  } else if (name == "set-max-intset-entries") {
    if (!is_int) return "argument couldn't be parsed into an integer";
    if (n < 0) {
      return "argument must be between 0 and 9223372036854775807 inclusive";
    }
    r.set_max_intset_entries.store(n);
    s.db().SetPackedSetMax(
        static_cast<uint32_t>(std::min<int64_t>(n, engine::kPackedSetLimit)));
  } else if (name == "busy-reply-threshold" || name == "lua-time-limit") {
    if (!is_int) return "argument couldn't be parsed into an integer";
    if (n < 0) {
      return "argument must be between 0 and 9223372036854775807 inclusive";
    }
    r.busy_reply_threshold_ms.store(n);
  } else if (name == "slowlog-log-slower-than" || name == "slowlog-max-len" ||
             name == "acllog-max-len") {
    if (!is_int) return "argument couldn't be parsed into an integer";
    const bool len = name != "slowlog-log-slower-than";
    if (n < (len ? 0 : -1)) {
      return std::string("argument must be between ") + (len ? "0" : "-1") +
             " and 9223372036854775807 inclusive";
    }
    if (name == "acllog-max-len") {
      s.acl_log().set_max_len(static_cast<uint64_t>(n));
    } else if (len) {
      s.slowlog().set_max_len(static_cast<uint64_t>(n));
    } else {
      s.slowlog().set_slower_than_us(n);
    }
  } else if (name == "latency-monitor-threshold") {
    if (!is_int) return "argument couldn't be parsed into an integer";
    if (n < 0) {
      return "argument must be between 0 and 9223372036854775807 inclusive";
    }
    s.latency().set_threshold_ms(n);
  } else if (name == "latency-tracking") {
    const std::optional<bool> on = YesNo(value);
    if (!on) return std::string(kErrYesNo);
    s.command_stats().set_tracking(*on);
  } else if (name == "latency-tracking-info-percentiles") {
    return s.command_stats().SetPercentiles(value);
  } else if (name == "rdb-key-save-delay") {
    if (!is_int) return "argument couldn't be parsed into an integer";
    if (n < INT32_MIN || n > INT32_MAX) {
      return "argument must be between -2147483648 and 2147483647 inclusive";
    }
    r.rdb_key_save_delay_us.store(static_cast<int>(n));
  } else if (name == "client-output-buffer-limit") {
    return SetOutputLimits(r, value);
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
  for (const auto& kv : HiddenSettings(s)) {
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

// The settings CONFIG REWRITE writes: those CONFIG SET and REPLICAOF
// change. replicaof is the target this client's EXEC block leaves, when it
// ran REPLICAOF (applied after the block: kv/cmd_replication.cc).
std::vector<RewrittenSetting> RewrittenSettings(CommandContext& ctx) {
  ServerState& s = ctx.server;
  RuntimeSettings& r = s.settings();
  Replication& repl = s.replication();
  std::string host;
  int port = 0;
  bool replica = repl.MasterAddress(&host, &port);
  if (ctx.client.replicaof_deferred) {
    host = ctx.client.replicaof_host;
    port = ctx.client.replicaof_port;
    replica = !host.empty();
  }
  auto set = [](std::string name, std::string value, bool non_default,
                std::vector<std::string> aliases = {}) {
    return RewrittenSetting{std::move(name), std::move(aliases),
                            std::move(value), non_default};
  };
  const std::string pass = r.requirepass();
  const std::string auth = repl.masterauth();
  const std::string user = repl.masteruser();
  const bool ro = repl.read_only().load();
  const bool stale = repl.serve_stale_data().load();
  const int prio = r.replica_priority.load();
  std::vector<RewrittenSetting> out = {
      set("requirepass", pass, !pass.empty()),
      set("maxclients", std::to_string(r.maxclients.load()),
          r.maxclients.load() != ServerConfig().maxclients),
      set("timeout", std::to_string(r.timeout.load()), r.timeout.load() != 0),
      set("protected-mode", r.protected_mode.load() ? "yes" : "no",
          !r.protected_mode.load()),
      set("masterauth", auth, !auth.empty()),
      set("masteruser", user, !user.empty()),
      set("replica-read-only", ro ? "yes" : "no", !ro, {"slave-read-only"}),
      set("replica-serve-stale-data", stale ? "yes" : "no", !stale,
          {"slave-serve-stale-data"}),
      set("replica-priority", std::to_string(prio), prio != 100,
          {"slave-priority"}),
      set("replicaof", host + " " + std::to_string(port), true, {"slaveof"}),
  };
  if (!replica) out.back().value.reset();
  const auto now = Settings(s);
  for (const RuntimeSettingName& r : kRuntimeSettingNames) {
    auto it = std::find_if(now.begin(), now.end(),
                           [&](const auto& kv) { return kv.first == r.name; });
    if (it == now.end()) continue;
    std::vector<std::string> aliases;
    if (!r.alias.empty()) aliases.emplace_back(r.alias);
    out.push_back(set(std::string(r.name), it->second,
                      it->second != r.default_value, std::move(aliases)));
  }
  return out;
}

void ConfigRewrite(CommandContext& ctx) {
  const std::string& path = ctx.server.config().config_file;
  if (path.empty()) {
    ctx.out.Error("ERR The server is running without a config file");
    return;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream old_text;
  if (in) old_text << in.rdbuf();
  const std::vector<RewrittenSetting> settings = RewrittenSettings(ctx);
  Status s = dax::ReplaceFileDurably(
      path, RewriteConfigText(old_text.str(), settings));
  if (!s.ok()) {
    std::fprintf(stderr, "CONFIG REWRITE failed: %s\n", s.ToString().c_str());
    ctx.out.Error("ERR Rewriting config file: " + s.ToString());
    return;
  }
  std::fprintf(stderr, "CONFIG REWRITE executed with success.\n");
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
      "REWRITE",
      "    Rewrite the configuration file.",
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
    ctx.server.command_stats().Reset();
    ctx.out.Ok();
  } else if (sub == "rewrite") {
    if (ctx.argv.size() != 2) {
      ReplyWrongArity(ctx, "config|rewrite");
      return;
    }
    ConfigRewrite(ctx);
  } else if (sub == "help" && ctx.argv.size() == 2) {
    ConfigHelp(ctx);
  } else {
    ReplyUnknownSubcommand(ctx);
  }
}

}  // namespace

std::string ApplyRuntimeSetting(ServerState& server, const std::string& name,
                                std::string_view value) {
  return SetOne(server, name, value);
}

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
