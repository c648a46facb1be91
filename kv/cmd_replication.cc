// REPLICAOF / SLAVEOF and ROLE: this server's place in Redis replication
// (kv/replication.h; docs/replication.md).
#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>

#include "kv/block_registry.h"
#include "kv/command.h"
#include "kv/executor.h"
#include "kv/repl_master.h"
#include "kv/repl_snapshot.h"
#include "kv/replica_link.h"
#include "kv/replication.h"

namespace daxkv::kv {
namespace {

// Starting, repointing or stopping the link joins the link thread, which
// may be waiting for the exec lock, and becoming a replica joins our
// replicas' threads, which may be waiting for the replication order mutex
// (held around an EXEC on a master with replicas): this thread's holds of
// both are released meanwhile. Inside EXEC the block's exclusive hold
// cannot be, so EXEC makes the change once the block is done
// (RunDeferredReplicaOf).
void ChangeMaster(CommandContext& ctx, const std::string& host, int port) {
  Replication& repl = ctx.server.replication();
  if (host.empty() && !repl.is_replica()) return;
  std::unique_lock<Mutex>* order = ctx.client.repl_order;
  const bool release_order = order != nullptr && order->owns_lock();
  if (release_order) order->unlock();
  std::shared_lock<std::shared_timed_mutex>* round = ctx.client.round_lock;
  const bool release = round != nullptr && round->owns_lock();
  if (release) round->unlock();
  repl.ReplicaOf(host, port);
  if (release) round->lock();
  if (release_order) order->lock();
  if (host.empty()) {
    std::fprintf(stderr,
                 "replication: MASTER MODE enabled (user request from "
                 "'%s')\n",
                 ctx.client.addr.c_str());
  } else {
    std::fprintf(stderr,
                 "replication: REPLICAOF %s:%d enabled (user request from "
                 "'%s')\n",
                 host.c_str(), port, ctx.client.addr.c_str());
  }
}

// REPLICAOF host port | NO ONE. Inside EXEC (Sentinel sends it in a MULTI
// block with CONFIG REWRITE and CLIENT KILL) the block records the target
// and EXEC applies it after releasing the exec lock, before its reply
// leaves: a later CONFIG REWRITE of the block writes that target.
void ReplicaOfCommand(CommandContext& ctx) {
  std::string host;
  int64_t port = 0;
  if (!EqualsIgnoreCase(ctx.argv[1], "no") ||
      !EqualsIgnoreCase(ctx.argv[2], "one")) {
    if (!ParseIntArg(ctx, ctx.argv[2], &port)) return;
    if (port < 0 || port > 65535) {
      ctx.out.Error("ERR Invalid master port");
      return;
    }
    host = std::string(ctx.argv[1]);
    if (ctx.server.replication().IsReplicaOf(host, static_cast<int>(port)) &&
        !ctx.client.replicaof_deferred) {
      ctx.out.Simple("OK Already connected to specified master");
      return;
    }
  }
  if (ctx.in_exec) {
    ctx.client.replicaof_deferred = true;
    ctx.client.replicaof_host = host;
    ctx.client.replicaof_port = static_cast<int>(port);
  } else {
    ChangeMaster(ctx, host, static_cast<int>(port));
  }
  ctx.out.Ok();
}

// REPLCONF from a replica: its listening port and capabilities during the
// handshake, then ACKs (no reply, as in Redis).
void ReplconfCommand(CommandContext& ctx) {
  if (ctx.argv.size() % 2 == 0) {
    ctx.out.Error(std::string(kErrSyntax));
    return;
  }
  ReplMaster& master = ctx.server.replication().master();
  for (size_t i = 1; i < ctx.argv.size(); i += 2) {
    std::string_view opt = ctx.argv[i];
    std::string_view value = ctx.argv[i + 1];
    int64_t n = 0;
    if (EqualsIgnoreCase(opt, "ack")) {
      if (ParseInt64(value, &n)) master.NoteAck(ctx.client.id, n);
      return;
    }
    if (EqualsIgnoreCase(opt, "getack")) return;  // for replicas only
    if (EqualsIgnoreCase(opt, "listening-port")) {
      if (!ParseInt64(value, &n) || n < 0 || n > 65535) {
        ctx.out.Error("ERR value is not an integer or out of range");
        return;
      }
      master.NoteListeningPort(ctx.client.id, static_cast<int>(n));
    } else if (!EqualsIgnoreCase(opt, "capa") &&
               !EqualsIgnoreCase(opt, "ip-address") &&
               !EqualsIgnoreCase(opt, "rdb-only") &&
               !EqualsIgnoreCase(opt, "rdb-filter-only")) {
      ctx.out.Error("ERR Unrecognized REPLCONF option: " + std::string(opt));
      return;
    }
  }
  ctx.out.Ok();
}

// PSYNC <replid> <offset> and SYNC: +CONTINUE from the backlog when it
// holds the offset, else +FULLRESYNC and an RDB of a point-in-time view
// taken while the exec lock is held exclusively (no command runs; the
// view and the stream offset agree). The replica's own thread
// (kv/repl_master.h) sends the reply line, the RDB and the stream: this
// handler replies nothing itself.
void PsyncCommand(CommandContext& ctx) {
  Replication& repl = ctx.server.replication();
  if (repl.is_replica()) {
    ctx.out.Error(
        "ERR daxkv serves replicas only as a master (chained replication "
        "is not supported yet)");
    return;
  }
  const bool psync = EqualsIgnoreCase(ctx.argv[0], "psync");
  int64_t want = -1;
  if (psync && !ParseInt64(ctx.argv[2], &want)) want = -1;
  const std::string addr = ctx.client.addr;
  const std::string ip = addr.substr(0, addr.rfind(':'));
  ReplMaster& master = repl.master();
  ExclusiveSection section(ctx);
  master.Activate();
  ctx.client.is_replica = true;
  const std::string replid = repl.replid();
  if (psync && repl.CanContinue(std::string(ctx.argv[1]), want) &&
      master.Continue(ctx.client.id, ctx.client.fd, ip, want - 1,
                      "+CONTINUE " + replid + "\r\n")) {
    std::fprintf(stderr,
                 "replication: Partial resynchronization request from %s "
                 "accepted, continuing from offset %lld\n",
                 addr.c_str(), static_cast<long long>(want));
    return;
  }
  if (const int64_t ahead =
          psync ? repl.AheadOfPromotion(std::string(ctx.argv[1]), want) : 0) {
    std::fprintf(stderr,
                 "replication: replica %s holds %lld bytes of the previous "
                 "master's stream beyond the offset this server was promoted "
                 "at: writes it acknowledged there (WAIT may have counted "
                 "them) are not here, and its full sync drops them\n",
                 addr.c_str(), static_cast<long long>(ahead));
  }
  // The pause: the key list as of now (kv/repl_snapshot.h); the values
  // are serialized by the replica's thread while writers go on.
  const int64_t offset = master.offset();
  const auto start = std::chrono::steady_clock::now();
  StatusOr<std::unique_ptr<SnapshotJob>> job =
      SnapshotJob::Begin(ctx.server, replid, offset);
  if (!job.ok()) {
    ctx.client.is_replica = false;
    ctx.out.Error("ERR full sync failed: " +
                  std::string(job.status().message()));
    return;
  }
  std::fprintf(stderr,
               "replication: Full resync requested by replica %s: %zu keys at "
               "offset %lld, commands paused %lld ms to list them\n",
               addr.c_str(), (*job)->keys(), static_cast<long long>(offset),
               static_cast<long long>(
                   std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count()));
  master.StartFull(
      ctx.client.id, ctx.client.fd, ip, std::move(*job), offset,
      psync ? "+FULLRESYNC " + replid + " " + std::to_string(offset) + "\r\n"
            : std::string());
}

void WaitCommand(CommandContext& ctx) {
  Replication& repl = ctx.server.replication();
  if (repl.is_replica()) {
    ctx.out.Error(
        "ERR WAIT cannot be used with replica instances. Please also note "
        "that since Redis 4.0 if a replica is configured to be writable "
        "(which is not the default) writes to replicas are just local and "
        "are not propagated.");
    return;
  }
  int64_t n = 0, timeout = 0;
  if (!ParseIntArg(ctx, ctx.argv[1], &n)) return;
  if (!ParseInt64(ctx.argv[2], &timeout)) {
    ctx.out.Error("ERR timeout is not an integer or out of range");
    return;
  }
  if (timeout < 0) {
    ctx.out.Error("ERR timeout is negative");
    return;
  }
  ReplMaster& master = repl.master();
  const int64_t woff = ctx.client.repl_woff;
  const int acked = master.CountAcked(woff);
  if (acked >= n || ctx.in_exec) {  // in MULTI: no blocking, as Redis
    ctx.out.Integer(acked);
    return;
  }
  // The GETACK goes out once a Sync covered it (as every stream byte): this
  // Sync, rather than the master's own ~100 ms later.
  master.RequestAcks();
  if (!SyncRound(ctx.server)) {
    ctx.out.Error(std::string(kErrMisconf));
    return;
  }
  const int64_t now = ctx.server.NowMs();
  const int64_t deadline =
      timeout == 0 || timeout > INT64_MAX - now ? 0 : now + timeout;
  auto waiter = std::make_shared<Waiter>(
      ctx.client.id, std::vector<std::string>{}, BlockOp{}, ctx.out.resp(),
      deadline, ctx.client.unblock_notify);
  waiter->set_timeout_reply([&master, woff] {
    return ":" + std::to_string(master.CountAcked(woff)) + "\r\n";
  });
  ctx.server.blocked().Block(waiter);
  ctx.client.blocked = waiter;
  ctx.client.blocked_flag.store(true, std::memory_order_relaxed);
  master.AddAckWaiter(std::move(waiter), woff,
                      static_cast<int>(std::min<int64_t>(n, INT32_MAX)));
}

void RoleCommand(CommandContext& ctx) {
  ctx.server.replication().ReplyRole(ctx.out);
}

}  // namespace

void RunDeferredReplicaOf(CommandContext& ctx) {
  Client& c = ctx.client;
  if (!c.replicaof_deferred) return;
  c.replicaof_deferred = false;
  ChangeMaster(ctx, c.replicaof_host, c.replicaof_port);
}

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
            .since = name == "slaveof" ? "1.0.0" : "5.0.0"});
  }
  for (auto [name, arity] : {std::pair<std::string_view, int>{"replconf", -1},
                             {"psync", -3},
                             {"sync", 1}}) {
    t->Add({.name = name,
            .arity = arity,
            .flags = kCmdAdmin | kCmdLoading | kCmdStale | kCmdNoMulti,
            .fn = name == "replconf" ? ReplconfCommand : PsyncCommand,
            .group = g,
            .summary = "An internal command used in replication",
            .since = "1.0.0"});
  }
  t->Add({.name = "wait",
          .arity = 3,
          .flags = 0,
          .fn = WaitCommand,
          .group = "generic",
          .summary = "Wait for the synchronous replication of all the write "
                     "commands sent in the context of the current connection",
          .since = "3.0.0"});
  t->Add({.name = "role",
          .arity = 1,
          .flags = kCmdLoading | kCmdStale | kCmdFast,
          .fn = RoleCommand,
          .group = "server",
          .summary = "Return the role of the instance in the context of "
                     "replication",
          .since = "2.8.12"});
}

}  // namespace daxkv::kv
