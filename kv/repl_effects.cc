#include "kv/repl_effects.h"

#include <string>
#include <string_view>
#include <vector>

#include "kv/command.h"
#include "kv/repl_master.h"
#include "kv/server_state.h"

namespace daxkv::kv {
namespace {

// One command as the stream carries it: a RESP array of bulk strings.
void AppendResp(std::string& o, const std::vector<std::string>& argv) {
  o += "*" + std::to_string(argv.size()) + "\r\n";
  for (const std::string& a : argv) {
    o += "$" + std::to_string(a.size()) + "\r\n";
    o += a;
    o += "\r\n";
  }
}

void AppendCommand(Client& client, const std::vector<std::string>& argv) {
  AppendResp(client.repl_effects, argv);
  ++client.repl_effect_count;
}

// The key's state after the command, as the one command that recreates
// its expiry: DEL (gone), PEXPIREAT (expires), PERSIST (does not).
std::vector<std::string> ExpiryEffect(CommandContext& ctx,
                                      std::string_view key) {
  auto info = ctx.store.Stat(key);
  const std::string k(key);
  if (!info.ok() || info->type == engine::KeyType::kNone) return {"DEL", k};
  if (info->expire_at_ms > 0) {
    return {"PEXPIREAT", k, std::to_string(info->expire_at_ms)};
  }
  return {"PERSIST", k};
}

int64_t ExpiryOf(CommandContext& ctx, std::string_view key) {
  auto info = ctx.store.Stat(key);
  return info.ok() ? info->expire_at_ms : 0;
}

bool IsExpiryOption(std::string_view a) {
  return EqualsIgnoreCase(a, "ex") || EqualsIgnoreCase(a, "px") ||
         EqualsIgnoreCase(a, "exat") || EqualsIgnoreCase(a, "pxat");
}

// SET with a relative expiry: SET key value PXAT <the stored expiry>
// with its other options (GET dropped: the replica discards replies).
std::vector<std::string> SetEffect(CommandContext& ctx) {
  std::vector<std::string> out = {"SET", std::string(ctx.argv[1]),
                                  std::string(ctx.argv[2])};
  bool had_expiry = false;
  for (size_t i = 3; i < ctx.argv.size(); ++i) {
    if (IsExpiryOption(ctx.argv[i]) && i + 1 < ctx.argv.size()) {
      had_expiry = true;
      ++i;
    } else if (!EqualsIgnoreCase(ctx.argv[i], "get")) {
      out.emplace_back(ctx.argv[i]);
    }
  }
  if (had_expiry) {
    const int64_t at = ExpiryOf(ctx, ctx.argv[1]);
    if (at > 0) {
      out.push_back("PXAT");
      out.push_back(std::to_string(at));
    }
  }
  return out;
}

// The bulk strings of a reply (SPOP's members): "$n" items, in RESP2 or 3.
std::vector<std::string> ReplyBulks(std::string_view reply) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < reply.size()) {
    const size_t eol = reply.find("\r\n", pos);
    if (eol == std::string_view::npos) break;
    if (reply[pos] == '$' && reply[pos + 1] != '-') {
      const size_t n = std::stoul(std::string(reply.substr(pos + 1, eol)));
      out.emplace_back(reply.substr(eol + 2, n));
      pos = eol + 2 + n + 2;
    } else {
      pos = eol + 2;
    }
  }
  return out;
}

std::vector<std::string> Effect(CommandContext& ctx, size_t reply_at) {
  const std::string name = ToLower(ctx.argv[0]);
  if (name == "expire" || name == "pexpire" || name == "expireat" ||
      name == "pexpireat" || name == "getex") {
    if (name == "getex" && ctx.argv.size() == 2) return {};
    return ExpiryEffect(ctx, ctx.argv[1]);
  }
  if (name == "set") return SetEffect(ctx);
  if (name == "setex" || name == "psetex") {
    return {"SET", std::string(ctx.argv[1]), std::string(ctx.argv[3]), "PXAT",
            std::to_string(ExpiryOf(ctx, ctx.argv[1]))};
  }
  if (name == "getdel") return {"DEL", std::string(ctx.argv[1])};
  // GEORADIUS[BYMEMBER] write only with STORE, whose reply is a count: a
  // search that replied its points changed nothing (Redis's dirty == 0).
  if (name == "georadius" || name == "georadiusbymember") {
    const std::string& reply = *ctx.out.buffer();
    if (reply.size() <= reply_at || reply[reply_at] != ':') return {};
  }
  // RecordEffect, from the command: MIGRATE's DEL; the deliveries and
  // claims of the group commands, as Redis propagates them.
  if (name == "migrate" || name == "xreadgroup" || name == "xclaim" ||
      name == "xautoclaim") {
    return {};
  }
  if (name == "incrbyfloat") {
    auto r = ctx.store.Get(ctx.argv[1]);
    if (!r.ok()) return {};
    return {"SET", std::string(ctx.argv[1]), r->value, "KEEPTTL"};
  }
  if (name == "spop") {
    std::vector<std::string> out = {"SREM", std::string(ctx.argv[1])};
    for (std::string& m :
         ReplyBulks(std::string_view(*ctx.out.buffer()).substr(reply_at))) {
      out.push_back(std::move(m));
    }
    if (out.size() == 2) return {};
    return out;
  }
  return {ctx.argv.begin(), ctx.argv.end()};
}

