// Stream commands (Redis 7.0): XADD XTRIM XLEN XRANGE XREVRANGE XDEL XSETID,
// each
// one engine Txn or read view over the layout of kv/stream_codec.h.
// Arguments are checked in Redis's order, errors in its words.
#include <span>
#include <string>
#include <vector>

#include "kv/coll_run.h"
#include "kv/command.h"
#include "kv/resp_parser.h"
#include "kv/server_state.h"
#include "kv/stream_codec.h"
#include "kv/stream_store.h"

namespace daxkv::kv {
namespace {

using engine::KeyType;
using engine::ReadOps;
using engine::Txn;

constexpr std::string_view kErrBothStrategies =
    "ERR syntax error, MAXLEN and MINID options at the same time are not "
    "compatible";

struct AddTrimArgs {
  StreamTrimArgs trim;
  bool no_mkstream = false;
  bool id_given = false;
  bool seq_given = true;
  StreamId id;
  size_t id_pos = 0;  // XADD: argv index of the ID
};

using Argv = std::span<const std::string_view>;

// "~" or "=" before a MAXLEN/MINID argument; moves i past it.
void ParseTrimOperator(Argv argv, size_t* i, bool* approx) {
  *approx = false;
  const size_t more = argv.size() - 1 - *i;
  std::string_view next = argv[*i + 1];
  if (more >= 2 && (next == "~" || next == "=")) {
    *approx = next == "~";
    ++*i;
  }
}

// MAXLEN/MINID [=|~] <arg> at argv[*i]; "" or the error.
std::string_view ParseStrategy(Argv argv, size_t* i, StreamTrimArgs* t) {
  using Kind = StreamTrimArgs::Kind;
  if (t->kind != Kind::kNone) return kErrBothStrategies;
  const bool maxlen = EqualsIgnoreCase(argv[*i], "maxlen");
  ParseTrimOperator(argv, i, &t->approx);
  ++*i;
  if (maxlen) {
    if (!ParseInt64(argv[*i], &t->maxlen)) return kErrNotInteger;
    if (t->maxlen < 0) return "ERR The MAXLEN argument must be >= 0.";
    t->kind = Kind::kMaxLen;
  } else {
    if (!ParseStreamId(argv[*i], 0, true, &t->minid)) return kErrInvalidId;
    t->kind = Kind::kMinId;
  }
  return "";
}

// Redis 7.0's streamParseAddOrTrimArgsOrReply: "" or the error to reply.
std::string_view ParseAddTrimArgs(Argv argv, bool xadd, AddTrimArgs* a) {
  using Kind = StreamTrimArgs::Kind;
  bool limit_given = false;
  size_t i = 2;
  for (; i < argv.size(); ++i) {
    const bool more = argv.size() - 1 - i > 0;
    std::string_view opt = argv[i];
    if (xadd && opt == "*") break;
    if ((EqualsIgnoreCase(opt, "maxlen") || EqualsIgnoreCase(opt, "minid")) &&
        more) {
      std::string_view err = ParseStrategy(argv, &i, &a->trim);
      if (!err.empty()) return err;
    } else if (EqualsIgnoreCase(opt, "limit") && more) {
      if (!ParseInt64(argv[i + 1], &a->trim.limit)) return kErrNotInteger;
      if (a->trim.limit < 0) return "ERR The LIMIT argument must be >= 0.";
      limit_given = true;
      ++i;
    } else if (xadd && EqualsIgnoreCase(opt, "nomkstream")) {
      a->no_mkstream = true;
    } else if (xadd) {
      if (!ParseStreamId(opt, 0, true, &a->id, &a->seq_given)) {
        return kErrInvalidId;
      }
      a->id_given = true;
      break;
    } else {
      return kErrSyntax;
    }
  }
  a->id_pos = i;
  if (a->trim.limit != 0 && a->trim.kind == Kind::kNone) {
    return "ERR syntax error, LIMIT cannot be used without specifying a "
           "trimming strategy";
  }
  if (!xadd && a->trim.kind == Kind::kNone) {
    return "ERR syntax error, XTRIM must be called with a trimming strategy";
  }
  if (limit_given && !a->trim.approx) {
    return "ERR syntax error, LIMIT cannot be used without the special ~ "
           "option";
  }
  if (!limit_given) {
    a->trim.limit = a->trim.approx ? 100 * kStreamNodeMaxEntries : 0;
  }
  return "";
}

// Redis's streamAppendItem's ID choice; false: not above the top item.
bool NextId(const AddTrimArgs& a, const StreamMeta& m, int64_t now_ms,
            StreamId* id) {
  if (a.id_given && a.seq_given) {
    *id = a.id;
  } else if (a.id_given) {
    if (m.last_id.ms == a.id.ms) {
      if (m.last_id.seq == ~uint64_t{0}) return false;
      *id = StreamId{a.id.ms, m.last_id.seq + 1};
    } else {
      *id = a.id;
    }
  } else {
    const uint64_t ms = now_ms < 0 ? 0 : static_cast<uint64_t>(now_ms);
    if (ms > m.last_id.ms) {
      *id = StreamId{ms, 0};
    } else {
      *id = m.last_id;
      IncrStreamId(id);
    }
  }
  return m.last_id < *id;
}

// Where the new entry goes among Redis's nodes (streamAppendItem): the
// newest node unless it holds 100 appended entries, deleted ones included
// (counted in the metadata while that node exists; when XDEL emptied it,
// Redis appends to the node before, whose deleted tail daxkv does not
// count), else a new node. Updates m's node fields.
Status NextPos(Txn& txn, std::string_view key, StreamMeta* m,
               StreamEntryPos* pos) {
  bool any = false;
  StreamEntryPos last;
  std::vector<std::string_view> fields;
  DAXKV_RETURN_IF_ERROR(
      ForEachStreamEntry(txn, key, StreamId{0, 0}, kMaxStreamId, true, 1,
                         [&](StreamId, std::string_view v) {
                           any = DecodeStreamEntry(v, &last, &fields);
                           return false;
                         }));
  uint64_t count = 0;
  if (any) {
    count = m->tail_count > 0 && last.node == m->tail_node
                ? m->tail_count
                : uint64_t{last.index} + 1;
  }
  if (!any || count >= kStreamNodeMaxEntries) {
    *pos = StreamEntryPos{m->next_node++, 0};
  } else {
    *pos = StreamEntryPos{last.node, static_cast<uint32_t>(count)};
  }
  m->tail_node = pos->node;
  m->tail_count = uint64_t{pos->index} + 1;
  return OkStatus();
}

void XAddCommand(CommandContext& ctx) {
  AddTrimArgs a;
  if (std::string_view err = ParseAddTrimArgs(ctx.argv, true, &a);
      !err.empty()) {
    ctx.out.Error(err);
    return;
  }
  const size_t field_pos = a.id_pos + 1;
  if (ctx.argv.size() < field_pos + 2 ||
      (ctx.argv.size() - field_pos) % 2 == 1) {
    ReplyWrongArity(ctx, "xadd");
    return;
  }
  if (a.id_given && a.seq_given && a.id == StreamId{0, 0}) {
    ctx.out.Error("ERR The ID specified in XADD must be greater than 0-0");
    return;
  }
  const std::vector<std::string_view> fields(ctx.argv.begin() + field_pos,
                                             ctx.argv.end());
  const int64_t now = ctx.server.NowMs();
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    const std::string_view key = ctx.argv[1];
    StreamMeta m;
    Status s = ReadStreamMeta(txn, key, &m);
    const bool exists = s.ok();
    if (!exists && s.code() != StatusCode::kNotFound) return s;
    if (!exists && a.no_mkstream) {
      call.out.Null();
      return OkStatus();
    }
    if (m.last_id == kMaxStreamId) {
      return CommandError(
          "ERR The stream has exhausted the last possible ID, unable to add "
          "more items");
    }
    StreamId id;
    if (!NextId(a, m, now, &id)) {
      return CommandError(
          "ERR The ID specified in XADD is equal or smaller than the target "
          "stream top item");
    }
    StreamEntryPos pos;
    DAXKV_RETURN_IF_ERROR(NextPos(txn, key, &m, &pos));
    m.last_id = id;
    m.entries_added++;
    // Durability: the entry and the metadata naming it as the last ID go
    // in one Txn batch (one record): a crash keeps both or neither.
    DAXKV_RETURN_IF_ERROR(WriteStreamMeta(txn, key, m, true));
    bool done;
    DAXKV_RETURN_IF_ERROR(txn.StreamPut(
        key, StreamIdKey(id), EncodeStreamEntry(pos, fields), false, &done));
    DAXKV_RETURN_IF_ERROR(TrimStream(txn, key, a.trim).status());
    call.out.Bulk(FormatStreamId(id));
    call.Modified(key);
    return OkStatus();
  });
}

