// XREAD (Redis 7.0): streams with entries above the given IDs are served
// at once. With BLOCK and nothing to serve, the client waits (a Waiter of
// kv/block_registry.h, registered by this command's Txn while it holds the
// keys' stripes, so no XADD falls between the check and the registration);
// the XADD that adds an entry above its ID serves it inside its own Txn
// (kv/block_serve.cc). Inside MULTI/EXEC and scripts BLOCK answers a null
// array, as Redis's blocking-denied clients get.
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kv/block_registry.h"
#include "kv/block_serve.h"
#include "kv/client.h"
#include "kv/coll_run.h"
#include "kv/command.h"
#include "kv/repl_effects.h"
#include "kv/resp_parser.h"
#include "kv/server_state.h"
#include "kv/stream_codec.h"
#include "kv/stream_group_read.h"
#include "kv/stream_group_store.h"
#include "kv/stream_store.h"

namespace daxkv::kv {
namespace {

using engine::KeyType;
using engine::ReadOps;
using engine::Txn;

struct XReadArgs {
  int64_t count = 0;  // 0: no limit
  bool block = false;
  int64_t block_ms = 0;  // 0: forever
  size_t streams_arg = 0;
  size_t streams = 0;
  // XREADGROUP's
  bool has_group = false;
  std::string_view group;
  std::string_view consumer;
  bool noack = false;
};

// Redis 7.0's xreadCommand option loop: "" or the error to reply.
// `group_cmd`: XREADGROUP.
std::string ParseXReadArgs(std::span<const std::string_view> argv,
                           bool group_cmd, XReadArgs* a) {
  for (size_t i = 1; i < argv.size(); ++i) {
    const size_t more = argv.size() - i - 1;
    std::string_view o = argv[i];
    if (EqualsIgnoreCase(o, "block") && more) {
      int64_t ms;
      if (!ParseInt64(argv[++i], &ms)) {
        return "ERR timeout is not an integer or out of range";
      }
      if (ms < 0) return "ERR timeout is negative";
      a->block = true;
      a->block_ms = ms;
    } else if (EqualsIgnoreCase(o, "count") && more) {
      if (!ParseInt64(argv[++i], &a->count)) return std::string(kErrNotInteger);
      if (a->count < 0) a->count = 0;
    } else if (EqualsIgnoreCase(o, "streams") && more) {
      a->streams_arg = i + 1;
      const size_t n = argv.size() - a->streams_arg;
      if (n % 2 != 0) {
        return "ERR Unbalanced XREAD list of streams: for each stream key an "
               "ID or '$' must be specified.";
      }
      a->streams = n / 2;
      break;
    } else if (EqualsIgnoreCase(o, "group") && more >= 2) {
      if (!group_cmd) {
        return "ERR The GROUP option is only supported by XREADGROUP. You "
               "called XREAD instead.";
      }
      a->has_group = true;
      a->group = argv[i + 1];
      a->consumer = argv[i + 2];
      i += 2;
    } else if (EqualsIgnoreCase(o, "noack")) {
      if (!group_cmd) {
        return "ERR The NOACK option is only supported by XREADGROUP. You "
               "called XREAD instead.";
      }
      a->noack = true;
    } else {
      return std::string(kErrSyntax);
    }
  }
  if (a->streams_arg == 0) return std::string(kErrSyntax);
  if (group_cmd && !a->has_group) {
    return "ERR Missing GROUP option for XREADGROUP";
  }
  return "";
}

// The ID after which argv's i-th stream is read ("$": its last ID).
Status ReadAfterId(ReadOps& ops, std::string_view key, std::string_view arg,
                   StreamId* after) {
  StreamMeta m;
  Status s = ReadStreamMeta(ops, key, &m);  // WRONGTYPE first, as Redis
  if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  if (arg == "$") {
    *after = s.ok() ? m.last_id : StreamId{0, 0};
    return OkStatus();
  }
  if (arg == ">") {
    return CommandError(
        "ERR The > ID can be specified only when calling XREADGROUP using "
        "the GROUP <group> <consumer> option.");
  }
  if (!ParseStreamId(arg, 0, true, after)) {
    return CommandError(
        "ERR Invalid stream ID specified as stream command argument");
  }
  return OkStatus();
}

using Served = std::vector<
    std::pair<size_t, std::vector<std::pair<StreamId, std::string>>>>;

void ReplyServed(ReplyWriter& out, std::span<const std::string_view> keys,
                 const Served& served) {
  if (out.resp() >= 3) {
    out.MapHeader(served.size());
  } else {
    out.ArrayHeader(served.size());
  }
  for (const auto& [i, entries] : served) {
    if (out.resp() < 3) out.ArrayHeader(2);
    out.Bulk(keys[i]);
    out.ArrayHeader(entries.size());
    for (const auto& [id, v] : entries) ReplyStreamEntry(out, id, v);
  }
}

// Reads every stream above its ID into *served (IDs resolved into *after).
Status ReadStreams(ReadOps& ops, const XReadArgs& a,
                   std::span<const std::string_view> keys,
                   std::span<const std::string_view> ids,
                   std::vector<StreamId>* after, Served* served) {
  after->assign(a.streams, StreamId{});
  for (size_t i = 0; i < a.streams; ++i) {
    DAXKV_RETURN_IF_ERROR(ReadAfterId(ops, keys[i], ids[i], &(*after)[i]));
  }
  for (size_t i = 0; i < a.streams; ++i) {
    StreamId from = (*after)[i];
    if (!IncrStreamId(&from)) continue;
    std::vector<std::pair<StreamId, std::string>> entries;
    DAXKV_RETURN_IF_ERROR(ForEachStreamEntry(
        ops, keys[i], from, kMaxStreamId, false, static_cast<uint64_t>(a.count),
        [&](StreamId id, std::string_view v) {
          entries.emplace_back(id, std::string(v));
          return true;
        }));
    if (!entries.empty()) served->emplace_back(i, std::move(entries));
  }
  return OkStatus();
}

// XREAD BLOCK: one Txn that reads, or registers the waiter while it holds
// the keys' stripes (taken by its reads).
void BlockingXRead(CommandContext& ctx, const XReadArgs& a,
                   std::span<const std::string_view> keys,
                   std::span<const std::string_view> ids) {
  std::shared_ptr<Waiter> waiter;
  const int64_t deadline = a.block_ms > 0 ? ctx.server.NowMs() + a.block_ms : 0;
  const bool ok = RunCollWrite(ctx, [&](engine::Txn& txn, CollCall& call) {
    if (waiter != nullptr) return OkStatus();  // a restart: still queued
    std::vector<StreamId> after;
    Served served;
    DAXKV_RETURN_IF_ERROR(ReadStreams(txn, a, keys, ids, &after, &served));
    if (!served.empty()) {
      ReplyServed(call.out, keys, served);
      return OkStatus();
    }
    BlockOp op;
    op.cmd = BlockOp::Cmd::kXRead;
    op.type = KeyType::kStream;
    op.count = a.count;
    for (StreamId id : after) op.after.emplace_back(id.ms, id.seq);
    waiter = std::make_shared<Waiter>(
        ctx.client.id, std::vector<std::string>(keys.begin(), keys.end()),
        std::move(op), ctx.out.resp(), deadline, ctx.client.unblock_notify);
    ctx.server.blocked().Block(waiter);
    return OkStatus();
  });
  SettleBlocking(ctx, ok, std::move(waiter));
}

void XReadCommand(CommandContext& ctx) {
  XReadArgs a;
  if (std::string err = ParseXReadArgs(ctx.argv, false, &a); !err.empty()) {
    ctx.out.Error(err);
    return;
  }
  const auto keys = ctx.argv.subspan(a.streams_arg, a.streams);
  const auto ids = ctx.argv.subspan(a.streams_arg + a.streams);
  if (a.block && !ctx.in_exec) {
    BlockingXRead(ctx, a, keys, ids);
    return;
  }
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    std::vector<StreamId> after;
    Served served;
    DAXKV_RETURN_IF_ERROR(ReadStreams(ops, a, keys, ids, &after, &served));
    if (served.empty()) {
      call.out.NullArray();
    } else {
      ReplyServed(call.out, keys, served);
    }
    return OkStatus();
  });
}

