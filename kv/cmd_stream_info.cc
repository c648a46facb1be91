// XINFO STREAM [FULL [COUNT n]], GROUPS, CONSUMERS and HELP, with Redis
// 7.0's syntax, errors and field order. daxkv has no consumer groups yet:
// GROUPS lists none, CONSUMERS finds no group, STREAM counts 0 groups.
// STREAM leaves out Redis's radix-tree-keys and radix-tree-nodes: they
// count the nodes of Redis's in-memory radix tree, which daxkv does not
// have, and a made-up count would mislead (clients read fields by name).
#include <algorithm>
#include <string>
#include <string_view>

#include "kv/coll_run.h"
#include "kv/command.h"
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
    out.ArrayHeader(0);
    return OkStatus();
  }
  out.Bulk("groups");
  out.Integer(0);
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
    StreamMeta m;
    DAXKV_RETURN_IF_ERROR(ExistingStream(ops, ctx.argv[2], &m));
    call.out.ArrayHeader(0);
    return OkStatus();
  });
}

void XInfoConsumers(CommandContext& ctx) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall&) {
    StreamMeta m;
    DAXKV_RETURN_IF_ERROR(ExistingStream(ops, ctx.argv[2], &m));
    return CommandError("NOGROUP No such consumer group '" +
                        std::string(ctx.argv[3]) + "' for key name '" +
                        std::string(ctx.argv[2]) + "'");
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
