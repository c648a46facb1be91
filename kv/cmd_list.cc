// List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LINDEX LRANGE
// LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP. Each runs as one
// engine Txn or read view (kv/coll_run.h); LRANGE is O(log n + m) on the
// engine's counted tree. The blocking forms: kv/cmd_blocking.cc.
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "kv/coll_run.h"
#include "kv/command.h"

namespace daxkv::kv {
namespace {

using engine::End;
using engine::KeyType;
using engine::ReadOps;
using engine::Txn;
using Elements = std::vector<std::string>;

constexpr std::string_view kMustBePositive =
    "ERR value is out of range, must be positive";

void PushGeneric(CommandContext& ctx, End end, bool if_exists) {
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    uint64_t length = 0;
    for (size_t i = 2; i < ctx.argv.size(); ++i) {
      DAXKV_RETURN_IF_ERROR(
          txn.ListPush(ctx.argv[1], end, ctx.argv[i], if_exists, &length));
      if (length == 0) break;  // PUSHX of an absent key
    }
    if (length > 0) call.Modified(ctx.argv[1]);
    call.out.Integer(static_cast<int64_t>(length));
    return OkStatus();
  });
}

void LPushCommand(CommandContext& ctx) { PushGeneric(ctx, End::kFront, false); }
void RPushCommand(CommandContext& ctx) { PushGeneric(ctx, End::kBack, false); }
void LPushXCommand(CommandContext& ctx) { PushGeneric(ctx, End::kFront, true); }
void RPushXCommand(CommandContext& ctx) { PushGeneric(ctx, End::kBack, true); }

// Pops up to `count` elements of `key` from `end` into *out.
Status PopSome(Txn& txn, std::string_view key, End end, uint64_t count,
               Elements* out) {
  for (uint64_t i = 0; i < count; ++i) {
    std::string value;
    Status s = txn.ListPop(key, end, &value);
    if (s.code() == StatusCode::kNotFound) break;
    DAXKV_RETURN_IF_ERROR(s);
    out->push_back(std::move(value));
  }
  return OkStatus();
}

// LPOP/RPOP key [count]: without a count one element or nil; with one an
// array, or a null array for an absent key (Redis 7.0).
void PopGeneric(CommandContext& ctx, End end) {
  if (ctx.argv.size() > 3) {
    return ReplyWrongArity(ctx, ToLower(ctx.argv[0]));
  }
  const bool has_count = ctx.argv.size() == 3;
  int64_t count = 1;
  if (has_count && (!ParseInt64(ctx.argv[2], &count) || count < 0)) {
    ctx.out.Error(kMustBePositive);
    return;
  }
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t n,
                           CollSize(txn, ctx.argv[1], KeyType::kList));
    if (n == 0) {
      has_count ? call.out.NullArray() : call.out.Null();
      return OkStatus();
    }
    if (!has_count) {  // the common form: no vector of one
      std::string value;
      DAXKV_RETURN_IF_ERROR(txn.ListPop(ctx.argv[1], end, &value));
      call.Modified(ctx.argv[1]);
      call.out.Bulk(value);
      return OkStatus();
    }
    Elements popped;
    DAXKV_RETURN_IF_ERROR(
        PopSome(txn, ctx.argv[1], end, static_cast<uint64_t>(count), &popped));
    if (!popped.empty()) call.Modified(ctx.argv[1]);
    ReplyBulkArray(call.out, popped);
    return OkStatus();
  });
}

void LPopCommand(CommandContext& ctx) { PopGeneric(ctx, End::kFront); }
void RPopCommand(CommandContext& ctx) { PopGeneric(ctx, End::kBack); }

void LLenCommand(CommandContext& ctx) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t n,
                           CollSize(ops, ctx.argv[1], KeyType::kList));
    call.out.Integer(static_cast<int64_t>(n));
    return OkStatus();
  });
}

