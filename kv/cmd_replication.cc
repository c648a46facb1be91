// REPLICAOF / SLAVEOF and ROLE: this server's place in Redis replication
// (kv/replication.h; docs/replication.md).
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>

#include "kv/command.h"
#include "kv/replication.h"

namespace daxkv::kv {
namespace {

// Starting, repointing or stopping the link joins the link thread, which
// may be waiting for the exec lock: this thread's round hold is released
// meanwhile (inside EXEC the block's exclusive hold cannot be; see
// docs/replication.md, Limits).
void ChangeMaster(CommandContext& ctx, const std::string& host, int port) {
  std::shared_lock<std::shared_timed_mutex>* round = ctx.client.round_lock;
  const bool release = !ctx.in_exec && round != nullptr && round->owns_lock();
  if (release) round->unlock();
  ctx.server.replication().ReplicaOf(host, port);
  if (release) round->lock();
}

void ReplicaOfCommand(CommandContext& ctx) {
  Replication& repl = ctx.server.replication();
  if (EqualsIgnoreCase(ctx.argv[1], "no") &&
      EqualsIgnoreCase(ctx.argv[2], "one")) {
    if (repl.is_replica()) {
      ChangeMaster(ctx, "", 0);
      std::fprintf(stderr,
                   "replication: MASTER MODE enabled (user request from "
                   "'%s')\n",
                   ctx.client.addr.c_str());
    }
    ctx.out.Ok();
    return;
  }
  int64_t port = 0;
  if (!ParseIntArg(ctx, ctx.argv[2], &port)) return;
  if (port < 0 || port > 65535) {
    ctx.out.Error("ERR Invalid master port");
    return;
  }
  const std::string host(ctx.argv[1]);
  if (repl.IsReplicaOf(host, static_cast<int>(port))) {
    ctx.out.Simple("OK Already connected to specified master");
    return;
  }
  ChangeMaster(ctx, host, static_cast<int>(port));
  std::fprintf(stderr,
               "replication: REPLICAOF %s:%lld enabled (user request from "
               "'%s')\n",
               host.c_str(), static_cast<long long>(port),
               ctx.client.addr.c_str());
  ctx.out.Ok();
}

// The master side (serving replicas) is not built yet: a replica that asks
// gets this instead of "unknown command", so its log says why.
void ServeReplicaCommand(CommandContext& ctx) {
  ctx.out.Error(
      "ERR daxkv cannot serve replicas yet: it replicates only as a replica "
      "of a Redis master (REPLICAOF)");
}

void RoleCommand(CommandContext& ctx) {
  ctx.server.replication().ReplyRole(ctx.out);
}

}  // namespace

void RegisterReplicationCommands(CommandTable* t) {
  const std::string_view g = "server";
  for (std::string_view name : {"replicaof", "slaveof"}) {
    t->Add({.name = name,
            .arity = 3,
            .flags = kCmdAdmin | kCmdStale,
            .fn = ReplicaOfCommand,
            .group = g,
            .summary = "Make the server a replica of another instance, or "
                       "promote it as master.",
            .since = name == "slaveof" ? "1.0.0" : "5.0.0",
            .acl = "@admin @slow @dangerous"});
  }
  for (auto [name, arity] : {std::pair<std::string_view, int>{"replconf", -1},
                             {"psync", -3},
                             {"sync", 1}}) {
    t->Add({.name = name,
            .arity = arity,
            .flags = kCmdAdmin | kCmdLoading | kCmdStale | kCmdNoMulti,
            .fn = ServeReplicaCommand,
            .group = g,
            .summary = "An internal command used in replication",
            .since = "1.0.0",
            .acl = "@admin @slow @dangerous"});
  }
  t->Add({.name = "role",
          .arity = 1,
          .flags = kCmdLoading | kCmdStale | kCmdFast,
          .fn = RoleCommand,
          .group = "server",
          .summary = "Return the role of the instance in the context of "
                     "replication",
          .since = "2.8.12",
          .acl = "@admin @fast @dangerous"});
}

}  // namespace daxkv::kv
