// Consumer-group administration (Redis 7.0): XGROUP CREATE, SETID,
// DESTROY, CREATECONSUMER, DELCONSUMER and HELP; XACK; XPENDING, both
// forms. Arguments, key checks and errors come in redis-server 7.0.15's
// order (t_stream.c); the group state is kv/stream_group_store.h's.
#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kv/block_serve.h"
#include "kv/coll_run.h"
#include "kv/command.h"
#include "kv/resp_parser.h"
#include "kv/server_state.h"
#include "kv/stream_group_store.h"
#include "kv/stream_store.h"

namespace daxkv::kv {
namespace {

using engine::ReadOps;
using engine::Txn;

std::string NoGroupError(std::string_view key, std::string_view group) {
  return "NOGROUP No such key '" + CString(key) + "' or consumer group '" +
         CString(group) + "'";
}

struct XGroupArgs {
  bool mkstream = false;
  int64_t entries_read = kUnknownEntriesRead;
};

// The options after CREATE's and SETID's ID; false when replied.
bool ParseXGroupOptions(CommandContext& ctx, XGroupArgs* a) {
  const auto& argv = ctx.argv;
  const bool create = EqualsIgnoreCase(argv[1], "create");
  const bool setid = EqualsIgnoreCase(argv[1], "setid");
  for (size_t i = 5; i < argv.size();) {
    if (create && EqualsIgnoreCase(argv[i], "mkstream")) {
      a->mkstream = true;
      ++i;
    } else if ((create || setid) && EqualsIgnoreCase(argv[i], "entriesread") &&
               i + 1 < argv.size()) {
      if (!ParseIntArg(ctx, argv[i + 1], &a->entries_read)) return false;
      if (a->entries_read < 0 && a->entries_read != kUnknownEntriesRead) {
        ctx.out.Error("ERR value for ENTRIESREAD must be positive or -1");
        return false;
      }
      i += 2;
    } else {
      ReplySubcommandSyntaxError(ctx);
      return false;
    }
  }
  return true;
}

Status GroupCreate(CommandContext& ctx, Txn& txn, CollCall& call,
                   const XGroupArgs& a, bool exists, const StreamMeta& m) {
  const std::string_view key = ctx.argv[2], group = ctx.argv[3];
  if (ctx.argv.size() > 8) return CommandError(SubcommandSyntaxError(ctx));
  StreamId id;
  if (ctx.argv[4] == "$") {
    id = exists ? m.last_id : StreamId{0, 0};
  } else if (!ParseStreamId(ctx.argv[4], 0, true, &id)) {
    return CommandError(kErrInvalidId);
  }
  if (!exists) {
    DAXKV_RETURN_IF_ERROR(WriteStreamMeta(txn, key, StreamMeta{}, true));
    call.Modified(key);
  }
  GroupState g;
  bool found;
  DAXKV_RETURN_IF_ERROR(ReadGroup(txn, key, group, &g, &found));
  if (found) {
    return CommandError("BUSYGROUP Consumer Group name already exists");
  }
  // Durability: the group element (and, with MKSTREAM, the stream's
  // metadata) in this command's one batch.
  DAXKV_RETURN_IF_ERROR(WriteGroup(txn, key, group, {id, a.entries_read}));
  call.out.Ok();
  return OkStatus();
}

Status GroupSetId(CommandContext& ctx, Txn& txn, CollCall& call,
                  const XGroupArgs& a, const StreamMeta& m) {
  if (ctx.argv.size() != 5 && ctx.argv.size() != 7) {
    return CommandError(SubcommandSyntaxError(ctx));
  }
  StreamId id;
  if (ctx.argv[4] == "$") {
    id = m.last_id;
  } else if (!ParseStreamId(ctx.argv[4], 0, false, &id)) {
    return CommandError(kErrInvalidId);
  }
  DAXKV_RETURN_IF_ERROR(
      WriteGroup(txn, ctx.argv[2], ctx.argv[3], {id, a.entries_read}));
  call.out.Ok();
  return OkStatus();
}

// XGROUP's subcommands but HELP, once the key (and, but for CREATE and
// DESTROY, the group) is known to exist.
Status GroupDispatch(CommandContext& ctx, Txn& txn, CollCall& call,
                     const XGroupArgs& a, bool exists, const StreamMeta& m,
                     bool group_found) {
  const std::string_view sub = ctx.argv[1], key = ctx.argv[2],
                         group = ctx.argv[3];
  const size_t argc = ctx.argv.size();
  if (EqualsIgnoreCase(sub, "create") && argc >= 5) {
    return GroupCreate(ctx, txn, call, a, exists, m);
  }
  if (EqualsIgnoreCase(sub, "setid") && argc >= 5) {
    return GroupSetId(ctx, txn, call, a, m);
  }
  if (EqualsIgnoreCase(sub, "destroy") && argc == 4) {
    if (group_found) {
      DAXKV_RETURN_IF_ERROR(DestroyGroup(txn, key, group));
      call.Filled(key);  // its blocked XREADGROUPs get NOGROUP
    }
    call.out.Integer(group_found ? 1 : 0);
    return OkStatus();
  }
  if (EqualsIgnoreCase(sub, "createconsumer") && argc == 5) {
    ConsumerState c;
    bool found;
    DAXKV_RETURN_IF_ERROR(
        ReadConsumer(txn, key, group, ctx.argv[4], &c, &found));
    if (!found) {
      DAXKV_RETURN_IF_ERROR(
          WriteConsumer(txn, key, group, ctx.argv[4], {ctx.server.NowMs()}));
    }
    call.out.Integer(found ? 0 : 1);
    return OkStatus();
  }
  if (EqualsIgnoreCase(sub, "delconsumer") && argc == 5) {
    ConsumerState c;
    bool found;
    DAXKV_RETURN_IF_ERROR(
        ReadConsumer(txn, key, group, ctx.argv[4], &c, &found));
    int64_t pending = 0;
    if (found) {
      DAXKV_RETURN_IF_ERROR(
          DeleteConsumer(txn, key, group, ctx.argv[4], &pending));
    }
    call.out.Integer(pending);
    return OkStatus();
  }
  return CommandError(SubcommandSyntaxError(ctx));
}

void XGroupHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CREATE <key> <groupname> <id|$> [option]",
      "    Create a new consumer group. Options are:",
      "    * MKSTREAM",
      "      Create the empty stream if it does not exist.",
      "    * ENTRIESREAD entries_read",
      "      Set the group's entries_read counter (internal use).",
      "CREATECONSUMER <key> <groupname> <consumer>",
      "    Create a new consumer in the specified group.",
      "DELCONSUMER <key> <groupname> <consumer>",
      "    Remove the specified consumer.",
      "DESTROY <key> <groupname>",
      "    Remove the specified group.",
      "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
      "    Set the current group ID and entries_read counter.",
      "HELP",
      "    Prints this help."};
  ReplyHelp(ctx, kLines);
}

