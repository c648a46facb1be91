#include "kv/command.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "engine/txn.h"

namespace daxkv::kv {

const CommandTable& CommandTable::Default() {
  static const CommandTable* table = [] {
    auto* t = new CommandTable;
    RegisterStringCommands(t);
    RegisterStringEditCommands(t);
    RegisterKeyCommands(t);
    RegisterExpireCommands(t);
    RegisterKeyspaceCommands(t);
    RegisterConnectionCommands(t);
    RegisterClientCommands(t);
    RegisterServerCommands(t);
    RegisterReplicationCommands(t);
    RegisterConfigCommands(t);
    RegisterInfoCommands(t);
    RegisterIntrospectionCommands(t);
    RegisterTxnCommands(t);
    RegisterPubSubCommands(t);
    RegisterBitmapCommands(t);
    RegisterHyperLogLogCommands(t);
    RegisterLcsCommands(t);
    RegisterDumpCommands(t);
    RegisterMigrateCommands(t);
    RegisterScriptCommands(t);
    RegisterFunctionCommands(t);
    RegisterHashCommands(t);
    RegisterSetCommands(t);
    RegisterListCommands(t);
    RegisterZsetCommands(t);
    RegisterStreamCommands(t);
    RegisterStreamReadCommands(t);
    RegisterSortCommands(t);
    RegisterGeoCommands(t);
    RegisterMemoryCommands(t);
    RegisterLatencyCommands(t);
    RegisterClusterCommands(t);
    RegisterDatabaseCommands(t);
    RegisterStreamInfoCommands(t);
    RegisterStreamGroupCommands(t);
    RegisterStreamClaimCommands(t);
    RegisterBlockingCommands(t);
    RegisterSlowLogCommands(t);
    RegisterMonitorCommands(t);
    RegisterAclCommands(t);
    return t;
  }();
  return *table;
}

void CommandTable::Add(const CommandSpec& spec) {
  index_[std::string(spec.name)] = specs_.size();
  specs_.push_back(spec);
}

const CommandSpec* CommandTable::Find(std::string_view name) const {
  char buf[kMaxNameSize];
  if (name.size() >= sizeof(buf)) return nullptr;
  // ASCII only (std::tolower is a locale call per byte; names are ASCII).
  for (size_t i = 0; i < name.size(); ++i) {
    const char ch = name[i];
    buf[i] = ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch + ('a' - 'A')) : ch;
  }
  // Lookups are by std::string; short names stay in the SSO buffer, so the
  // hot path does not allocate.
  auto it = index_.find(std::string(buf, name.size()));
  return it == index_.end() ? nullptr : &specs_[it->second];
}