void XTrimCommand(CommandContext& ctx) {
  // Redis 7.0.15 parses the arguments before it looks the key up.
  AddTrimArgs a;
  if (std::string_view err = ParseAddTrimArgs(ctx.argv, false, &a);
      !err.empty()) {
    ctx.out.Error(err);
    return;
  }
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    const std::string_view key = ctx.argv[1];
    DAXKV_ASSIGN_OR_RETURN(uint64_t n, CollSize(txn, key, KeyType::kStream));
    if (n == 0) {
      call.out.Integer(0);
      return OkStatus();
    }
    DAXKV_ASSIGN_OR_RETURN(int64_t deleted, TrimStream(txn, key, a.trim));
    if (deleted > 0) call.Modified(key);
    call.out.Integer(deleted);
    return OkStatus();
  });
}

void XLenCommand(CommandContext& ctx) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t n, StreamLength(ops, ctx.argv[1]));
    call.out.Integer(static_cast<int64_t>(n));
    return OkStatus();
  });
}

void RangeGeneric(CommandContext& ctx, bool rev) {
  StreamId start, end;
  bool start_ex, end_ex;
  if (!ParseIntervalId(ctx.argv[rev ? 3 : 2], 0, &start, &start_ex)) {
    ctx.out.Error(kErrInvalidId);
    return;
  }
  if (start_ex && !IncrStreamId(&start)) {
    ctx.out.Error("ERR invalid start ID for the interval");
    return;
  }
  if (!ParseIntervalId(ctx.argv[rev ? 2 : 3], ~uint64_t{0}, &end, &end_ex)) {
    ctx.out.Error(kErrInvalidId);
    return;
  }
  if (end_ex && !DecrStreamId(&end)) {
    ctx.out.Error("ERR invalid end ID for the interval");
    return;
  }
  int64_t count = -1;
  for (size_t j = 4; j < ctx.argv.size(); ++j) {
    if (!EqualsIgnoreCase(ctx.argv[j], "count") || j + 1 >= ctx.argv.size()) {
      ReplySyntaxError(ctx);
      return;
    }
    if (!ParseIntArg(ctx, ctx.argv[++j], &count)) return;
    if (count < 0) count = 0;
  }
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t n,
                           CollSize(ops, ctx.argv[1], KeyType::kStream));
    if (n == 0) {  // absent: Redis replies an empty array whatever COUNT
      call.out.ArrayHeader(0);
      return OkStatus();
    }
    if (count == 0) {
      call.out.NullArray();
      return OkStatus();
    }
    std::vector<std::pair<StreamId, std::string>> entries;
    DAXKV_RETURN_IF_ERROR(ForEachStreamEntry(
        ops, ctx.argv[1], start, end, rev, count < 0 ? 0 : count,
        [&](StreamId id, std::string_view v) {
          entries.emplace_back(id, std::string(v));
          return true;
        }));
    call.out.ArrayHeader(entries.size());
    for (const auto& [id, v] : entries) ReplyStreamEntry(call.out, id, v);
    return OkStatus();
  });
}