void XGroupCommand(CommandContext& ctx) {
  static constexpr SubcommandArity kSubs[] = {
      {"create", -5},        {"setid", -5},      {"destroy", 4},
      {"createconsumer", 5}, {"delconsumer", 5}, {"help", 2}};
  const SubcommandArity* s = FindSubcommand(ctx, kSubs);
  if (s == nullptr) return;
  if (s->name == "help") return XGroupHelp(ctx);
  XGroupArgs a;
  if (!ParseXGroupOptions(ctx, &a)) return;
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    const std::string_view key = ctx.argv[2], group = ctx.argv[3];
    StreamMeta m;
    Status st = ReadStreamMeta(txn, key, &m);
    if (!st.ok() && st.code() != StatusCode::kNotFound) return st;
    const bool exists = st.ok();
    GroupState g;
    bool group_found = false;
    if (exists) {
      DAXKV_RETURN_IF_ERROR(ReadGroup(txn, key, group, &g, &group_found));
    }
    if (!a.mkstream) {
      if (!exists) {
        return CommandError(
            "ERR The XGROUP subcommand requires the key to exist. Note that "
            "for CREATE you may want to use the MKSTREAM option to create an "
            "empty stream automatically.");
      }
      if (!group_found && s->name != "create" && s->name != "destroy") {
        return CommandError("NOGROUP No such consumer group '" +
                            CString(group) + "' for key name '" + CString(key) +
                            "'");
      }
    }
    return GroupDispatch(ctx, txn, call, a, exists, m, group_found);
  });
}

