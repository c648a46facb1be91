// LPOS, LMOVE, RPOPLPUSH and LMPOP: the list commands that search, or
// move elements between keys (one Txn: a crash keeps both sides or
// neither).
#include <limits>
#include <span>
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

struct LposOptions {
  int64_t rank = 1;
  int64_t count = -1;  // -1: no COUNT (an integer reply)
  int64_t maxlen = 0;  // 0: the whole list
};

// Redis 7.0's lposCommand argument checks, in its order.
bool ParseLposOptions(CommandContext& ctx, LposOptions* o) {
  for (size_t j = 3; j < ctx.argv.size(); ++j) {
    const bool more = j + 1 < ctx.argv.size();
    std::string_view opt = ctx.argv[j];
    int64_t v = 0;
    if (EqualsIgnoreCase(opt, "rank") && more) {
      if (!ParseIntArg(ctx, ctx.argv[++j], &v)) return false;
      // Redis negates the rank; LONG_MIN stays negative and then every
      // match counts: the first match from the tail, as rank -1.
      if (v == std::numeric_limits<int64_t>::min()) v = -1;
      if (v == 0) {
        ctx.out.Error(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 "
            "from the second ... or use negative to start from the end of "
            "the list");
        return false;
      }
      o->rank = v;
    } else if ((EqualsIgnoreCase(opt, "count") ||
                EqualsIgnoreCase(opt, "maxlen")) &&
               more) {
      const bool count = EqualsIgnoreCase(opt, "count");
      if (!ParseInt64(ctx.argv[++j], &v) || v < 0) {
        ctx.out.Error(count ? "ERR COUNT can't be negative"
                            : "ERR MAXLEN can't be negative");
        return false;
      }
      (count ? o->count : o->maxlen) = v;
    } else {
      ReplySyntaxError(ctx);
      return false;
    }
  }
  return true;
}

void LPosCommand(CommandContext& ctx) {
  LposOptions o;
  if (!ParseLposOptions(ctx, &o)) return;
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t n,
                           CollSize(ops, ctx.argv[1], KeyType::kList));
    const bool reverse = o.rank < 0;
    // |rank| - 1 matches to skip; rank is never INT64_MIN here.
    uint64_t skip = static_cast<uint64_t>(reverse ? -o.rank : o.rank) - 1;
    const uint64_t want = o.count <= 0 ? std::numeric_limits<uint64_t>::max()
                                       : static_cast<uint64_t>(o.count);
    std::vector<int64_t> found;
    uint64_t compared = 0;
    if (n > 0) {
      DAXKV_RETURN_IF_ERROR(ops.ListWalk(
          ctx.argv[1], reverse ? -1 : 0, reverse,
          [&](uint64_t index, std::string_view e) {
            if (o.maxlen != 0 && compared++ >= static_cast<uint64_t>(o.maxlen))
              return false;
            if (e != ctx.argv[2]) return true;
            if (skip > 0) {
              --skip;
              return true;
            }
            found.push_back(static_cast<int64_t>(index));
            return found.size() < (o.count == -1 ? 1 : want);
          }));
    }
    if (o.count == -1) {
      found.empty() ? call.out.Null() : call.out.Integer(found[0]);
    } else {
      call.out.ArrayHeader(found.size());
      for (int64_t i : found) call.out.Integer(i);
    }
    return OkStatus();
  });
}

// LMOVE / RPOPLPUSH: src absent answers nil before dst's type is checked;
// dst's type is checked before anything is popped (Redis 7.0's order).
void MoveGeneric(CommandContext& ctx, End from, End to) {
  std::string_view src = ctx.argv[1], dst = ctx.argv[2];
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t n, CollSize(txn, src, KeyType::kList));
    if (n == 0) {
      call.out.Null();
      return OkStatus();
    }
    DAXKV_RETURN_IF_ERROR(CollSize(txn, dst, KeyType::kList).status());
    std::string value;
    if (src == dst && n == 1) {
      // Rotating a one-element list: popping it would delete the key (and
      // its TTL), which Redis never does here.
      DAXKV_RETURN_IF_ERROR(txn.ListGet(src, 0, &value));
      call.Modified(src);
      call.out.Bulk(value);
      return OkStatus();
    }
    DAXKV_RETURN_IF_ERROR(txn.ListPop(src, from, &value));
    uint64_t length = 0;
    DAXKV_RETURN_IF_ERROR(txn.ListPush(dst, to, value, false, &length));
    call.Modified(src);
    call.Modified(dst);
    call.out.Bulk(value);
    return OkStatus();
  });
}

void LMoveCommand(CommandContext& ctx) {
  End from, to;
  if (!ParseEnd(ctx.argv[3], &from) || !ParseEnd(ctx.argv[4], &to)) {
    return ReplySyntaxError(ctx);
  }
  MoveGeneric(ctx, from, to);
}

void RPopLPushCommand(CommandContext& ctx) {
  MoveGeneric(ctx, End::kBack, End::kFront);
}

void LMPopCommand(CommandContext& ctx) {
  MpopArgs a;
  if (!ParseMpopArgs(ctx, "left", "right", &a)) return;
  const End end = a.first_side ? End::kFront : End::kBack;
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    for (std::string_view key : a.keys) {
      DAXKV_ASSIGN_OR_RETURN(uint64_t n, CollSize(txn, key, KeyType::kList));
      if (n == 0) continue;
      std::vector<std::string> popped;
      for (int64_t i = 0; i < a.count && static_cast<uint64_t>(i) < n; ++i) {
        DAXKV_RETURN_IF_ERROR(txn.ListPop(key, end, &popped.emplace_back()));
      }
      call.Modified(key);
      call.out.ArrayHeader(2);
      call.out.Bulk(key);
      ReplyBulkArray(call.out, popped);
      return OkStatus();
    }
    call.out.NullArray();
    return OkStatus();
  });
}

}  // namespace

void RegisterListMoveCommands(CommandTable* t) {
  static constexpr CollCommand kCommands[] = {
      {"lpos", -3, kCmdReadOnly, LPosCommand,
       "Return the index of matching elements on a list", "6.0.6"},
      {"lmove", 5, kCmdWrite, LMoveCommand,
       "Pop an element from a list, push it to another list and return it",
       "6.2.0", 1, 2},
      {"rpoplpush", 3, kCmdWrite, RPopLPushCommand,
       "Remove the last element in a list, prepend it to another list and "
       "return it",
       "1.2.0", 1, 2},
      // Keys follow numkeys: the Txn locks them on first use.
      {"lmpop", -4, kCmdWrite, LMPopCommand, "Pop elements from a list",
       "7.0.0", 0, 0},
  };
  AddCollCommands(t, "list", kCommands);
}

}  // namespace daxkv::kv
