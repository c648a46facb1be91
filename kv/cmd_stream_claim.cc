// XCLAIM and XAUTOCLAIM (Redis 7.0): a consumer takes over pending entries
// of its group. Arguments are checked in redis-server 7.0.15's order; a
// pending entry whose stream entry is gone leaves the group's PEL, as in
// Redis. Both propagate what they did as XCLAIM ... FORCE JUSTID (and
// XGROUP SETID when only LASTID moved the group), never the command.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/function_ref.h"
#include "kv/coll_run.h"
#include "kv/command.h"
#include "kv/repl_effects.h"
#include "kv/resp_parser.h"
#include "kv/server_state.h"
#include "kv/stream_group_read.h"
#include "kv/stream_group_store.h"
#include "kv/stream_store.h"

namespace daxkv::kv {
namespace {

using engine::ReadOps;
using engine::Txn;

// The group, or NOGROUP (after WRONGTYPE) when the key or group is absent.
Status LookupGroup(ReadOps& ops, std::string_view key, std::string_view group,
                   GroupState* g) {
  StreamMeta m;
  Status s = ReadStreamMeta(ops, key, &m);
  if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  bool found = false;
  if (s.ok()) DAXKV_RETURN_IF_ERROR(ReadGroup(ops, key, group, g, &found));
  if (found) return OkStatus();
  return CommandError("NOGROUP No such key '" + CString(key) +
                      "' or consumer group '" + CString(group) + "'");
}

// The entry's value, if the stream still has it.
Status ReadEntry(ReadOps& ops, std::string_view key, StreamId id,
                 std::string* value, bool* found) {
  *found = false;
  return ForEachStreamEntry(ops, key, id, id, false, 1,
                            [&](StreamId, std::string_view v) {
                              value->assign(v);
                              *found = true;
                              return false;
                            });
}

// One claim's shared state: the claiming consumer is created (or its
// seen time refreshed) by the first entry it takes.
struct Claimer {
  std::string_view key, group, consumer;
  int64_t now;
  bool touched = false;
  Status Touch(Txn& txn) {
    if (touched) return OkStatus();
    touched = true;
    return WriteConsumer(txn, key, group, consumer, {now});
  }
};

struct XClaimArgs {
  int64_t min_idle = 0;
  std::vector<StreamId> ids;
  int64_t retry_count = -1;
  int64_t delivery_time = -1;
  bool force = false;
  bool justid = false;
  StreamId last_id;
};

// Everything after the group: CommandError text when malformed.
Status ParseXClaimArgs(CommandContext& ctx, int64_t now, XClaimArgs* a) {
  const auto& argv = ctx.argv;
  if (!ParseInt64(argv[4], &a->min_idle)) {
    return CommandError("ERR Invalid min-idle-time argument for XCLAIM");
  }
  if (a->min_idle < 0) a->min_idle = 0;
  size_t j = 5;
  for (StreamId id; j < argv.size() && ParseStreamId(argv[j], 0, true, &id);
       ++j) {
    a->ids.push_back(id);
  }
  for (; j < argv.size(); ++j) {
    const bool more = j + 1 < argv.size();
    const std::string_view opt = argv[j];
    int64_t v;
    if (EqualsIgnoreCase(opt, "force")) {
      a->force = true;
    } else if (EqualsIgnoreCase(opt, "justid")) {
      a->justid = true;
    } else if (EqualsIgnoreCase(opt, "idle") && more) {
      if (!ParseInt64(argv[++j], &v)) {
        return CommandError("ERR Invalid IDLE option argument for XCLAIM");
      }
      a->delivery_time = now - v;
    } else if (EqualsIgnoreCase(opt, "time") && more) {
      if (!ParseInt64(argv[++j], &a->delivery_time)) {
        return CommandError("ERR Invalid TIME option argument for XCLAIM");
      }
    } else if (EqualsIgnoreCase(opt, "retrycount") && more) {
      if (!ParseInt64(argv[++j], &a->retry_count)) {
        return CommandError(
            "ERR Invalid RETRYCOUNT option argument for XCLAIM");
      }
    } else if (EqualsIgnoreCase(opt, "lastid") && more) {
      if (!ParseStreamId(argv[++j], 0, true, &a->last_id)) {
        return CommandError(kErrInvalidId);
      }
    } else {
      return CommandError("ERR Unrecognized XCLAIM option '" + CString(opt) +
                          "'");
    }
  }
  if (a->delivery_time < 0 || a->delivery_time > now) a->delivery_time = now;
  return OkStatus();
}

// Claims one ID for XCLAIM; *claimed when it joined the reply.
Status ClaimOne(Txn& txn, const XClaimArgs& a, Claimer& c, StreamId id,
                const GroupState& g, ReplyWriter& out, GroupEffects* effects,
                bool* claimed) {
  *claimed = false;
  PendingState p;
  bool pending, exists;
  DAXKV_RETURN_IF_ERROR(ReadPending(txn, c.key, c.group, id, &p, &pending));
  std::string value;
  DAXKV_RETURN_IF_ERROR(ReadEntry(txn, c.key, id, &value, &exists));
  if (!exists) {
    if (pending) {
      effects->push_back(XClaimEffect(c.key, c.group, id, p, g.last_id));
      bool existed;
      DAXKV_RETURN_IF_ERROR(DeletePending(txn, c.key, c.group, id, &existed));
    }
    return OkStatus();
  }
  const bool forced = !pending && a.force;
  if (!pending && !forced) return OkStatus();
  if (forced) p = {c.now, 1, ""};
  if (!forced && a.min_idle != 0 && c.now - p.delivery_time_ms < a.min_idle) {
    return OkStatus();
  }
  DAXKV_RETURN_IF_ERROR(c.Touch(txn));
  p.delivery_time_ms = a.delivery_time;
  if (a.retry_count >= 0) {
    p.delivery_count = static_cast<uint64_t>(a.retry_count);
  } else if (!a.justid) {
    p.delivery_count++;
  }
  p.consumer.assign(c.consumer);
  DAXKV_RETURN_IF_ERROR(WritePending(txn, c.key, c.group, id, p));
  if (a.justid) {
    out.Bulk(FormatStreamId(id));
  } else {
    ReplyStreamEntry(out, id, value);
  }
  effects->push_back(XClaimEffect(c.key, c.group, id, p, g.last_id));
  *claimed = true;
  return OkStatus();
}

// A claim command's Txn, on argv[1]'s group argv[2]: `body` claims for the
// consumer argv[3] and writes the reply; the effects it gathered are
// recorded once the Txn committed (a restarted body gathers them again).
using ClaimFn = FunctionRef<Status(Txn& txn, CollCall& call, Claimer& c,
                                   GroupState& g, GroupEffects* effects)>;
void RunClaim(CommandContext& ctx, const ClaimFn& body) {
  const int64_t now = ctx.server.NowMs();
  GroupEffects effects;
  const bool ok = RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    effects.clear();
    GroupState g;
    DAXKV_RETURN_IF_ERROR(LookupGroup(txn, ctx.argv[1], ctx.argv[2], &g));
    Claimer c{ctx.argv[1], ctx.argv[2], ctx.argv[3], now};
    return body(txn, call, c, g, &effects);
  });
  if (ok) {
    for (const auto& e : effects) RecordEffect(ctx.client, e);
  }
}

