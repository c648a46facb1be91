// CLIENT ID, SETNAME, GETNAME, LIST, INFO, KILL, UNBLOCK, HELP.
#include <algorithm>
#include <string>
#include <vector>

#include "kv/command.h"

namespace daxkv::kv {

std::string DescribeClient(const Client& c, int64_t now_ms) {
  std::string name, cmd = "NULL";
  if (const CommandSpec* spec = c.last_command.load()) {
    cmd = std::string(spec->name);
    MutexLock l(&c.info_mu);
    name = c.name;
    if ((spec->flags & kCmdContainer) && !c.last_subcommand.empty()) {
      cmd += "|" + c.last_subcommand;
    }
  } else {
    name = c.GetName();
  }
  int64_t age = (now_ms - c.created_ms) / 1000;
  int64_t idle = (now_ms - c.last_interaction_ms.load()) / 1000;
  uint64_t qbuf = c.query_buffer_bytes.load();
  uint64_t obuf = c.output_buffer_bytes.load();
  std::string s;
  s.reserve(320);
  s += "id=" + std::to_string(c.id);
  s += " addr=" + c.addr;
  s += " laddr=" + c.laddr;
  s += " fd=" + std::to_string(c.fd);
  s += " name=" + name;
  s += " age=" + std::to_string(age < 0 ? 0 : age);
  s += " idle=" + std::to_string(idle < 0 ? 0 : idle);
  const int multi = c.multi_queued.load(std::memory_order_relaxed);
  const PubSubClient& ps = c.pubsub;
  std::string flags;
  if (c.is_master) flags += 'M';
  if (c.is_replica.load()) flags += 'S';
  if (c.monitor.load()) flags += 'O';
  if (ps.subscribed()) flags += 'P';
  if (multi >= 0) flags += 'x';
  if (c.blocked_flag.load(std::memory_order_relaxed)) flags += 'b';
  s += " flags=" + (flags.empty() ? std::string("N") : flags);
  s += " db=0 sub=" + std::to_string(ps.count(SubKind::kChannel));
  s += " psub=" + std::to_string(ps.count(SubKind::kPattern));
  s += " ssub=" + std::to_string(ps.count(SubKind::kShard));
  s += " multi=" + std::to_string(multi);
  s += " qbuf=" + std::to_string(qbuf) + " qbuf-free=0 argv-mem=0";
  s += " multi-mem=0 rbs=0 rbp=0 obl=0 oll=0";
  s += " omem=" + std::to_string(obuf);
  s += " tot-mem=" + std::to_string(qbuf + obuf);
  s += " events=r cmd=" + cmd + " user=default redir=-1";
  s += " resp=" + std::to_string(c.resp.load());
  return s;
}

namespace {

// The client classes CLIENT LIST TYPE selects (its master is the
// replication link's client; its replicas the connections that sent PSYNC).
enum class ClientType { kAny, kNormal, kPubSub, kMaster, kReplica };

bool TypeMatches(ClientType type, const Client& c) {
  switch (type) {
    case ClientType::kAny:
      return true;
    case ClientType::kNormal:
      return !c.pubsub.subscribed() && !c.is_master && !c.is_replica.load();
    case ClientType::kMaster:
      return c.is_master;
    case ClientType::kPubSub:
      return c.pubsub.subscribed();
    case ClientType::kReplica:
      return c.is_replica.load();
  }
  return false;
}

// A TYPE filter's class; false after "ERR Unknown client type".
bool ParseClientType(CommandContext& ctx, std::string_view name,
                     ClientType* type) {
  if (EqualsIgnoreCase(name, "normal")) {
    *type = ClientType::kNormal;
  } else if (EqualsIgnoreCase(name, "pubsub")) {
    *type = ClientType::kPubSub;
  } else if (EqualsIgnoreCase(name, "master")) {
    *type = ClientType::kMaster;
  } else if (EqualsIgnoreCase(name, "replica") ||
             EqualsIgnoreCase(name, "slave")) {
    *type = ClientType::kReplica;
  } else {
    ctx.out.Error("ERR Unknown client type '" + std::string(name) + "'");
    return false;
  }
  return true;
}

// Parses CLIENT LIST's filters as Redis 7.0 does: TYPE <type> or
// ID <id> [<id> ...]. Sets *ids (empty = no ID filter) and *type.
bool ParseClientListFilter(CommandContext& ctx, std::vector<uint64_t>* ids,
                           ClientType* type) {
  *type = ClientType::kAny;
  if (ctx.argv.size() == 2) return true;
  std::string_view opt = ctx.argv[2];
  if (EqualsIgnoreCase(opt, "type") && ctx.argv.size() == 4) {
    return ParseClientType(ctx, ctx.argv[3], type);
  }
  if (EqualsIgnoreCase(opt, "id") && ctx.argv.size() >= 4) {
    for (size_t j = 3; j < ctx.argv.size(); ++j) {
      int64_t id = 0;
      // Like Redis, any integer is accepted; ids <= 0 match nobody.
      if (!ParseInt64(ctx.argv[j], &id)) {
        ctx.out.Error("ERR Invalid client ID");
        return false;
      }
      ids->push_back(static_cast<uint64_t>(id));
    }
    return true;
  }
  ReplySyntaxError(ctx);
  return false;
}

void ClientList(CommandContext& ctx) {
  std::vector<uint64_t> ids;
  ClientType type = ClientType::kAny;
  if (!ParseClientListFilter(ctx, &ids, &type)) return;
  std::string out;
  int64_t now = ctx.server.NowMs();
  ctx.server.ForEachClient([&](Client& c) {
    if (!TypeMatches(type, c)) return;
    if (!ids.empty() && std::find(ids.begin(), ids.end(), c.id) == ids.end()) {
      return;
    }
    out += DescribeClient(c, now);
    out += '\n';
  });
  ctx.out.Verbatim(out);
}

// CLIENT KILL <ip:port> (old form) or CLIENT KILL <filter> <value> ...
void ClientKill(CommandContext& ctx) {
  uint64_t self = ctx.client.id;
  if (ctx.argv.size() == 3) {
    std::string addr(ctx.argv[2]);
    int n =
        ctx.server.KillClients([&](const Client& c) { return c.addr == addr; });
    if (n == 0) {
      ctx.out.Error("ERR No such client");
    } else {
      ctx.out.Ok();
    }
    return;
  }
  if (ctx.argv.size() % 2 != 0) {
    ReplySyntaxError(ctx);
    return;
  }
  int64_t id = -1;
  std::string addr, laddr;
  bool skipme = true;
  ClientType type = ClientType::kAny;
  for (size_t j = 2; j + 1 < ctx.argv.size(); j += 2) {
    std::string_view opt = ctx.argv[j], val = ctx.argv[j + 1];
    if (EqualsIgnoreCase(opt, "id")) {
      if (!ParseInt64(val, &id) || id <= 0) {
        ctx.out.Error("ERR client-id should be greater than 0");
        return;
      }
    } else if (EqualsIgnoreCase(opt, "addr")) {
      addr = std::string(val);
    } else if (EqualsIgnoreCase(opt, "laddr")) {
      laddr = std::string(val);
    } else if (EqualsIgnoreCase(opt, "skipme")) {
      if (EqualsIgnoreCase(val, "yes")) {
        skipme = true;
      } else if (EqualsIgnoreCase(val, "no")) {
        skipme = false;
      } else {
        ReplySyntaxError(ctx);
        return;
      }
    } else if (EqualsIgnoreCase(opt, "type")) {
      if (!ParseClientType(ctx, val, &type)) return;
    } else if (EqualsIgnoreCase(opt, "user")) {
      // The default user is the only one.
      if (val != "default") {
        ctx.out.Error("ERR No such user '" + std::string(val) + "'");
        return;
      }
    } else {
      ReplySyntaxError(ctx);
      return;
    }
  }
  int n = ctx.server.KillClients([&](const Client& c) {
    if (!TypeMatches(type, c)) return false;
    if (id > 0 && c.id != static_cast<uint64_t>(id)) return false;
    if (!addr.empty() && c.addr != addr) return false;
    if (!laddr.empty() && c.laddr != laddr) return false;
    if (skipme && c.id == self) return false;
    return true;
  });
  ctx.out.Integer(n);
}

void ClientHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GETNAME",
      "    Return the name of the current connection.",
      "ID",
      "    Return the ID of the current connection.",
      "INFO",
      "    Return information about the current client connection.",
      "KILL <ip:port>",
      "    Kill connection made from <ip:port>.",
      "KILL <option> <value> [<option> <value> [...]]",
      "    Kill connections. Options are: ID, ADDR, LADDR, SKIPME (yes|no).",
      "LIST",
      "    Return information about client connections.",
      "NO-EVICT (ON|OFF)",
      "    Protect current client connection from eviction.",
      "REPLY (ON|OFF|SKIP)",
      "    Control the replies sent to the current connection.",
      "SETNAME <name>",
      "    Assign the name <name> to the current connection.",
      "UNBLOCK <clientid> [TIMEOUT|ERROR]",
      "    Unblock the specified blocked client.",
      "HELP",
      "    Prints this help."};
  ReplyHelp(ctx, kLines);
}