// XREADGROUP's per-stream checks, in Redis's order (type, group, ID);
// *history[i]: an explicit ID (its value in (*after)[i]), else ">".
Status CheckGroupStreams(ReadOps& ops, const XReadArgs& a,
                         std::span<const std::string_view> keys,
                         std::span<const std::string_view> ids,
                         std::vector<bool>* history,
                         std::vector<StreamId>* after) {
  history->assign(a.streams, false);
  after->assign(a.streams, StreamId{});
  for (size_t i = 0; i < a.streams; ++i) {
    StreamMeta m;
    Status s = ReadStreamMeta(ops, keys[i], &m);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    GroupState g;
    bool found = false;
    if (s.ok())
      DAXKV_RETURN_IF_ERROR(ReadGroup(ops, keys[i], a.group, &g, &found));
    if (!found) {
      return CommandError("NOGROUP No such key '" + CString(keys[i]) +
                          "' or consumer group '" + CString(a.group) +
                          "' in XREADGROUP with GROUP option");
    }
    if (ids[i] == "$") {
      return CommandError(
          "ERR The $ ID is meaningless in the context of XREADGROUP: you want "
          "to read the history of this consumer by specifying a proper ID, or "
          "use the > ID to get new messages. The $ ID would just return an "
          "empty result set.");
    }
    if (ids[i] == ">") continue;
    if (!ParseStreamId(ids[i], 0, true, &(*after)[i])) {
      return CommandError(kErrInvalidId);
    }
    // Redis marks ">" with the largest ID, so that ID reads as ">" too.
    (*history)[i] = !((*after)[i] == kMaxStreamId);
  }
  return OkStatus();
}