void XAckCommand(CommandContext& ctx) {
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    const std::string_view key = ctx.argv[1], group = ctx.argv[2];
    StreamMeta m;
    Status st = ReadStreamMeta(txn, key, &m);
    if (!st.ok() && st.code() != StatusCode::kNotFound) return st;
    GroupState g;
    bool found = false;
    if (st.ok()) DAXKV_RETURN_IF_ERROR(ReadGroup(txn, key, group, &g, &found));
    if (!found) {
      call.out.Integer(0);
      return OkStatus();
    }
    // Every ID is checked before any is acknowledged: all or nothing.
    std::vector<StreamId> ids(ctx.argv.size() - 3);
    for (size_t i = 3; i < ctx.argv.size(); ++i) {
      if (!ParseStreamId(ctx.argv[i], 0, true, &ids[i - 3])) {
        return CommandError(kErrInvalidId);
      }
    }
    int64_t acked = 0;
    for (StreamId id : ids) {
      bool existed;
      DAXKV_RETURN_IF_ERROR(DeletePending(txn, key, group, id, &existed));
      acked += existed ? 1 : 0;
    }
    call.out.Integer(acked);
    return OkStatus();
  });
}

struct XPendingArgs {
  bool summary = true;
  int64_t min_idle = 0;
  StreamId start, end;
  int64_t count = 0;
  std::string_view consumer;
  bool by_consumer = false;
};

// XPENDING's range form, parsed before the key is looked up (Redis
// reports syntax errors first); false when replied.
bool ParseXPendingArgs(CommandContext& ctx, XPendingArgs* a) {
  const auto& argv = ctx.argv;
  const size_t argc = argv.size();
  if (argc != 3 && (argc < 6 || argc > 9)) {
    ReplySyntaxError(ctx);
    return false;
  }
  if (argc == 3) return true;
  a->summary = false;
  size_t at = 3;
  if (EqualsIgnoreCase(argv[3], "idle")) {
    if (!ParseIntArg(ctx, argv[4], &a->min_idle)) return false;
    if (argc < 8) {
      ReplySyntaxError(ctx);
      return false;
    }
    at += 2;
  }
  if (!ParseIntArg(ctx, argv[at + 2], &a->count)) return false;
  if (a->count < 0) a->count = 0;
  bool ex;
  if (!ParseIntervalId(argv[at], 0, &a->start, &ex)) {
    ctx.out.Error(kErrInvalidId);
    return false;
  }
  if (ex && !IncrStreamId(&a->start)) {
    ctx.out.Error("ERR invalid start ID for the interval");
    return false;
  }
  if (!ParseIntervalId(argv[at + 1], ~uint64_t{0}, &a->end, &ex)) {
    ctx.out.Error(kErrInvalidId);
    return false;
  }
  if (ex && !DecrStreamId(&a->end)) {
    ctx.out.Error("ERR invalid end ID for the interval");
    return false;
  }
  if (at + 3 < argc) {
    a->consumer = argv[at + 3];
    a->by_consumer = true;
  }
  return true;
}