bool ArityOk(const CommandSpec& spec, size_t argc) {
  int n = static_cast<int>(argc);
  return spec.arity >= 0 ? n == spec.arity : n >= -spec.arity;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string ToLower(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

void ReplyWrongArity(CommandContext& ctx, std::string_view full_name) {
  ctx.out.Error("ERR wrong number of arguments for '" + ToLower(full_name) +
                "' command");
}

void ReplySyntaxError(CommandContext& ctx) { ctx.out.Error(kErrSyntax); }

void ReplyNotInteger(CommandContext& ctx) { ctx.out.Error(kErrNotInteger); }

std::vector<std::string_view> CommandKeys(
    const CommandSpec& spec, std::span<const std::string_view> argv) {
  std::vector<std::string_view> keys;
  ForEachCommandKey(spec, argv, [&](std::string_view k) { keys.push_back(k); });
  return keys;
}

void ReplyEngineError(CommandContext& ctx, const Status& s) {
  if (engine::IsWrongType(s)) {
    ctx.out.Error(s.message());
  } else if (s.code() == StatusCode::kNoSpace) {
    ctx.out.Error("OOM daxkv pool is full: " + std::string(s.message()));
  } else {
    ctx.out.Error("ERR daxkv engine: " + s.ToString());
  }
}

namespace {

// "ERR <what> '<subcommand>'. Try <COMMAND> HELP.", the subcommand as typed
// (Redis formats it with %.128s: at most 128 bytes, up to a NUL).
std::string SubcommandErrorText(const CommandContext& ctx,
                                std::string_view what) {
  std::string_view arg = ctx.argv[1];
  std::string sub(arg.substr(0, std::min<size_t>(128, arg.find('\0'))));
  std::string cmd(ctx.argv[0]);
  for (char& c : cmd)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "ERR " + std::string(what) + " '" + sub + "'. Try " + cmd + " HELP.";
}

void ReplySubcommandError(CommandContext& ctx, std::string_view what) {
  ctx.out.Error(SubcommandErrorText(ctx, what));
}

}  // namespace

void ReplyUnknownSubcommand(CommandContext& ctx) {
  ReplySubcommandError(ctx, "unknown subcommand");
}

const SubcommandArity* FindSubcommand(CommandContext& ctx,
                                      std::span<const SubcommandArity> table) {
  const std::string sub = ToLower(ctx.argv[1]);
  const auto argc = static_cast<int>(ctx.argv.size());
  for (const SubcommandArity& s : table) {
    if (s.name != sub) continue;
    if (s.arity >= 0 ? argc != s.arity : argc < -s.arity) {
      ReplyWrongArity(ctx, ToLower(ctx.argv[0]) + "|" + sub);
      return nullptr;
    }
    return &s;
  }
  ReplyUnknownSubcommand(ctx);
  return nullptr;
}

constexpr std::string_view kSubcommandSyntax =
    "unknown subcommand or wrong number of arguments for";

void ReplySubcommandSyntaxError(CommandContext& ctx) {
  ReplySubcommandError(ctx, kSubcommandSyntax);
}

std::string SubcommandSyntaxError(const CommandContext& ctx) {
  return SubcommandErrorText(ctx, kSubcommandSyntax);
}

void ReplyHelp(CommandContext& ctx, std::span<const std::string_view> lines) {
  ctx.out.ArrayHeader(lines.size());
  for (auto l : lines) ctx.out.Simple(l);
}

bool ParseIntArg(CommandContext& ctx, std::string_view s, int64_t* out) {
  if (ParseInt64(s, out)) return true;
  ReplyNotInteger(ctx);
  return false;
}

bool ParseRandomCount(CommandContext& ctx, std::string_view with_word,
                      int64_t* count) {
  if (!ParseIntArg(ctx, ctx.argv[2], count)) return false;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (*count < -kMax) {
    ctx.out.Error(
        "ERR value is out of range, value must between -9223372036854775807 "
        "and 9223372036854775807");
    return false;
  }
  const size_t argc = ctx.argv.size();
  if (argc > 4 || (argc == 4 && !EqualsIgnoreCase(ctx.argv[3], with_word))) {
    ReplySyntaxError(ctx);
    return false;
  }
  if (argc == 4 && (*count < -kMax / 2 || *count > kMax / 2)) {
    ctx.out.Error("ERR value is out of range");
    return false;
  }
  return true;
}

void DiscardTransaction(ServerState& server, Client& client) {
  client.EndMulti();
  server.watches().UnwatchAll(&client);
}

void DrainMailbox(ServerState& server, Client& client, ReplyWriter& out) {
  if (!client.pubsub.mailbox.has_mail()) return;
  if (client.pubsub.mailbox.TakeInto(out.buffer()) && !client.close_asap) {
    client.close_asap = true;
    server.stats().client_output_limit_disconnects.fetch_add(1);
  }
}

void CountLookup(CommandContext& ctx, bool hit) {
  auto& stats = ctx.server.stats();
  (hit ? stats.keyspace_hits : stats.keyspace_misses)
      .fetch_add(1, std::memory_order_relaxed);
}

}  // namespace daxkv::kv
