// Sorted-set ranges: ZRANGE (BYSCORE, BYLEX, REV, LIMIT, WITHSCORES),
// ZRANGESTORE, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX,
// ZREVRANGEBYLEX, ZCOUNT, ZLEXCOUNT, ZREMRANGEBYRANK/BYSCORE/BYLEX. Each
// is O(log n + m) on the engine's order-statistic index.
#include <string>
#include <vector>

#include "kv/coll_run.h"
#include "kv/command.h"
#include "kv/zset_args.h"

namespace daxkv::kv {
namespace {

using engine::KeyType;
using engine::ReadOps;
using engine::Txn;

constexpr std::string_view kErrScoreRange = "ERR min or max is not a float";
constexpr std::string_view kErrLexRange =
    "ERR min or max not valid string range item";

enum class RangeBy { kAuto, kRank, kScore, kLex };

struct RangeArgs {
  RangeBy by = RangeBy::kAuto;
  bool rev = false;
  bool rev_fixed = false;  // the old forms (ZREVRANGE...) take no REV
  bool with_scores = false;
  bool store = false;
  int64_t offset = 0;
  int64_t limit = -1;  // -1: no LIMIT (as Redis's opt_limit)
  engine::IndexRange rank = {};
  engine::ScoreRange score = {};
  engine::LexRange lex = {};
};

// Redis 7.0's zrangeGenericCommand: options after key min max (from argv
// index `first`), then the conflicts, then the range in its direction.
bool ParseOptions(CommandContext& ctx, size_t first, RangeArgs* a) {
  const bool by_fixed = a->by != RangeBy::kAuto;
  for (size_t j = first + 3; j < ctx.argv.size(); ++j) {
    std::string_view o = ctx.argv[j];
    const size_t left = ctx.argv.size() - j - 1;
    if (!a->store && EqualsIgnoreCase(o, "withscores")) {
      a->with_scores = true;
    } else if (EqualsIgnoreCase(o, "limit") && left >= 2) {
      if (!ParseIntArg(ctx, ctx.argv[j + 1], &a->offset) ||
          !ParseIntArg(ctx, ctx.argv[j + 2], &a->limit)) {
        return false;
      }
      j += 2;
    } else if (!a->rev_fixed && !a->rev && EqualsIgnoreCase(o, "rev")) {
      a->rev = true;
    } else if (!by_fixed && a->by == RangeBy::kAuto &&
               (EqualsIgnoreCase(o, "bylex") ||
                EqualsIgnoreCase(o, "byscore"))) {
      a->by = EqualsIgnoreCase(o, "bylex") ? RangeBy::kLex : RangeBy::kScore;
    } else {
      ReplySyntaxError(ctx);
      return false;
    }
  }
  if (a->by == RangeBy::kAuto) a->by = RangeBy::kRank;
  if (a->limit != -1 && a->by == RangeBy::kRank) {
    ctx.out.Error(
        "ERR syntax error, LIMIT is only supported in combination with either "
        "BYSCORE or BYLEX");
    return false;
  }
  if (a->with_scores && a->by == RangeBy::kLex) {
    ctx.out.Error(
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    return false;
  }
  return true;
}

bool ParseRangeArgs(CommandContext& ctx, size_t first, RangeArgs* a) {
  if (!ParseOptions(ctx, first, a)) return false;
  std::string_view lo = ctx.argv[first + 1], hi = ctx.argv[first + 2];
  if (a->rev && a->by != RangeBy::kRank) std::swap(lo, hi);
  switch (a->by) {
    case RangeBy::kScore:
      if (ParseScoreRange(lo, hi, &a->score)) return true;
      ctx.out.Error(kErrScoreRange);
      return false;
    case RangeBy::kLex:
      if (ParseLexRange(lo, hi, &a->lex)) return true;
      ctx.out.Error(kErrLexRange);
      return false;
    default:
      return ParseIntArg(ctx, lo, &a->rank.start) &&
             ParseIntArg(ctx, hi, &a->rank.stop);
  }
}

// The range of `key` as (member, score) pairs.
Status CollectRange(ReadOps& ops, std::string_view key, const RangeArgs& a,
                    Scored* out) {
  auto add = [&](std::string_view m, double score) {
    out->emplace_back(m, score);
    return true;
  };
  if (a.by == RangeBy::kRank) {
    return ops.ZRangeByRank(key, a.rank, a.rev, add);
  }
  if (a.offset < 0) return OkStatus();  // Redis skips everything
  engine::Limit limit{static_cast<uint64_t>(a.offset), a.limit};
  uint64_t count = 0;
  if (a.by == RangeBy::kScore) {
    return ops.ZRangeByScore(key, a.score, a.rev, limit, add, &count);
  }
  return ops.ZRangeByLex(key, a.lex, a.rev, limit, add, &count);
}

// ZRANGE by rank: the count is known before the walk, so the members go
// straight into the reply.
Status StreamRankRange(ReadOps& ops, CollCall& call, std::string_view key,
                       const RangeArgs& a, uint64_t n) {
  uint64_t from = 0, to = 0;
  if (!a.rank.Clamp(n, &from, &to)) from = to = 0;
  StreamedItems items(to - from);
  ReplyScoredHeader(call.out, to - from, a.with_scores);
  DAXKV_RETURN_IF_ERROR(ops.ZRangeByRank(
      key, a.rank, a.rev, [&](std::string_view m, double score) {
        ReplyScoredItem(call.out, m, score, a.with_scores);
        items.Count();
        return true;
      }));
  return items.Done();
}

void RangeGeneric(CommandContext& ctx, RangeArgs a) {
  if (!ParseRangeArgs(ctx, 1, &a)) return;
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t n,
                           CollSize(ops, ctx.argv[1], KeyType::kZset));
    if (a.by == RangeBy::kRank) {
      return StreamRankRange(ops, call, ctx.argv[1], a, n);
    }
    Scored items;
    DAXKV_RETURN_IF_ERROR(CollectRange(ops, ctx.argv[1], a, &items));
    ReplyScored(call.out, items, a.with_scores);
    return OkStatus();
  });
}