// CLIENT UNBLOCK id [TIMEOUT|ERROR]: the blocked client gets its timeout
// reply (or an UNBLOCKED error); 1 when it was blocked.
void ClientUnblock(CommandContext& ctx) {
  bool error = false;
  if (ctx.argv.size() == 4) {
    error = EqualsIgnoreCase(ctx.argv[3], "error");
    if (!error && !EqualsIgnoreCase(ctx.argv[3], "timeout")) {
      ctx.out.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
      return;
    }
  }
  int64_t id = 0;
  if (!ParseIntArg(ctx, ctx.argv[2], &id)) return;
  const bool unblocked = ctx.server.blocked().Unblock(
      static_cast<uint64_t>(id),
      error ? "UNBLOCKED client unblocked via CLIENT UNBLOCK" : "");
  ctx.out.Integer(unblocked ? 1 : 0);
}

bool ArgcIs(CommandContext& ctx, size_t n, std::string_view sub) {
  if (ctx.argv.size() == n) return true;
  ReplyWrongArity(ctx, "client|" + std::string(sub));
  return false;
}

// CLIENT REPLY ON|OFF|SKIP (kv/client.h; OFF and SKIP reply nothing, and
// SKIP is refused while OFF), CLIENT NO-EVICT ON|OFF (accepted: daxkv
// evicts nothing; its data lives on the pool).
void ClientReplyOrNoEvict(CommandContext& ctx, bool reply) {
  Client& c = ctx.client;
  const std::string_view mode = ctx.argv[2];
  const bool on = EqualsIgnoreCase(mode, "on");
  if (on || EqualsIgnoreCase(mode, "off")) {
    if (!reply) return ctx.out.Ok();
    c.reply_off = !on;
    c.reply_skip = c.reply_skip_next = false;
    if (on) ctx.out.Ok();
  } else if (reply && EqualsIgnoreCase(mode, "skip") && !c.reply_off) {
    c.reply_skip_next = true;
  } else {
    ReplySyntaxError(ctx);
  }
}