// Hands the snapshots the keys `spec argv` may touch (every argument; all
// keys for a script, whose keys may be undeclared, and FLUSHALL/FLUSHDB).
void PreserveForSnapshots(ReplMaster& master, const CommandSpec& spec,
                          std::span<const std::string_view> argv,
                          const Client& client) {
  const bool all = (spec.flags & kCmdScript) || spec.name == "flushall" ||
                   spec.name == "flushdb";
  if (all || !(spec.flags & kCmdRunsQueue)) {
    master.Preserve(argv.subspan(1), all);
    return;
  }
  for (const std::vector<std::string>& queued : client.queued) {
    const CommandSpec* inner = CommandTable::Default().Find(queued.front());
    if (inner == nullptr) continue;
    std::vector<std::string_view> args(queued.begin(), queued.end());
    PreserveForSnapshots(master, *inner, args, client);
  }
}

}  // namespace

ReplOrderHold::ReplOrderHold(ServerState& server, Client& client,
                             const CommandSpec& spec,
                             std::span<const std::string_view> argv)
    : server_(server), client_(client) {
  ReplMaster& master = server.replication().master();
  if (client.is_master || !master.active()) return;
  if (!(spec.flags &
        (kCmdWrite | kCmdRunsQueue | kCmdScript | kCmdMayReplicate))) {
    return;
  }
  lock_ = std::unique_lock<Mutex>(master.order_mu());
  // Activation happens under the exclusive exec lock; this thread holds a
  // shared one, so it cannot end between the check and the lock.
  client.repl_recording = true;
  client.repl_wrap = (spec.flags & (kCmdRunsQueue | kCmdScript)) != 0;
  client.repl_order = &lock_;
  if (master.snapshotting()) PreserveForSnapshots(master, spec, argv, client);
}

ReplOrderHold::~ReplOrderHold() {
  if (!client_.repl_recording) return;
  PublishEffects(server_, client_);
  client_.repl_recording = false;
  client_.repl_wrap = false;
  client_.repl_order = nullptr;
}

void RecordEffects(CommandContext& ctx, size_t reply_at) {
  if (!ctx.client.repl_recording || ctx.client.blocked != nullptr) return;
  std::vector<std::string> effect = Effect(ctx, reply_at);
  if (!effect.empty()) AppendCommand(ctx.client, effect);
}

void RecordEffect(Client& client, const std::vector<std::string>& argv) {
  if (client.repl_recording) AppendCommand(client, argv);
}

void MoveEffects(Client& from, Client& to) {
  if (from.repl_effect_count == 0) return;
  to.repl_effects += from.repl_effects;
  to.repl_effect_count += from.repl_effect_count;
  from.repl_effects.clear();
  from.repl_effect_count = 0;
}

EffectsMark::EffectsMark(Client& client)
    : client_(client),
      bytes_(client.repl_effects.size()),
      count_(client.repl_effect_count) {}

void EffectsMark::Rewind() {
  client_.repl_effects.resize(bytes_);
  client_.repl_effect_count = count_;
}

void PublishEffects(ServerState& server, Client& client) {
  if (client.repl_effect_count == 0) return;
  ReplMaster& master = server.replication().master();
  // An EXEC block or a script, or several effects (a push and the pops it
  // served): applied atomically on the replica.
  if (client.repl_wrap || client.repl_effect_count > 1) {
    master.Append("*1\r\n$5\r\nMULTI\r\n" + client.repl_effects +
                  "*1\r\n$4\r\nEXEC\r\n");
  } else {
    master.Append(client.repl_effects);
  }
  client.repl_effects.clear();
  client.repl_effect_count = 0;
  client.repl_woff = master.offset();
}

void ExpiryEffects::Enter() {
  exec_ = std::shared_lock<std::shared_timed_mutex>(server_.exec_lock());
  // Activation happens under the exclusive exec lock: stable from here.
  ReplMaster& master = server_.replication().master();
  if (master.active()) order_ = std::unique_lock<Mutex>(master.order_mu());
}

void ExpiryEffects::Expiring(std::string_view key) {
  ReplMaster& master = server_.replication().master();
  if (order_.owns_lock() && master.snapshotting()) {
    const std::string_view keys[] = {key};
    master.Preserve(keys, false);
  }
}

void ExpiryEffects::Expired(std::string_view key) {
  if (!order_.owns_lock()) return;
  std::string del;
  AppendResp(del, {"DEL", std::string(key)});
  server_.replication().master().Append(del);
}

void ExpiryEffects::Exit() {
  if (order_.owns_lock()) order_.unlock();
  exec_.unlock();
}

}  // namespace daxkv::kv