void XClaimCommand(CommandContext& ctx) {
  RunClaim(ctx, [&](Txn& txn, CollCall& call, Claimer& c, GroupState& g,
                    GroupEffects* effects) {
    const std::string_view key = c.key, group = c.group;
    XClaimArgs a;
    DAXKV_RETURN_IF_ERROR(ParseXClaimArgs(ctx, c.now, &a));
    bool moved_last = false;
    if (g.last_id < a.last_id) {
      g.last_id = a.last_id;
      moved_last = true;
      DAXKV_RETURN_IF_ERROR(WriteGroup(txn, key, group, g));
    }
    std::string body;
    ReplyWriter items(&body, call.out.resp());
    size_t n = 0;
    for (StreamId id : a.ids) {
      bool claimed;
      DAXKV_RETURN_IF_ERROR(
          ClaimOne(txn, a, c, id, g, items, effects, &claimed));
      n += claimed ? 1 : 0;
    }
    if (moved_last && effects->empty()) {
      effects->push_back({"XGROUP", "SETID", std::string(key),
                          std::string(group), FormatStreamId(g.last_id),
                          "ENTRIESREAD", std::to_string(g.entries_read)});
    }
    call.out.ArrayHeader(n);
    call.out.buffer()->append(body);
    return OkStatus();
  });
}

struct XAutoClaimArgs {
  int64_t min_idle = 0;
  StreamId start;
  int64_t count = 100;
  bool justid = false;
};

// Everything but the key and group, checked before them as Redis does;
// false when replied.
bool ParseXAutoClaimArgs(CommandContext& ctx, XAutoClaimArgs* a) {
  const auto& argv = ctx.argv;
  if (!ParseInt64(argv[4], &a->min_idle)) {
    ctx.out.Error("ERR Invalid min-idle-time argument for XAUTOCLAIM");
    return false;
  }
  if (a->min_idle < 0) a->min_idle = 0;
  bool ex;
  if (!ParseIntervalId(argv[5], 0, &a->start, &ex)) {
    ctx.out.Error(kErrInvalidId);
    return false;
  }
  if (ex && !IncrStreamId(&a->start)) {
    ctx.out.Error("ERR invalid start ID for the interval");
    return false;
  }
  // Redis caps COUNT so that COUNT * 16 bytes of deleted IDs fit a long.
  constexpr int64_t kMaxCount = INT64_MAX / 16;
  for (size_t j = 6; j < argv.size(); ++j) {
    if (EqualsIgnoreCase(argv[j], "count") && j + 1 < argv.size()) {
      if (!ParseInt64(argv[++j], &a->count) || a->count < 1 ||
          a->count > kMaxCount) {
        ctx.out.Error("ERR COUNT must be > 0");
        return false;
      }
    } else if (EqualsIgnoreCase(argv[j], "justid")) {
      a->justid = true;
    } else {
      ReplySyntaxError(ctx);
      return false;
    }
  }
  return true;
}