void ClientCommand(CommandContext& ctx) {
  std::string sub = ToLower(ctx.argv[1]);
  Client& c = ctx.client;
  if (sub == "id") {
    if (ArgcIs(ctx, 2, sub)) ctx.out.Integer(static_cast<int64_t>(c.id));
  } else if (sub == "getname") {
    if (!ArgcIs(ctx, 2, sub)) return;
    std::string name = c.GetName();
    if (name.empty()) {
      ctx.out.Null();
    } else {
      ctx.out.Bulk(name);
    }
  } else if (sub == "setname") {
    if (!ArgcIs(ctx, 3, sub)) return;
    if (!IsValidClientName(ctx.argv[2])) {
      ctx.out.Error(
          "ERR Client names cannot contain spaces, newlines or special "
          "characters.");
      return;
    }
    MutexLock l(&c.info_mu);
    c.name = std::string(ctx.argv[2]);
    ctx.out.Ok();
  } else if (sub == "info") {
    if (ArgcIs(ctx, 2, sub)) {
      ctx.out.Verbatim(DescribeClient(c, ctx.server.NowMs()) + "\n");
    }
  } else if (sub == "list") {
    ClientList(ctx);
  } else if (sub == "kill") {
    if (ctx.argv.size() < 3) {
      ReplyWrongArity(ctx, "client|kill");
      return;
    }
    ClientKill(ctx);
  } else if (sub == "unblock" &&
             (ctx.argv.size() == 3 || ctx.argv.size() == 4)) {
    ClientUnblock(ctx);
  } else if (sub == "reply" || sub == "no-evict") {
    if (ArgcIs(ctx, 3, sub)) ClientReplyOrNoEvict(ctx, sub == "reply");
  } else if (sub == "help" && ctx.argv.size() == 2) {
    ClientHelp(ctx);
  } else {
    ReplyUnknownSubcommand(ctx);
  }
}

}  // namespace

void RegisterClientCommands(CommandTable* t) {
  t->Add({.name = "client",
          .arity = -2,
          .flags = kCmdAdmin | kCmdLoading | kCmdStale | kCmdContainer,
          .fn = ClientCommand,
          .group = "connection",
          .summary = "A container for client connection commands",
          .since = "2.4.0"});
}

}  // namespace daxkv::kv