Status ReplyPendingSummary(ReadOps& ops, std::string_view key,
                           std::string_view group, ReplyWriter& out) {
  int64_t n = 0;
  StreamId first, last;
  std::map<std::string, int64_t> per_consumer;  // byte order, as Redis's rax
  DAXKV_RETURN_IF_ERROR(ForEachPending(ops, key, group, {0, 0}, kMaxStreamId,
                                       [&](StreamId id, const PendingState& p) {
                                         if (n++ == 0) first = id;
                                         last = id;
                                         ++per_consumer[p.consumer];
                                         return true;
                                       }));
  out.ArrayHeader(4);
  out.Integer(n);
  if (n == 0) {
    out.Null();
    out.Null();
    out.NullArray();
    return OkStatus();
  }
  out.Bulk(FormatStreamId(first));
  out.Bulk(FormatStreamId(last));
  out.ArrayHeader(per_consumer.size());
  for (const auto& [name, count] : per_consumer) {
    out.ArrayHeader(2);
    out.Bulk(name);
    out.Bulk(std::to_string(count));
  }
  return OkStatus();
}

Status ReplyPendingRange(ReadOps& ops, std::string_view key,
                         std::string_view group, const XPendingArgs& a,
                         int64_t now, ReplyWriter& out) {
  if (a.by_consumer) {
    ConsumerState c;
    bool found;
    DAXKV_RETURN_IF_ERROR(
        ReadConsumer(ops, key, group, a.consumer, &c, &found));
    if (!found) {
      out.ArrayHeader(0);
      return OkStatus();
    }
  }
  struct Row {
    StreamId id;
    PendingState p;
  };
  std::vector<Row> rows;
  int64_t left = a.count;
  if (left > 0) {
    DAXKV_RETURN_IF_ERROR(ForEachPending(
        ops, key, group, a.start, a.end,
        [&](StreamId id, const PendingState& p) {
          if (a.by_consumer && p.consumer != a.consumer) return true;
          if (a.min_idle != 0 && now - p.delivery_time_ms < a.min_idle) {
            return true;
          }
          rows.push_back({id, p});
          return --left > 0;
        }));
  }
  out.ArrayHeader(rows.size());
  for (const Row& r : rows) {
    out.ArrayHeader(4);
    out.Bulk(FormatStreamId(r.id));
    out.Bulk(r.p.consumer);
    out.Integer(std::max<int64_t>(0, now - r.p.delivery_time_ms));
    out.Integer(static_cast<int64_t>(r.p.delivery_count));
  }
  return OkStatus();
}

void XPendingCommand(CommandContext& ctx) {
  XPendingArgs a;
  if (!ParseXPendingArgs(ctx, &a)) return;
  const int64_t now = ctx.server.NowMs();
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    const std::string_view key = ctx.argv[1], group = ctx.argv[2];
    StreamMeta m;
    Status st = ReadStreamMeta(ops, key, &m);
    if (!st.ok() && st.code() != StatusCode::kNotFound) return st;
    GroupState g;
    bool found = false;
    if (st.ok()) DAXKV_RETURN_IF_ERROR(ReadGroup(ops, key, group, &g, &found));
    if (!found) return CommandError(NoGroupError(key, group));
    if (a.summary) return ReplyPendingSummary(ops, key, group, call.out);
    return ReplyPendingRange(ops, key, group, a, now, call.out);
  });
}

}  // namespace

void RegisterStreamGroupCommands(CommandTable* t) {
  static constexpr CollCommand kCommands[] = {
      {"xgroup", -2, kCmdWrite | kCmdContainer, XGroupCommand,
       "A container for consumer groups commands", "5.0.0", 2, 2},
      {"xack", -4, kCmdWrite | kCmdFast, XAckCommand,
       "Marks a pending message as correctly processed, effectively removing "
       "it from the pending entries list of the consumer group. Return value "
       "of the command is the number of messages successfully acknowledged, "
       "that is, the IDs we were actually able to resolve in the PEL.",
       "5.0.0"},
      {"xpending", -3, kCmdReadOnly, XPendingCommand,
       "Return information and entries from a stream consumer group pending "
       "entries list, that are messages fetched but never acknowledged.",
       "5.0.0"},
  };
  AddCollCommands(t, "stream", kCommands);
}

}  // namespace daxkv::kv