// Serves every stream that has something for the consumer (its history,
// or entries above the group's last ID); *served: how many.
Status ServeGroupStreams(Txn& txn, CommandContext& ctx, const XReadArgs& a,
                         std::span<const std::string_view> keys,
                         std::span<const std::string_view> ids, CollCall& call,
                         GroupEffects* effects, size_t* served) {
  std::vector<bool> history;
  std::vector<StreamId> after;
  DAXKV_RETURN_IF_ERROR(CheckGroupStreams(txn, a, keys, ids, &history, &after));
  std::string body;
  *served = 0;
  for (size_t i = 0; i < a.streams; ++i) {
    if (!history[i]) {
      GroupState g;
      bool found, has_new;
      DAXKV_RETURN_IF_ERROR(ReadGroup(txn, keys[i], a.group, &g, &found));
      DAXKV_RETURN_IF_ERROR(GroupHasNew(txn, keys[i], g, &has_new));
      if (!has_new) continue;
    }
    ReplyWriter out(&body, call.out.resp());
    if (out.resp() < 3) out.ArrayHeader(2);
    out.Bulk(keys[i]);
    const GroupReadArgs r{keys[i],    a.group,
                          a.consumer, history[i],
                          after[i],   static_cast<uint64_t>(a.count),
                          a.noack,    ctx.server.NowMs()};
    DAXKV_RETURN_IF_ERROR(ServeGroupRead(txn, r, out, effects));
    ++*served;
  }
  if (*served == 0) return OkStatus();
  if (call.out.resp() >= 3) {
    call.out.MapHeader(*served);
  } else {
    call.out.ArrayHeader(*served);
  }
  call.out.buffer()->append(body);
  return OkStatus();
}

void XReadGroupCommand(CommandContext& ctx) {
  XReadArgs a;
  if (std::string err = ParseXReadArgs(ctx.argv, true, &a); !err.empty()) {
    ctx.out.Error(err);
    return;
  }
  const auto keys = ctx.argv.subspan(a.streams_arg, a.streams);
  const auto ids = ctx.argv.subspan(a.streams_arg + a.streams);
  const bool block = a.block && !ctx.in_exec;
  const int64_t deadline = a.block_ms > 0 ? ctx.server.NowMs() + a.block_ms : 0;
  GroupEffects effects;
  std::shared_ptr<Waiter> waiter;
  const bool ok = RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    if (waiter != nullptr) return OkStatus();  // a restart: still queued
    effects.clear();
    size_t served = 0;
    DAXKV_RETURN_IF_ERROR(
        ServeGroupStreams(txn, ctx, a, keys, ids, call, &effects, &served));
    if (served != 0) return OkStatus();
    if (!block) {
      call.out.NullArray();
      return OkStatus();
    }
    // Every ID is ">" (a history read always serves): registered while
    // this Txn holds the keys' stripes, so no XADD falls in between.
    BlockOp op;
    op.cmd = BlockOp::Cmd::kXReadGroup;
    op.type = KeyType::kStream;
    op.count = a.count;
    op.group = a.group;
    op.consumer = a.consumer;
    op.noack = a.noack;
    waiter = std::make_shared<Waiter>(
        ctx.client.id, std::vector<std::string>(keys.begin(), keys.end()),
        std::move(op), ctx.out.resp(), deadline, ctx.client.unblock_notify);
    ctx.server.blocked().Block(waiter);
    return OkStatus();
  });
  // Redis propagates the deliveries, not the command.
  if (ok && waiter == nullptr) {
    for (const auto& e : effects) RecordEffect(ctx.client, e);
  }
  SettleBlocking(ctx, ok, std::move(waiter));
}

}  // namespace

void RegisterStreamReadCommands(CommandTable* t) {
  static constexpr CollCommand kCommands[] = {
      {"xread", -4, kCmdReadOnly, XReadCommand,
       "Return never seen elements in multiple streams, with IDs greater than "
       "the ones reported by the caller for each stream. Can block.",
       "5.0.0", 0, 0},
      {"xreadgroup", -7, kCmdWrite, XReadGroupCommand,
       "Return new entries from a stream using a consumer group, or access "
       "the history of the pending entries for a given consumer. Can block.",
       "5.0.0", 0, 0},
  };
  AddCollCommands(t, "stream", kCommands);
}

}  // namespace daxkv::kv