void XRangeCommand(CommandContext& ctx) { RangeGeneric(ctx, false); }
void XRevRangeCommand(CommandContext& ctx) { RangeGeneric(ctx, true); }

void XDelCommand(CommandContext& ctx) {
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    const std::string_view key = ctx.argv[1];
    StreamMeta m;
    Status s = ReadStreamMeta(txn, key, &m);
    if (s.code() == StatusCode::kNotFound) {
      call.out.Integer(0);
      return OkStatus();
    }
    DAXKV_RETURN_IF_ERROR(s);
    // Redis checks every ID before it deletes any.
    std::vector<StreamId> ids(ctx.argv.size() - 2);
    for (size_t j = 2; j < ctx.argv.size(); ++j) {
      if (!ParseStreamId(ctx.argv[j], 0, true, &ids[j - 2])) {
        return CommandError(kErrInvalidId);
      }
    }
    int64_t deleted = 0;
    for (StreamId id : ids) {
      bool existed;
      DAXKV_RETURN_IF_ERROR(txn.StreamDelete(key, StreamIdKey(id), &existed));
      if (!existed) continue;
      ++deleted;
      if (m.max_deleted < id) m.max_deleted = id;
    }
    if (deleted > 0) {
      // Durability: the metadata (max deleted ID) in the same Txn batch.
      DAXKV_RETURN_IF_ERROR(WriteStreamMeta(txn, key, m));
      call.Modified(key);
    }
    call.out.Integer(deleted);
    return OkStatus();
  });
}

