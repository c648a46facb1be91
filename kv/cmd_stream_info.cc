// XINFO STREAM [FULL [COUNT n]], GROUPS, CONSUMERS and HELP, with Redis
// 7.0's syntax, errors and field order. STREAM leaves out Redis's
// radix-tree-keys and radix-tree-nodes: they count the nodes of Redis's
// in-memory radix tree, which daxkv does not have, and a made-up count would
// mislead (clients read fields by name).
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kv/coll_run.h"
#include "kv/command.h"
#include "kv/server_state.h"
#include "kv/stream_group_read.h"
#include "kv/stream_group_store.h"
#include "kv/stream_store.h"

namespace daxkv::kv {
namespace {

using engine::ReadOps;

constexpr StreamId kMinId{0, 0};
constexpr StreamId kMaxId = kMaxStreamId;

// The stream's metadata, CommandError("no such key") when absent.
Status ExistingStream(ReadOps& ops, std::string_view key, StreamMeta* m) {
  Status s = ReadStreamMeta(ops, key, m);
  if (s.code() == StatusCode::kNotFound) return CommandError("ERR no such key");
  return s;
}

// The stream's first or last entry, when it has one.
struct Edge {
  bool found = false;
  StreamId id;
  std::string value;
};
Status ReadEdge(ReadOps& ops, std::string_view key, bool last, Edge* e) {
  return ForEachStreamEntry(ops, key, kMinId, kMaxId, last, 1,
                            [&](StreamId i, std::string_view v) {
                              *e = {true, i, std::string(v)};
                              return false;
                            });
}
void ReplyEdge(const Edge& e, ReplyWriter& out) {
  if (e.found) {
    ReplyStreamEntry(out, e.id, e.value);
  } else {
    out.Null();
  }
}

// A group's pending entries in ID order, and how many each consumer holds.
struct PendingView {
  struct Item {
    StreamId id;
    PendingState p;
  };
  std::vector<Item> items;
  std::map<std::string, int64_t> per_consumer;
};
Status ReadPendingView(ReadOps& ops, std::string_view key,
                       std::string_view group, PendingView* v) {
  return ForEachPending(ops, key, group, kMinId, kMaxId,
                        [&](StreamId id, const PendingState& p) {
                          v->items.push_back({id, p});
                          ++v->per_consumer[p.consumer];
                          return true;
                        });
}

struct GroupInfo {
  std::string name;
  GroupState state;
};
Status ReadGroupInfos(ReadOps& ops, std::string_view key,
                      std::vector<GroupInfo>* groups) {
  return ForEachGroup(ops, key, [&](std::string_view n, const GroupState& g) {
    groups->push_back({std::string(n), g});
    return true;
  });
}

void ReplyEntriesRead(const GroupState& g, ReplyWriter& out) {
  if (g.entries_read == kUnknownEntriesRead) {
    out.Null();
  } else {
    out.Integer(g.entries_read);
  }
}

void ReplyLag(const StreamFacts& f, const GroupState& g, ReplyWriter& out) {
  const std::optional<int64_t> lag = GroupLag(f, g);
  if (lag) {
    out.Integer(*lag);
  } else {
    out.Null();
  }
}

// One consumer of XINFO STREAM FULL: up to `count` (0: all) of its
// pending entries.
void ReplyFullConsumer(std::string_view name, const ConsumerState& c,
                       const PendingView& v, uint64_t count, ReplyWriter& out) {
  std::vector<const PendingView::Item*> mine;
  for (const auto& it : v.items) {
    if (it.p.consumer == name) mine.push_back(&it);
  }
  out.MapHeader(4);
  out.Bulk("name");
  out.Bulk(name);
  out.Bulk("seen-time");
  out.Integer(c.seen_time_ms);
  out.Bulk("pel-count");
  out.Integer(static_cast<int64_t>(mine.size()));
  out.Bulk("pending");
  const size_t n =
      count == 0 ? mine.size() : std::min<size_t>(count, mine.size());
  out.ArrayHeader(n);
  for (size_t i = 0; i < n; ++i) {
    out.ArrayHeader(3);
    out.Bulk(FormatStreamId(mine[i]->id));
    out.Integer(mine[i]->p.delivery_time_ms);
    out.Integer(static_cast<int64_t>(mine[i]->p.delivery_count));
  }
}

// XINFO STREAM FULL's "groups".
Status ReplyFullGroups(ReadOps& ops, std::string_view key, uint64_t count,
                       ReplyWriter& out) {
  StreamFacts f;
  DAXKV_RETURN_IF_ERROR(ReadStreamFacts(ops, key, &f));
  std::vector<GroupInfo> groups;
  DAXKV_RETURN_IF_ERROR(ReadGroupInfos(ops, key, &groups));
  out.ArrayHeader(groups.size());
  for (const GroupInfo& g : groups) {
    PendingView v;
    DAXKV_RETURN_IF_ERROR(ReadPendingView(ops, key, g.name, &v));
    out.MapHeader(7);
    out.Bulk("name");
    out.Bulk(g.name);
    out.Bulk("last-delivered-id");
    out.Bulk(FormatStreamId(g.state.last_id));
    out.Bulk("entries-read");
    ReplyEntriesRead(g.state, out);
    out.Bulk("lag");
    ReplyLag(f, g.state, out);
    out.Bulk("pel-count");
    out.Integer(static_cast<int64_t>(v.items.size()));
    out.Bulk("pending");
    const size_t n =
        count == 0 ? v.items.size() : std::min<size_t>(count, v.items.size());
    out.ArrayHeader(n);
    for (size_t i = 0; i < n; ++i) {
      out.ArrayHeader(4);
      out.Bulk(FormatStreamId(v.items[i].id));
      out.Bulk(v.items[i].p.consumer);
      out.Integer(v.items[i].p.delivery_time_ms);
      out.Integer(static_cast<int64_t>(v.items[i].p.delivery_count));
    }
    std::vector<std::pair<std::string, ConsumerState>> consumers;
    DAXKV_RETURN_IF_ERROR(ForEachConsumer(
        ops, key, g.name, [&](std::string_view name, const ConsumerState& c) {
          consumers.emplace_back(std::string(name), c);
          return true;
        }));
    out.Bulk("consumers");
    out.ArrayHeader(consumers.size());
    for (const auto& [name, c] : consumers) {
      ReplyFullConsumer(name, c, v, count, out);
    }
  }
  return OkStatus();
}

// XINFO STREAM's reply; `full`: with up to `count` entries (0: all).
Status ReplyStreamInfo(ReadOps& ops, std::string_view key, bool full,
                       uint64_t count, ReplyWriter& out) {
  StreamMeta m;
  DAXKV_RETURN_IF_ERROR(ExistingStream(ops, key, &m));
  DAXKV_ASSIGN_OR_RETURN(const uint64_t length, StreamLength(ops, key));
  Edge first;
  DAXKV_RETURN_IF_ERROR(ReadEdge(ops, key, false, &first));
  out.MapHeader(full ? 7 : 8);
  out.Bulk("length");
  out.Integer(static_cast<int64_t>(length));
  out.Bulk("last-generated-id");
  out.Bulk(FormatStreamId(m.last_id));
  out.Bulk("max-deleted-entry-id");
  out.Bulk(FormatStreamId(m.max_deleted));
  out.Bulk("entries-added");
  out.Integer(static_cast<int64_t>(m.entries_added));
  out.Bulk("recorded-first-entry-id");
  out.Bulk(FormatStreamId(first.found ? first.id : kMinId));  // 0-0: empty
  if (full) {
    out.Bulk("entries");
    const uint64_t n = count == 0 ? length : std::min(count, length);
    out.ArrayHeader(n);
    DAXKV_RETURN_IF_ERROR(
        ForEachStreamEntry(ops, key, kMinId, kMaxId, false, n,
                           [&](StreamId i, std::string_view v) {
                             ReplyStreamEntry(out, i, v);
                             return true;
                           }));
    out.Bulk("groups");
    return ReplyFullGroups(ops, key, count, out);
  }
  std::vector<GroupInfo> groups;
  DAXKV_RETURN_IF_ERROR(ReadGroupInfos(ops, key, &groups));
  out.Bulk("groups");
  out.Integer(static_cast<int64_t>(groups.size()));
  out.Bulk("first-entry");
  ReplyEdge(first, out);
  Edge last;
  DAXKV_RETURN_IF_ERROR(ReadEdge(ops, key, true, &last));
  out.Bulk("last-entry");
  ReplyEdge(last, out);
  return OkStatus();
}

void XInfoStream(CommandContext& ctx) {
  const size_t argc = ctx.argv.size();
  bool full = false;
  int64_t count = 10;
  if (argc > 3) {
    if (!EqualsIgnoreCase(ctx.argv[3], "full")) {
      return ReplySubcommandSyntaxError(ctx);
    }
    full = true;
    if (argc == 6 && EqualsIgnoreCase(ctx.argv[4], "count")) {
      if (!ParseIntArg(ctx, ctx.argv[5], &count)) return;
      if (count < 0) count = 10;
    } else if (argc > 4) {
      return ReplySubcommandSyntaxError(ctx);
    }
  }
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    return ReplyStreamInfo(ops, ctx.argv[2], full, static_cast<uint64_t>(count),
                           call.out);
  });
}

