// Sorted-set commands, point operations: ZADD ZINCRBY ZREM ZCARD ZSCORE
// ZMSCORE ZRANK ZREVRANK ZPOPMIN ZPOPMAX ZRANDMEMBER ZSCAN. Ranges are in
// kv/cmd_zset_range.cc. Each runs as one engine Txn or read view.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kv/coll_run.h"
#include "kv/command.h"
#include "kv/glob.h"
#include "kv/numbers.h"
#include "kv/scan_args.h"
#include "kv/zset_args.h"

namespace daxkv::kv {
namespace {

using engine::KeyType;
using engine::ReadOps;
using engine::Txn;
using engine::ZAddOptions;

struct ZAddArgs {
  ZAddOptions options;
  bool ch = false;
  // INCR by -0: Redis stores the increment as a new member's score, and
  // replies it as -0 (the stored score reads back as 0 from a listpack).
  bool incr_by_negative_zero = false;
  std::vector<std::pair<double, std::string_view>> elements;
};

// Redis 7.0's zaddGenericCommand checks, in its order.
bool ParseZAddArgs(CommandContext& ctx, bool incr_command, ZAddArgs* a) {
  size_t j = 2;
  bool nx = false, xx = false, gt = false, lt = false;
  a->options.incr = incr_command;
  for (; j < ctx.argv.size(); ++j) {
    std::string_view o = ctx.argv[j];
    if (EqualsIgnoreCase(o, "nx"))
      nx = true;
    else if (EqualsIgnoreCase(o, "xx"))
      xx = true;
    else if (EqualsIgnoreCase(o, "gt"))
      gt = true;
    else if (EqualsIgnoreCase(o, "lt"))
      lt = true;
    else if (EqualsIgnoreCase(o, "ch"))
      a->ch = true;
    else if (EqualsIgnoreCase(o, "incr"))
      a->options.incr = true;
    else
      break;
  }
  const size_t elements = ctx.argv.size() - j;
  if (elements % 2 != 0 || elements == 0) {
    ReplySyntaxError(ctx);
    return false;
  }
  if (nx && xx) {
    ctx.out.Error("ERR XX and NX options at the same time are not compatible");
    return false;
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    ctx.out.Error(
        "ERR GT, LT, and/or NX options at the same time are not compatible");
    return false;
  }
  if (a->options.incr && elements > 2) {
    ctx.out.Error("ERR INCR option supports a single increment-element pair");
    return false;
  }
  a->options.cond = nx   ? ZAddOptions::Cond::kIfAbsent
                    : xx ? ZAddOptions::Cond::kIfPresent
                         : ZAddOptions::Cond::kAlways;
  a->options.cmp = gt   ? ZAddOptions::Cmp::kGreater
                   : lt ? ZAddOptions::Cmp::kLess
                        : ZAddOptions::Cmp::kAlways;
  for (; j < ctx.argv.size(); j += 2) {
    double score = 0;
    if (!ParseScore(ctx.argv[j], &score)) {
      ctx.out.Error(kErrNotFloat);
      return false;
    }
    // Redis replies a stored -0 as 0 (the reference server does).
    if (score == 0) {
      a->incr_by_negative_zero = a->options.incr && std::signbit(score);
      score = 0;
    }
    a->elements.emplace_back(score, ctx.argv[j + 1]);
  }
  return true;
}

void ZAddGeneric(CommandContext& ctx, bool incr_command) {
  ZAddArgs a;
  if (!ParseZAddArgs(ctx, incr_command, &a)) return;
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    DAXKV_RETURN_IF_ERROR(CollSize(txn, ctx.argv[1], KeyType::kZset).status());
    int64_t counted = 0;
    engine::ZAddResult r;
    for (const auto& [score, member] : a.elements) {
      r = {};
      Status s = txn.ZAdd(ctx.argv[1], member, score, a.options, &r);
      if (s.code() == StatusCode::kInvalidArgument) {
        return CommandError("ERR resulting score is not a number (NaN)");
      }
      DAXKV_RETURN_IF_ERROR(s);
      counted += (a.ch ? r.changed : r.added) ? 1 : 0;
      if (r.changed) call.Modified(ctx.argv[1]);
    }
    if (!a.options.incr) {
      call.out.Integer(counted);
    } else if (r.applied) {
      call.out.Double(a.incr_by_negative_zero && r.added ? -0.0 : r.score);
    } else {
      call.out.Null();
    }
    return OkStatus();
  });
}