void ZRangeCommand(CommandContext& ctx) { RangeGeneric(ctx, {}); }
void ZRevRangeCommand(CommandContext& ctx) {
  RangeGeneric(ctx, {.by = RangeBy::kRank, .rev = true, .rev_fixed = true});
}
void ZRangeByScoreCommand(CommandContext& ctx) {
  RangeGeneric(ctx, {.by = RangeBy::kScore, .rev_fixed = true});
}
void ZRevRangeByScoreCommand(CommandContext& ctx) {
  RangeGeneric(ctx, {.by = RangeBy::kScore, .rev = true, .rev_fixed = true});
}
void ZRangeByLexCommand(CommandContext& ctx) {
  RangeGeneric(ctx, {.by = RangeBy::kLex, .rev_fixed = true});
}
void ZRevRangeByLexCommand(CommandContext& ctx) {
  RangeGeneric(ctx, {.by = RangeBy::kLex, .rev = true, .rev_fixed = true});
}

// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
void ZRangeStoreCommand(CommandContext& ctx) {
  RangeArgs a{.store = true};
  if (!ParseRangeArgs(ctx, 2, &a)) return;
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    std::string_view dst = ctx.argv[1], src = ctx.argv[2];
    DAXKV_RETURN_IF_ERROR(CollSize(txn, src, KeyType::kZset).status());
    Scored items;
    DAXKV_RETURN_IF_ERROR(CollectRange(txn, src, a, &items));
    return StoreZset(txn, call, dst, items);
  });
}

// ZCOUNT / ZLEXCOUNT: counts without collecting.
void CountGeneric(CommandContext& ctx, bool lex) {
  RangeArgs a{.by = lex ? RangeBy::kLex : RangeBy::kScore};
  if (lex ? !ParseLexRange(ctx.argv[2], ctx.argv[3], &a.lex)
          : !ParseScoreRange(ctx.argv[2], ctx.argv[3], &a.score)) {
    ctx.out.Error(lex ? kErrLexRange : kErrScoreRange);
    return;
  }
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_RETURN_IF_ERROR(CollSize(ops, ctx.argv[1], KeyType::kZset).status());
    uint64_t count = 0;
    if (lex) {
      DAXKV_RETURN_IF_ERROR(
          ops.ZRangeByLex(ctx.argv[1], a.lex, false, {}, nullptr, &count));
    } else {
      DAXKV_RETURN_IF_ERROR(
          ops.ZRangeByScore(ctx.argv[1], a.score, false, {}, nullptr, &count));
    }
    call.out.Integer(static_cast<int64_t>(count));
    return OkStatus();
  });
}

void ZCountCommand(CommandContext& ctx) { CountGeneric(ctx, false); }
void ZLexCountCommand(CommandContext& ctx) { CountGeneric(ctx, true); }