void XInfoGroups(CommandContext& ctx) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    const std::string_view key = ctx.argv[2];
    StreamMeta m;
    DAXKV_RETURN_IF_ERROR(ExistingStream(ops, key, &m));
    StreamFacts f;
    DAXKV_RETURN_IF_ERROR(ReadStreamFacts(ops, key, &f));
    std::vector<GroupInfo> groups;
    DAXKV_RETURN_IF_ERROR(ReadGroupInfos(ops, key, &groups));
    ReplyWriter& out = call.out;
    out.ArrayHeader(groups.size());
    for (const GroupInfo& g : groups) {
      int64_t consumers = 0;
      DAXKV_RETURN_IF_ERROR(ForEachConsumer(
          ops, key, g.name, [&](std::string_view, const ConsumerState&) {
            ++consumers;
            return true;
          }));
      PendingView v;
      DAXKV_RETURN_IF_ERROR(ReadPendingView(ops, key, g.name, &v));
      out.MapHeader(6);
      out.Bulk("name");
      out.Bulk(g.name);
      out.Bulk("consumers");
      out.Integer(consumers);
      out.Bulk("pending");
      out.Integer(static_cast<int64_t>(v.items.size()));
      out.Bulk("last-delivered-id");
      out.Bulk(FormatStreamId(g.state.last_id));
      out.Bulk("entries-read");
      ReplyEntriesRead(g.state, out);
      out.Bulk("lag");
      ReplyLag(f, g.state, out);
    }
    return OkStatus();
  });
}