struct SetIdArgs {
  StreamId id, max_deleted;
  int64_t entries_added = -1;
};

// XSETID's arguments as redis-server 7.0.15 checks them, in its order;
// replies the error and returns false.
bool ParseSetIdArgs(CommandContext& ctx, SetIdArgs* a) {
  if (!ParseStreamId(ctx.argv[2], 0, true, &a->id)) {
    ctx.out.Error(kErrInvalidId);
    return false;
  }
  for (size_t i = 3; i < ctx.argv.size(); i += 2) {
    const bool more = i + 1 < ctx.argv.size();
    if (EqualsIgnoreCase(ctx.argv[i], "entriesadded") && more) {
      if (!ParseIntArg(ctx, ctx.argv[i + 1], &a->entries_added)) return false;
      if (a->entries_added < 0) {
        ctx.out.Error("ERR entries_added must be positive");
        return false;
      }
    } else if (EqualsIgnoreCase(ctx.argv[i], "maxdeletedid") && more) {
      if (!ParseStreamId(ctx.argv[i + 1], 0, true, &a->max_deleted)) {
        ctx.out.Error(kErrInvalidId);
        return false;
      }
      if (a->id < a->max_deleted) {
        ctx.out.Error(
            "ERR The ID specified in XSETID is smaller than the provided "
            "max_deleted_entry_id");
        return false;
      }
    } else {
      ReplySyntaxError(ctx);
      return false;
    }
  }
  return true;
}

void XSetIdCommand(CommandContext& ctx) {
  SetIdArgs a;
  if (!ParseSetIdArgs(ctx, &a)) return;
  const StreamId id = a.id, max_deleted = a.max_deleted;
  const int64_t entries_added = a.entries_added;
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    const std::string_view key = ctx.argv[1];
    StreamMeta m;
    Status s = ReadStreamMeta(txn, key, &m);
    if (s.code() == StatusCode::kNotFound) {
      return CommandError("ERR no such key");
    }
    DAXKV_RETURN_IF_ERROR(s);
    // Redis 7.0.15 does not compare the ID with the current max deleted
    // entry ID (later versions do).
    DAXKV_ASSIGN_OR_RETURN(uint64_t length, StreamLength(txn, key));
    if (length > 0) {
      StreamId top;
      DAXKV_RETURN_IF_ERROR(
          ForEachStreamEntry(txn, key, StreamId{0, 0}, kMaxStreamId, true, 1,
                             [&](StreamId last, std::string_view) {
                               top = last;
                               return false;
                             }));
      if (id < top) {
        return CommandError(
            "ERR The ID specified in XSETID is smaller than the target stream "
            "top item");
      }
      if (entries_added != -1 &&
          length > static_cast<uint64_t>(entries_added)) {
        return CommandError(
            "ERR The entries_added specified in XSETID is smaller than the "
            "target stream length");
      }
    }
    m.last_id = id;
    if (entries_added != -1) m.entries_added = entries_added;
    if (!(max_deleted == StreamId{0, 0})) m.max_deleted = max_deleted;
    DAXKV_RETURN_IF_ERROR(WriteStreamMeta(txn, key, m));
    call.Modified(key);
    call.out.Ok();
    return OkStatus();
  });
}

}  // namespace

void RegisterStreamCommands(CommandTable* t) {
  constexpr uint32_t kW = kCmdWrite, kR = kCmdReadOnly;
  static constexpr CollCommand kCommands[] = {
      {"xadd", -5, kW | kCmdFast, XAddCommand,
       "Appends a new entry to a stream", "5.0.0"},
      {"xtrim", -4, kW, XTrimCommand,
       "Deletes messages from the beginning of a stream.", "5.0.0"},
      {"xlen", 2, kR | kCmdFast, XLenCommand,
       "Return the number of messages in a stream.", "5.0.0"},
      {"xrange", -4, kR, XRangeCommand,
       "Returns the messages from a stream within a range of IDs.", "5.0.0"},
      {"xrevrange", -4, kR, XRevRangeCommand,
       "Returns the messages from a stream within a range of IDs in reverse "
       "order.",
       "5.0.0"},
      {"xsetid", -3, kW, XSetIdCommand,
       "An internal command for replicating stream values.", "5.0.0"},
      {"xdel", -3, kW | kCmdFast, XDelCommand,
       "Returns the number of messages after removing them from a stream.",
       "5.0.0"},
  };
  AddCollCommands(t, "stream", kCommands);
}

}  // namespace daxkv::kv
