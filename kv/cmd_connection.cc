// Connection commands: PING, ECHO, QUIT, RESET, SELECT, AUTH, HELLO.
#include <string>

#include "kv/command.h"

namespace daxkv::kv {
namespace {

void PingCommand(CommandContext& ctx) {
  if (ctx.argv.size() > 2) {
    ReplyWrongArity(ctx, "ping");
  } else if (ctx.client.pubsub.subscribed() && ctx.client.resp == 2) {
    // A RESP2 subscriber can only read pushes: PING answers as one.
    ctx.out.ArrayHeader(2);
    ctx.out.Bulk("pong");
    ctx.out.Bulk(ctx.argv.size() == 2 ? ctx.argv[1] : "");
  } else if (ctx.argv.size() == 2) {
    ctx.out.Bulk(ctx.argv[1]);
  } else {
    ctx.out.Simple("PONG");
  }
}

void EchoCommand(CommandContext& ctx) { ctx.out.Bulk(ctx.argv[1]); }

void QuitCommand(CommandContext& ctx) {
  ctx.client.close_after_reply = true;
  ctx.out.Ok();
}

void ResetCommand(CommandContext& ctx) {
  Client& c = ctx.client;
  DiscardTransaction(ctx.server, c);
  ctx.server.pubsub().UnsubscribeEverything(&c);
  ctx.server.monitors().Remove(&c);
  c.monitor.store(false);
  // What was published (or fed) before goes out before +RESET.
  DrainMailbox(ctx.server, c, ctx.out);
  c.resp = 2;
  ctx.out.set_resp(2);
  c.reply_off = c.reply_skip = c.reply_skip_next = false;  // CLIENT REPLY ON
  {
    MutexLock l(&c.info_mu);
    c.name.clear();
  }
  if (ctx.server.settings().auth_required()) c.authenticated = false;
  ctx.out.Simple("RESET");
}

// Checks a user/password pair against the default user (the only user).
bool Authenticate(CommandContext& ctx, std::string_view user,
                  std::string_view password) {
  std::string required = ctx.server.settings().requirepass();
  // A default user without a password ("nopass") accepts any password.
  if (user != "default" || (!required.empty() && required != password)) {
    ctx.server.acl_log().AddAuthFailure(
        ctx.argv[0], user, ctx.in_exec,
        DescribeClient(ctx.client, ctx.server.NowMs()), ctx.server.NowMs());
    return false;
  }
  ctx.client.authenticated = true;
  return true;
}

constexpr std::string_view kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";

void AuthCommand(CommandContext& ctx) {
  if (ctx.argv.size() > 3) {
    ReplySyntaxError(ctx);
    return;
  }
  std::string_view user = "default", password;
  if (ctx.argv.size() == 2) {
    if (!ctx.server.settings().auth_required()) {
      ctx.out.Error(
          "ERR AUTH <password> called without any password configured for "
          "the default user. Are you sure your configuration is correct?");
      return;
    }
    password = ctx.argv[1];
  } else {
    user = ctx.argv[1];
    password = ctx.argv[2];
  }
  if (Authenticate(ctx, user, password)) {
    ctx.out.Ok();
  } else {
    ctx.out.Error(kWrongPass);
  }
}

bool ValidClientName(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

constexpr std::string_view kBadName =
    "ERR Client names cannot contain spaces, newlines or special characters.";

void ReplyHello(CommandContext& ctx) {
  ctx.out.MapHeader(7);
  ctx.out.Bulk("server");
  ctx.out.Bulk("redis");
  ctx.out.Bulk("version");
  ctx.out.Bulk("7.0.0");
  ctx.out.Bulk("proto");
  ctx.out.Integer(ctx.client.resp);
  ctx.out.Bulk("id");
  ctx.out.Integer(static_cast<int64_t>(ctx.client.id));
  ctx.out.Bulk("mode");
  ctx.out.Bulk("standalone");
  ctx.out.Bulk("role");
  ctx.out.Bulk(ctx.server.replication().is_replica() ? "replica" : "master");
  ctx.out.Bulk("modules");
  ctx.out.ArrayHeader(0);
}

void HelloCommand(CommandContext& ctx) {
  int64_t ver = 0;
  size_t j = 1;
  if (ctx.argv.size() >= 2) {
    if (!ParseInt64(ctx.argv[1], &ver)) {
      ctx.out.Error("ERR Protocol version is not an integer or out of range");
      return;
    }
    if (ver < 2 || ver > 3) {
      ctx.out.Error("NOPROTO unsupported protocol version");
      return;
    }
    j = 2;
  }
  std::string_view user, password, name;
  bool has_auth = false, has_name = false;
  for (; j < ctx.argv.size(); ++j) {
    size_t more = ctx.argv.size() - 1 - j;
    if (EqualsIgnoreCase(ctx.argv[j], "auth") && more >= 2) {
      has_auth = true;
      user = ctx.argv[j + 1];
      password = ctx.argv[j + 2];
      j += 2;
    } else if (EqualsIgnoreCase(ctx.argv[j], "setname") && more >= 1) {
      has_name = true;
      name = ctx.argv[++j];
      if (!ValidClientName(name)) {
        ctx.out.Error(kBadName);
        return;
      }
    } else {
      ctx.out.Error("ERR Syntax error in HELLO option '" +
                    std::string(ctx.argv[j]) + "'");
      return;
    }
  }
  if (has_auth && !Authenticate(ctx, user, password)) {
    ctx.out.Error(kWrongPass);
    return;
  }
  if (!ctx.client.authenticated && ctx.server.settings().auth_required()) {
    ctx.out.Error(
        "NOAUTH HELLO must be called with the client already authenticated, "
        "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
        "authenticate the client and select the RESP protocol version at the "
        "same time");
    return;
  }
  if (has_name) {
    MutexLock l(&ctx.client.info_mu);
    ctx.client.name = std::string(name);
  }
  if (ver != 0) {
    ctx.client.resp = static_cast<int>(ver);
    ctx.out.set_resp(static_cast<int>(ver));
  }
  ReplyHello(ctx);
}

}  // namespace

bool IsValidClientName(std::string_view name) { return ValidClientName(name); }

void RegisterConnectionCommands(CommandTable* t) {
  const std::string_view g = "connection";
  const uint32_t kConn = kCmdFast | kCmdLoading | kCmdStale;
  t->Add({.name = "ping",
          .arity = -1,
          // Redis's flags: no loading or stale (-LOADING, -MASTERDOWN).
          .flags = kCmdFast | kCmdRefusedOnMisconf,
          .fn = PingCommand,
          .group = g,
          .summary = "Ping the server",
          .since = "1.0.0"});
  t->Add({.name = "echo",
          .arity = 2,
          .flags = kConn,
          .fn = EchoCommand,
          .group = g,
          .summary = "Echo the given string",
          .since = "1.0.0"});
  t->Add({.name = "quit",
          .arity = -1,
          .flags = kConn | kCmdNoAuth | kCmdNoQueue,
          .fn = QuitCommand,
          .group = g,
          .summary = "Close the connection",
          .since = "1.0.0"});
  t->Add({.name = "reset",
          .arity = 1,
          .flags = kConn | kCmdNoAuth | kCmdNoQueue,
          .fn = ResetCommand,
          .group = g,
          .summary = "Reset the connection",
          .since = "6.2.0"});
  t->Add({.name = "auth",
          .arity = -2,
          .flags = kConn | kCmdNoAuth,
          .fn = AuthCommand,
          .group = g,
          .summary = "Authenticate to the server",
          .since = "1.0.0"});
  t->Add({.name = "hello",
          .arity = -1,
          .flags = kConn | kCmdNoAuth,
          .fn = HelloCommand,
          .group = g,
          .summary = "Handshake with Redis",
          .since = "6.0.0"});
}

}  // namespace daxkv::kv