// The index argument of LINDEX and LSET: Redis parses it after the key's
// lookup and type check.
StatusOr<int64_t> IndexArg(std::string_view arg) {
  int64_t index = 0;
  if (!ParseInt64(arg, &index)) return CommandError(kErrNotInteger);
  return index;
}

void LIndexCommand(CommandContext& ctx) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t n,
                           CollSize(ops, ctx.argv[1], KeyType::kList));
    if (n == 0) {
      call.out.Null();
      return OkStatus();
    }
    DAXKV_ASSIGN_OR_RETURN(int64_t index, IndexArg(ctx.argv[2]));
    std::string value;
    Status s = ops.ListGet(ctx.argv[1], index, &value);
    if (s.code() == StatusCode::kNotFound) {
      call.out.Null();
      return OkStatus();
    }
    DAXKV_RETURN_IF_ERROR(s);
    call.out.Bulk(value);
    return OkStatus();
  });
}

bool ParseRange(CommandContext& ctx, engine::IndexRange* range) {
  return ParseIntArg(ctx, ctx.argv[2], &range->start) &&
         ParseIntArg(ctx, ctx.argv[3], &range->stop);
}

void LRangeCommand(CommandContext& ctx) {
  engine::IndexRange range;
  if (!ParseRange(ctx, &range)) return;
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t n,
                           CollSize(ops, ctx.argv[1], KeyType::kList));
    uint64_t from = 0, to = 0;
    if (!range.Clamp(n, &from, &to)) {
      call.out.ArrayHeader(0);
      return OkStatus();
    }
    // Straight into the reply (a failure cuts it back): no copy of each
    // element on the heap first.
    call.out.ArrayHeader(to - from);
    return ops.ListRange(ctx.argv[1], range, [&](std::string_view e) {
      call.out.Bulk(e);
      return true;
    });
  });
}

void LSetCommand(CommandContext& ctx) {
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t n,
                           CollSize(txn, ctx.argv[1], KeyType::kList));
    if (n == 0) return CommandError("ERR no such key");
    DAXKV_ASSIGN_OR_RETURN(int64_t index, IndexArg(ctx.argv[2]));
    Status s = txn.ListSet(ctx.argv[1], index, ctx.argv[3]);
    if (s.code() == StatusCode::kInvalidArgument) {
      return CommandError("ERR index out of range");
    }
    DAXKV_RETURN_IF_ERROR(s);
    call.Modified(ctx.argv[1]);
    call.out.Ok();
    return OkStatus();
  });
}

// The index of the first element equal to `pivot`, or -1.
StatusOr<int64_t> FindPivot(ReadOps& ops, std::string_view key,
                            std::string_view pivot) {
  int64_t found = -1;
  DAXKV_RETURN_IF_ERROR(
      ops.ListWalk(key, 0, false, [&](uint64_t index, std::string_view e) {
        if (e != pivot) return true;
        found = static_cast<int64_t>(index);
        return false;
      }));
  return found;
}

void LInsertCommand(CommandContext& ctx) {
  const bool after = EqualsIgnoreCase(ctx.argv[2], "after");
  if (!after && !EqualsIgnoreCase(ctx.argv[2], "before")) {
    return ReplySyntaxError(ctx);
  }
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    std::string_view key = ctx.argv[1];
    DAXKV_ASSIGN_OR_RETURN(uint64_t n, CollSize(txn, key, KeyType::kList));
    if (n == 0) {
      call.out.Integer(0);
      return OkStatus();
    }
    DAXKV_ASSIGN_OR_RETURN(int64_t at, FindPivot(txn, key, ctx.argv[3]));
    if (at < 0) {
      call.out.Integer(-1);
      return OkStatus();
    }
    DAXKV_RETURN_IF_ERROR(txn.ListInsert(
        key, static_cast<uint64_t>(at + (after ? 1 : 0)), ctx.argv[4]));
    call.Modified(key);
    call.out.Integer(static_cast<int64_t>(n + 1));
    return OkStatus();
  });
}