void RemoveRangeGeneric(CommandContext& ctx, RangeBy by) {
  RangeArgs a{.by = by};
  bool ok = true;
  if (by == RangeBy::kRank) {
    ok = ParseIntArg(ctx, ctx.argv[2], &a.rank.start) &&
         ParseIntArg(ctx, ctx.argv[3], &a.rank.stop);
  } else if (by == RangeBy::kScore) {
    if (!(ok = ParseScoreRange(ctx.argv[2], ctx.argv[3], &a.score))) {
      ctx.out.Error(kErrScoreRange);
    }
  } else if (!(ok = ParseLexRange(ctx.argv[2], ctx.argv[3], &a.lex))) {
    ctx.out.Error(kErrLexRange);
  }
  if (!ok) return;
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    std::string_view key = ctx.argv[1];
    DAXKV_RETURN_IF_ERROR(CollSize(txn, key, KeyType::kZset).status());
    uint64_t removed = 0;
    if (by == RangeBy::kRank) {
      DAXKV_RETURN_IF_ERROR(txn.ZRemoveRangeByRank(key, a.rank, &removed));
    } else if (by == RangeBy::kScore) {
      DAXKV_RETURN_IF_ERROR(txn.ZRemoveRangeByScore(key, a.score, &removed));
    } else {
      DAXKV_RETURN_IF_ERROR(txn.ZRemoveRangeByLex(key, a.lex, &removed));
    }
    if (removed > 0) call.Modified(key);
    call.out.Integer(static_cast<int64_t>(removed));
    return OkStatus();
  });
}

void ZRemRangeByRankCommand(CommandContext& ctx) {
  RemoveRangeGeneric(ctx, RangeBy::kRank);
}
void ZRemRangeByScoreCommand(CommandContext& ctx) {
  RemoveRangeGeneric(ctx, RangeBy::kScore);
}
void ZRemRangeByLexCommand(CommandContext& ctx) {
  RemoveRangeGeneric(ctx, RangeBy::kLex);
}

}  // namespace

void RegisterZsetRangeCommands(CommandTable* t) {
  constexpr uint32_t kW = kCmdWrite;
  constexpr uint32_t kR = kCmdReadOnly;
  static constexpr CollCommand kCommands[] = {
      {"zrange", -4, kR, ZRangeCommand,
       "Return a range of members in a sorted set", "1.2.0"},
      {"zrangestore", -5, kW, ZRangeStoreCommand,
       "Store a range of members from sorted set into another key", "6.2.0", 1,
       2},
      {"zrevrange", -4, kR, ZRevRangeCommand,
       "Return a range of members in a sorted set, by index, with scores "
       "ordered from high to low",
       "1.2.0"},
      {"zrangebyscore", -4, kR, ZRangeByScoreCommand,
       "Return a range of members in a sorted set, by score", "1.0.5"},
      {"zrevrangebyscore", -4, kR, ZRevRangeByScoreCommand,
       "Return a range of members in a sorted set, by score, with scores "
       "ordered from high to low",
       "2.2.0"},
      {"zrangebylex", -4, kR, ZRangeByLexCommand,
       "Return a range of members in a sorted set, by lexicographical range",
       "2.8.9"},
      {"zrevrangebylex", -4, kR, ZRevRangeByLexCommand,
       "Return a range of members in a sorted set, by lexicographical range, "
       "ordered from higher to lower strings.",
       "2.8.9"},
      {"zcount", 4, kR | kCmdFast, ZCountCommand,
       "Count the members in a sorted set with scores within the given values",
       "2.0.0"},
      {"zlexcount", 4, kR | kCmdFast, ZLexCountCommand,
       "Count the number of members in a sorted set between a given "
       "lexicographical range",
       "2.8.9"},
      {"zremrangebyrank", 4, kW, ZRemRangeByRankCommand,
       "Remove all members in a sorted set within the given indexes", "2.0.0"},
      {"zremrangebyscore", 4, kW, ZRemRangeByScoreCommand,
       "Remove all members in a sorted set within the given scores", "1.2.0"},
      {"zremrangebylex", 4, kW, ZRemRangeByLexCommand,
       "Remove all members in a sorted set between the given lexicographical "
       "range",
       "2.8.9"},
  };
  AddCollCommands(t, "sorted-set", kCommands);
}

}  // namespace daxkv::kv