void ZAddCommand(CommandContext& ctx) { ZAddGeneric(ctx, false); }

// ZINCRBY key increment member: ZADD INCR's arguments exactly.
void ZIncrByCommand(CommandContext& ctx) { ZAddGeneric(ctx, true); }

void ZRemCommand(CommandContext& ctx) {
  RunCountingWrite(
      ctx, [](Txn& txn, std::string_view key, std::string_view member,
              bool* removed) { return txn.ZRemove(key, member, removed); });
}

void ZCardCommand(CommandContext& ctx) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t n,
                           CollSize(ops, ctx.argv[1], KeyType::kZset));
    call.out.Integer(static_cast<int64_t>(n));
    return OkStatus();
  });
}

// ZSCORE (one reply) and ZMSCORE (an array): doubles or nils.
void ScoresGeneric(CommandContext& ctx, bool multi) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_RETURN_IF_ERROR(CollSize(ops, ctx.argv[1], KeyType::kZset).status());
    if (multi) call.out.ArrayHeader(ctx.argv.size() - 2);
    for (size_t i = 2; i < ctx.argv.size(); ++i) {
      double score = 0;
      Status s = ops.ZScore(ctx.argv[1], ctx.argv[i], &score);
      if (s.code() == StatusCode::kNotFound) {
        call.out.Null();
        continue;
      }
      DAXKV_RETURN_IF_ERROR(s);
      call.out.Double(score);
    }
    return OkStatus();
  });
}

void ZScoreCommand(CommandContext& ctx) { ScoresGeneric(ctx, false); }
void ZMScoreCommand(CommandContext& ctx) { ScoresGeneric(ctx, true); }

void RankGeneric(CommandContext& ctx, bool reverse) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    uint64_t rank = 0;
    Status s = ops.ZRank(ctx.argv[1], ctx.argv[2], reverse, &rank);
    if (s.code() == StatusCode::kNotFound) {
      call.out.Null();
      return OkStatus();
    }
    DAXKV_RETURN_IF_ERROR(s);
    call.out.Integer(static_cast<int64_t>(rank));
    return OkStatus();
  });
}

void ZRankCommand(CommandContext& ctx) { RankGeneric(ctx, false); }
void ZRevRankCommand(CommandContext& ctx) { RankGeneric(ctx, true); }

// ZPOPMIN/ZPOPMAX key [count]: RESP3 pairs only with a count.
void PopGeneric(CommandContext& ctx, bool max) {
  if (ctx.argv.size() > 3) return ReplySyntaxError(ctx);
  const bool has_count = ctx.argv.size() == 3;
  int64_t count = 1;
  if (has_count && (!ParseInt64(ctx.argv[2], &count) || count < 0)) {
    ctx.out.Error("ERR value is out of range, must be positive");
    return;
  }
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    DAXKV_RETURN_IF_ERROR(CollSize(txn, ctx.argv[1], KeyType::kZset).status());
    Scored popped;
    DAXKV_RETURN_IF_ERROR(txn.ZPop(ctx.argv[1], max,
                                   static_cast<uint64_t>(count),
                                   [&](std::string_view m, double score) {
                                     popped.emplace_back(m, score);
                                     return true;
                                   }));
    if (!popped.empty()) call.Modified(ctx.argv[1]);
    if (has_count) {
      ReplyScored(call.out, popped, true);
    } else {
      call.out.ArrayHeader(2 * popped.size());
      for (const auto& [m, score] : popped) {
        call.out.Bulk(m);
        call.out.Double(score);
      }
    }
    return OkStatus();
  });
}

void ZPopMinCommand(CommandContext& ctx) { PopGeneric(ctx, false); }
void ZPopMaxCommand(CommandContext& ctx) { PopGeneric(ctx, true); }

void ZRandMemberCommand(CommandContext& ctx) {
  const size_t argc = ctx.argv.size();
  int64_t count = 1;
  if (argc >= 3 && !ParseRandomCount(ctx, "withscores", &count)) return;
  const bool with_scores = argc == 4;
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    Scored picked;
    DAXKV_RETURN_IF_ERROR(
        ops.ZRandom(ctx.argv[1], count, [&](std::string_view m, double score) {
          picked.emplace_back(m, score);
          return true;
        }));
    if (argc == 2) {
      picked.empty() ? call.out.Null() : call.out.Bulk(picked[0].first);
    } else {
      ReplyScored(call.out, picked, with_scores);
    }
    return OkStatus();
  });
}