void XInfoConsumers(CommandContext& ctx) {
  const int64_t now = ctx.server.NowMs();
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    const std::string_view key = ctx.argv[2], group = ctx.argv[3];
    StreamMeta m;
    DAXKV_RETURN_IF_ERROR(ExistingStream(ops, key, &m));
    GroupState g;
    bool found;
    DAXKV_RETURN_IF_ERROR(ReadGroup(ops, key, group, &g, &found));
    if (!found) {
      return CommandError("NOGROUP No such consumer group '" + CString(group) +
                          "' for key name '" + CString(key) + "'");
    }
    PendingView v;
    DAXKV_RETURN_IF_ERROR(ReadPendingView(ops, key, group, &v));
    std::vector<std::pair<std::string, ConsumerState>> consumers;
    DAXKV_RETURN_IF_ERROR(ForEachConsumer(
        ops, key, group, [&](std::string_view name, const ConsumerState& c) {
          consumers.emplace_back(std::string(name), c);
          return true;
        }));
    call.out.ArrayHeader(consumers.size());
    for (const auto& [name, c] : consumers) {
      const auto it = v.per_consumer.find(name);
      call.out.MapHeader(3);
      call.out.Bulk("name");
      call.out.Bulk(name);
      call.out.Bulk("pending");
      call.out.Integer(it == v.per_consumer.end() ? 0 : it->second);
      call.out.Bulk("idle");
      call.out.Integer(std::max<int64_t>(0, now - c.seen_time_ms));
    }
    return OkStatus();
  });
}

void XInfoHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CONSUMERS <key> <groupname>",
      "    Show consumers of <groupname>.",
      "GROUPS <key>",
      "    Show the stream consumer groups.",
      "STREAM <key> [FULL [COUNT <count>]",
      "    Show information about the stream.",
      "HELP",
      "    Prints this help."};
  ReplyHelp(ctx, kLines);
}

void XInfoCommand(CommandContext& ctx) {
  static constexpr SubcommandArity kSubs[] = {
      {"stream", -3}, {"groups", 3}, {"consumers", 4}, {"help", 2}};
  const SubcommandArity* s = FindSubcommand(ctx, kSubs);
  if (s == nullptr) return;
  if (s->name == "stream") return XInfoStream(ctx);
  if (s->name == "groups") return XInfoGroups(ctx);
  if (s->name == "consumers") return XInfoConsumers(ctx);
  XInfoHelp(ctx);
}

}  // namespace

void RegisterStreamInfoCommands(CommandTable* t) {
  static constexpr CollCommand kCommands[] = {
      {"xinfo", -2, kCmdReadOnly | kCmdContainer, XInfoCommand,
       "A container for stream introspection commands", "5.0.0", 2, 2},
  };
  AddCollCommands(t, "stream", kCommands);
}

}  // namespace daxkv::kv