void LRemCommand(CommandContext& ctx) {
  int64_t count = 0;
  if (!ParseIntArg(ctx, ctx.argv[2], &count)) return;
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    std::string_view key = ctx.argv[1];
    DAXKV_RETURN_IF_ERROR(CollSize(txn, key, KeyType::kList).status());
    const bool from_tail = count < 0;
    const uint64_t limit = count == 0  ? std::numeric_limits<uint64_t>::max()
                           : from_tail ? static_cast<uint64_t>(-(count + 1)) + 1
                                       : static_cast<uint64_t>(count);
    std::vector<uint64_t> matches;
    DAXKV_RETURN_IF_ERROR(txn.ListWalk(key, from_tail ? -1 : 0, from_tail,
                                       [&](uint64_t index, std::string_view e) {
                                         if (e == ctx.argv[3])
                                           matches.push_back(index);
                                         return matches.size() < limit;
                                       }));
    // Highest index first, so that the others stay valid.
    if (!from_tail) std::reverse(matches.begin(), matches.end());
    for (uint64_t index : matches) {
      DAXKV_RETURN_IF_ERROR(txn.ListErase(key, index));
    }
    if (!matches.empty()) call.Modified(key);
    call.out.Integer(static_cast<int64_t>(matches.size()));
    return OkStatus();
  });
}

void LTrimCommand(CommandContext& ctx) {
  engine::IndexRange keep;
  if (!ParseRange(ctx, &keep)) return;
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t n,
                           CollSize(txn, ctx.argv[1], KeyType::kList));
    if (n > 0) {
      DAXKV_RETURN_IF_ERROR(txn.ListTrim(ctx.argv[1], keep));
      call.Modified(ctx.argv[1]);
    }
    call.out.Ok();
    return OkStatus();
  });
}

}  // namespace

void RegisterListCommands(CommandTable* t) {
  constexpr uint32_t kW = kCmdWrite;
  constexpr uint32_t kR = kCmdReadOnly;
  static constexpr CollCommand kCommands[] = {
      {"lpush", -3, kW | kCmdPipelined | kCmdFast, LPushCommand,
       "Prepend one or multiple elements to a list", "1.0.0"},
      {"rpush", -3, kW | kCmdPipelined | kCmdFast, RPushCommand,
       "Append one or multiple elements to a list", "1.0.0"},
      {"lpushx", -3, kW | kCmdPipelined | kCmdFast, LPushXCommand,
       "Prepend an element to a list, only if the list exists", "2.2.0"},
      {"rpushx", -3, kW | kCmdPipelined | kCmdFast, RPushXCommand,
       "Append an element to a list, only if the list exists", "2.2.0"},
      {"lpop", -2, kW | kCmdPipelined | kCmdFast, LPopCommand,
       "Remove and get the first elements in a list", "1.0.0"},
      {"rpop", -2, kW | kCmdPipelined | kCmdFast, RPopCommand,
       "Remove and get the last elements in a list", "1.0.0"},
      {"llen", 2, kR | kCmdFast, LLenCommand, "Get the length of a list",
       "1.0.0"},
      {"lindex", 3, kR, LIndexCommand,
       "Get an element from a list by its index", "1.0.0"},
      {"lrange", 4, kR, LRangeCommand, "Get a range of elements from a list",
       "1.0.0"},
      {"lset", 4, kW | kCmdPipelined, LSetCommand,
       "Set the value of an element in a list by "
       "its index",
       "1.0.0"},
      {"linsert", 5, kW, LInsertCommand,
       "Insert an element before or after another element in a list", "2.2.0"},
      {"lrem", 4, kW, LRemCommand, "Remove elements from a list", "1.0.0"},
      {"ltrim", 4, kW | kCmdPipelined, LTrimCommand,
       "Trim a list to the specified range", "1.0.0"},
  };
  AddCollCommands(t, "list", kCommands);
  RegisterListMoveCommands(t);
}

}  // namespace daxkv::kv