void ZScanCommand(CommandContext& ctx) {
  ScanOptions o;
  if (!KeyScanOptions(ctx, &o)) return;
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    if (!o.error.empty()) {
      return KeyScanOptionError(ops, ctx.argv[1], engine::KeyType::kZset, o,
                                call);
    }
    // Redis writes a listpack's scores as d2string stored them, and a
    // skiplist's with %.17g (2^62 is 4.6116860184273879e+18 there); the
    // encoding is named as OBJECT ENCODING names it (largest size since
    // start).
    StatusOr<engine::KeyInfo> info = ops.Stat(ctx.argv[1]);
    const bool skiplist = info.ok() && info->type == KeyType::kZset &&
                          (info->had_long_element || info->peak_size > 128);
    std::vector<std::string> items;
    uint64_t next = 0;
    DAXKV_RETURN_IF_ERROR(ops.ZScan(
        ctx.argv[1], o.cursor, static_cast<size_t>(o.count),
        [&](std::string_view m, double score) {
          if (o.match_all || GlobMatch(o.pattern, m)) {
            items.emplace_back(m);
            items.push_back(skiplist ? FormatG17(score) : FormatScore(score));
          }
          return true;
        },
        &next));
    call.out.ArrayHeader(2);
    call.out.Bulk(std::to_string(next));
    ReplyBulkArray(call.out, items);
    return OkStatus();
  });
}

}  // namespace

void RegisterZsetCommands(CommandTable* t) {
  constexpr uint32_t kW = kCmdWrite;
  constexpr uint32_t kR = kCmdReadOnly;
  static constexpr CollCommand kCommands[] = {
      {"zadd", -4, kW | kCmdPipelined | kCmdFast, ZAddCommand,
       "Add one or more members to a sorted set, or update its score if it "
       "already exists",
       // Elements: the members of the form without options (with NX, XX,
       // GT, LT, CH or INCR the prefetch names wrong arguments: a hint
       // wasted, never a different result).
       "1.2.0", 1, 1, 3, 2},
      {"zincrby", 4, kW | kCmdPipelined | kCmdFast, ZIncrByCommand,
       "Increment the score of a member in a sorted set", "1.2.0", 1, 1, 3},
      {"zrem", -3, kW | kCmdPipelined | kCmdFast, ZRemCommand,
       "Remove one or more members from a sorted set", "1.2.0", 1, 1, 2},
      {"zcard", 2, kR | kCmdFast, ZCardCommand,
       "Get the number of members in a sorted set", "1.2.0"},
      {"zscore", 3, kR | kCmdFast, ZScoreCommand,
       "Get the score associated with the given member in a sorted set",
       "1.2.0"},
      {"zmscore", -3, kR | kCmdFast, ZMScoreCommand,
       "Get the score associated with the given members in a sorted set",
       "6.2.0"},
      {"zrank", 3, kR | kCmdFast, ZRankCommand,
       "Determine the index of a member in a sorted set", "2.0.0"},
      {"zrevrank", 3, kR | kCmdFast, ZRevRankCommand,
       "Determine the index of a member in a sorted set, with scores ordered "
       "from high to low",
       "2.0.0"},
      {"zpopmin", -2, kW | kCmdPipelined | kCmdFast, ZPopMinCommand,
       "Remove and return members with the lowest scores in a sorted set",
       "5.0.0", 1, 1, 0, 1, PopEnd::kMin},
      {"zpopmax", -2, kW | kCmdPipelined | kCmdFast, ZPopMaxCommand,
       "Remove and return members with the highest scores in a sorted set",
       "5.0.0", 1, 1, 0, 1, PopEnd::kMax},
      {"zrandmember", -2, kR, ZRandMemberCommand,
       "Get one or multiple random elements from a sorted set", "6.2.0"},
      {"zscan", -3, kR, ZScanCommand,
       "Incrementally iterate sorted sets elements and associated scores",
       "2.8.0"},
  };
  AddCollCommands(t, "sorted-set", kCommands);
  RegisterZsetRangeCommands(t);
  RegisterZsetAlgebraCommands(t);
}

}  // namespace daxkv::kv