struct AutoClaimResult {
  StreamId cursor;
  std::string claimed;  // the claimed entries (or IDs), as reply items
  size_t n = 0;
  std::vector<StreamId> deleted;
};

// Walks the group's pending entries from a.start: at most count * 10 of
// them looked at, at most count claimed or dropped (Redis's attempts).
Status AutoClaim(Txn& txn, const XAutoClaimArgs& a, Claimer& c,
                 const GroupState& g, int resp, AutoClaimResult* r,
                 GroupEffects* effects) {
  struct Item {
    StreamId id;
    PendingState p;
  };
  std::vector<Item> items;
  const uint64_t attempts = static_cast<uint64_t>(a.count) * 10;
  DAXKV_RETURN_IF_ERROR(
      ForEachPending(txn, c.key, c.group, a.start, kMaxStreamId,
                     [&](StreamId id, const PendingState& p) {
                       items.push_back({id, p});
                       return items.size() <= attempts;  // one more: the cursor
                     }));
  ReplyWriter out(&r->claimed, resp);
  int64_t left = a.count;
  size_t i = 0;
  for (; i < items.size() && i < attempts && left > 0; ++i) {
    Item& it = items[i];
    std::string value;
    bool exists;
    DAXKV_RETURN_IF_ERROR(ReadEntry(txn, c.key, it.id, &value, &exists));
    if (!exists) {
      effects->push_back(XClaimEffect(c.key, c.group, it.id, it.p, g.last_id));
      bool existed;
      DAXKV_RETURN_IF_ERROR(
          DeletePending(txn, c.key, c.group, it.id, &existed));
      r->deleted.push_back(it.id);
      --left;
      continue;
    }
    if (a.min_idle != 0 && c.now - it.p.delivery_time_ms < a.min_idle) {
      continue;
    }
    DAXKV_RETURN_IF_ERROR(c.Touch(txn));
    it.p.delivery_time_ms = c.now;
    if (!a.justid) it.p.delivery_count++;
    it.p.consumer.assign(c.consumer);
    DAXKV_RETURN_IF_ERROR(WritePending(txn, c.key, c.group, it.id, it.p));
    if (a.justid) {
      out.Bulk(FormatStreamId(it.id));
    } else {
      ReplyStreamEntry(out, it.id, value);
    }
    ++r->n;
    --left;
    effects->push_back(XClaimEffect(c.key, c.group, it.id, it.p, g.last_id));
  }
  r->cursor = i < items.size() ? items[i].id : StreamId{0, 0};
  return OkStatus();
}

void XAutoClaimCommand(CommandContext& ctx) {
  XAutoClaimArgs a;
  if (!ParseXAutoClaimArgs(ctx, &a)) return;
  RunClaim(ctx, [&](Txn& txn, CollCall& call, Claimer& c, GroupState& g,
                    GroupEffects* effects) {
    AutoClaimResult r;
    DAXKV_RETURN_IF_ERROR(
        AutoClaim(txn, a, c, g, call.out.resp(), &r, effects));
    call.out.ArrayHeader(3);
    call.out.Bulk(FormatStreamId(r.cursor));
    call.out.ArrayHeader(r.n);
    call.out.buffer()->append(r.claimed);
    call.out.ArrayHeader(r.deleted.size());
    for (StreamId id : r.deleted) call.out.Bulk(FormatStreamId(id));
    return OkStatus();
  });
}

}  // namespace

void RegisterStreamClaimCommands(CommandTable* t) {
  static constexpr CollCommand kCommands[] = {
      {"xclaim", -6, kCmdWrite | kCmdFast, XClaimCommand,
       "Changes (or acquires) ownership of a message in a consumer group, as "
       "if the message was delivered to the specified consumer.",
       "5.0.0"},
      {"xautoclaim", -6, kCmdWrite | kCmdFast, XAutoClaimCommand,
       "Changes (or acquires) ownership of messages in a consumer group, as "
       "if the messages were delivered to the specified consumer.",
       "6.2.0"},
  };
  AddCollCommands(t, "stream", kCommands);
}

}  // namespace daxkv::kv
