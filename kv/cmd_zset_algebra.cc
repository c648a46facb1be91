// ZUNION, ZINTER, ZDIFF (WEIGHTS, AGGREGATE, WITHSCORES), their *STORE
// forms, ZINTERCARD and ZMPOP. Inputs may be sets (every member scores 1),
// as in Redis. A *STORE reads its sources and replaces its destination in
// one Txn: all or nothing, and a destination among the sources works.
#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "kv/coll_run.h"
#include "kv/command.h"
#include "kv/zset_args.h"

namespace daxkv::kv {
namespace {

using engine::KeyType;
using engine::ReadOps;
using engine::Txn;

enum class ZOp { kUnion, kInter, kDiff };
enum class Aggregate { kSum, kMin, kMax };

struct ZOpArgs {
  ZOp op = ZOp::kUnion;
  std::span<const std::string_view> keys = {};
  std::vector<double> weights = {};
  Aggregate aggregate = Aggregate::kSum;
  bool with_scores = false;
  int64_t limit = 0;  // ZINTERCARD
  // An option error: Redis finds it after the keys' type check, so it is
  // replied by the body once the inputs' types passed.
  std::string option_error = {};
};

// The options after the keys; an error goes to a->option_error.
void ParseZOpOptions(CommandContext& ctx, size_t first, bool store, bool card,
                     ZOpArgs* a);

// Redis 7.0's zunionInterDiffGenericCommand: numkeys, then (after the
// keys' type check, done in the Txn) the options. `store`: a *STORE form;
// `card`: ZINTERCARD.
bool ParseZOpArgs(CommandContext& ctx, size_t numkeys_at, bool store, bool card,
                  ZOpArgs* a) {
  int64_t n = 0;
  if (!ParseIntArg(ctx, ctx.argv[numkeys_at], &n)) return false;
  if (n < 1) {
    ctx.out.Error("ERR at least 1 input key is needed for '" +
                  ToLower(ctx.argv[0]) + "' command");
    return false;
  }
  if (n > static_cast<int64_t>(ctx.argv.size() - numkeys_at - 1)) {
    ReplySyntaxError(ctx);
    return false;
  }
  a->keys = ctx.argv.subspan(numkeys_at + 1, static_cast<size_t>(n));
  a->weights.assign(a->keys.size(), 1.0);
  ParseZOpOptions(ctx, numkeys_at + 1 + a->keys.size(), store, card, a);
  return true;
}

void ParseZOpOptions(CommandContext& ctx, size_t first, bool store, bool card,
                     ZOpArgs* a) {
  const bool weighted = a->op != ZOp::kDiff && !card;
  for (size_t j = first; j < ctx.argv.size();) {
    const size_t left = ctx.argv.size() - j;
    std::string_view o = ctx.argv[j];
    if (weighted && left >= a->keys.size() + 1 &&
        EqualsIgnoreCase(o, "weights")) {
      for (size_t i = 0; i < a->keys.size(); ++i) {
        if (!ParseScore(ctx.argv[j + 1 + i], &a->weights[i])) {
          a->option_error = "ERR weight value is not a float";
          return;
        }
      }
      j += a->keys.size() + 1;
    } else if (weighted && left >= 2 && EqualsIgnoreCase(o, "aggregate")) {
      std::string_view v = ctx.argv[j + 1];
      if (EqualsIgnoreCase(v, "sum")) {
        a->aggregate = Aggregate::kSum;
      } else if (EqualsIgnoreCase(v, "min")) {
        a->aggregate = Aggregate::kMin;
      } else if (EqualsIgnoreCase(v, "max")) {
        a->aggregate = Aggregate::kMax;
      } else {
        a->option_error = kErrSyntax;
        return;
      }
      j += 2;
    } else if (!store && !card && EqualsIgnoreCase(o, "withscores")) {
      a->with_scores = true;
      j += 1;
    } else if (card && left >= 2 && EqualsIgnoreCase(o, "limit")) {
      if (!ParseInt64(ctx.argv[j + 1], &a->limit) || a->limit < 0) {
        a->option_error = "ERR LIMIT can't be negative";
        return;
      }
      j += 2;
    } else {
      a->option_error = kErrSyntax;
      return;
    }
  }
}

using ScoreMap = std::unordered_map<std::string, double>;

// One input as member -> weighted score (a set's members score 1); a
// NaN product (0 * inf) is kept: Compute decides, as Redis does.
StatusOr<ScoreMap> ReadInput(ReadOps& ops, std::string_view key,
                             double weight) {
  DAXKV_ASSIGN_OR_RETURN(engine::KeyInfo info, ops.Stat(key));
  ScoreMap m;
  auto add = [&](std::string_view member, double score) {
    m.emplace(member, score * weight);
    return true;
  };
  if (info.type == KeyType::kZset) {
    DAXKV_RETURN_IF_ERROR(ops.ZRangeByRank(key, {0, -1}, false, add));
  } else if (info.type == KeyType::kSet) {
    DAXKV_RETURN_IF_ERROR(
        ops.SetForEach(key, [&](std::string_view s) { return add(s, 1.0); }));
  } else if (info.type != KeyType::kNone) {
    return engine::WrongTypeError();
  }
  return m;
}

double Combine(Aggregate agg, double a, double b) {
  if (agg == Aggregate::kMin) return std::min(a, b);
  if (agg == Aggregate::kMax) return std::max(a, b);
  double sum = a + b;
  return std::isnan(sum) ? 0.0 : sum;
}

// The result ordered as a sorted set: by score, then member.
StatusOr<Scored> Compute(ReadOps& ops, const ZOpArgs& a) {
  std::vector<ScoreMap> inputs;
  for (size_t i = 0; i < a.keys.size(); ++i) {
    DAXKV_ASSIGN_OR_RETURN(ScoreMap m, ReadInput(ops, a.keys[i], a.weights[i]));
    inputs.push_back(std::move(m));
  }
  if (!a.option_error.empty()) return CommandError(a.option_error);
  auto zero_nan = [](double v) { return std::isnan(v) ? 0.0 : v; };
  if (a.op != ZOp::kDiff) {
    // Redis 7.0 aggregates the inputs from the smallest to the largest
    // (a stable qsort), which decides where a NaN weighted score lands: a
    // union maps each one to 0 before aggregating it; an intersection
    // only the smallest input's, and MIN/MAX then keep the other side of
    // a NaN while SUM maps a NaN sum to 0.
    std::stable_sort(inputs.begin(), inputs.end(),
                     [](const ScoreMap& x, const ScoreMap& y) {
                       return x.size() < y.size();
                     });
    for (auto& [m, s] : inputs[0]) s = zero_nan(s);
  }
  ScoreMap result = std::move(inputs[0]);
  for (size_t i = 1; i < inputs.size(); ++i) {
    ScoreMap& in = inputs[i];
    if (a.op == ZOp::kUnion) {
      for (auto& [m, raw] : in) {
        const double s = zero_nan(raw);
        auto [it, fresh] = result.emplace(m, s);
        if (!fresh) it->second = Combine(a.aggregate, it->second, s);
      }
      continue;
    }
    for (auto it = result.begin(); it != result.end();) {
      auto other = in.find(it->first);
      const bool drop = (a.op == ZOp::kInter) == (other == in.end());
      if (drop) {
        it = result.erase(it);
        continue;
      }
      if (a.op == ZOp::kInter) {
        it->second = Combine(a.aggregate, it->second, other->second);
      }
      ++it;
    }
  }
  Scored out(result.begin(), result.end());
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    return x.second != y.second ? x.second < y.second : x.first < y.first;
  });
  return out;
}

void ZOpCommand(CommandContext& ctx, ZOp op) {
  ZOpArgs a{.op = op};
  if (!ParseZOpArgs(ctx, 1, false, false, &a)) return;
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(Scored result, Compute(ops, a));
    ReplyScored(call.out, result, a.with_scores);
    return OkStatus();
  });
}

void ZOpStoreCommand(CommandContext& ctx, ZOp op) {
  ZOpArgs a{.op = op};
  if (!ParseZOpArgs(ctx, 2, true, false, &a)) return;
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(Scored result, Compute(txn, a));
    std::string_view dst = ctx.argv[1];
    return StoreZset(txn, call, dst, result);
  });
}

void ZUnionCommand(CommandContext& ctx) { ZOpCommand(ctx, ZOp::kUnion); }
void ZInterCommand(CommandContext& ctx) { ZOpCommand(ctx, ZOp::kInter); }
void ZDiffCommand(CommandContext& ctx) { ZOpCommand(ctx, ZOp::kDiff); }
void ZUnionStoreCommand(CommandContext& ctx) {
  ZOpStoreCommand(ctx, ZOp::kUnion);
}
void ZInterStoreCommand(CommandContext& ctx) {
  ZOpStoreCommand(ctx, ZOp::kInter);
}
void ZDiffStoreCommand(CommandContext& ctx) {
  ZOpStoreCommand(ctx, ZOp::kDiff);
}

void ZInterCardCommand(CommandContext& ctx) {
  ZOpArgs a{.op = ZOp::kInter};
  if (!ParseZOpArgs(ctx, 1, false, true, &a)) return;
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(Scored result, Compute(ops, a));
    const int64_t n = static_cast<int64_t>(result.size());
    call.out.Integer(a.limit > 0 && n > a.limit ? a.limit : n);
    return OkStatus();
  });
}

// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
void ZMPopCommand(CommandContext& ctx) {
  MpopArgs a;
  if (!ParseMpopArgs(ctx, "min", "max", &a)) return;
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    for (std::string_view key : a.keys) {
      DAXKV_ASSIGN_OR_RETURN(uint64_t n, CollSize(txn, key, KeyType::kZset));
      if (n == 0) continue;
      Scored popped;
      DAXKV_RETURN_IF_ERROR(txn.ZPop(key, !a.first_side,
                                     static_cast<uint64_t>(a.count),
                                     [&](std::string_view m, double score) {
                                       popped.emplace_back(m, score);
                                       return true;
                                     }));
      call.Modified(key);
      call.out.ArrayHeader(2);
      call.out.Bulk(key);
      call.out.ArrayHeader(popped.size());
      for (const auto& [m, score] : popped) {
        call.out.ArrayHeader(2);
        call.out.Bulk(m);
        call.out.Double(score);
      }
      return OkStatus();
    }
    call.out.NullArray();
    return OkStatus();
  });
}

}  // namespace

void RegisterZsetAlgebraCommands(CommandTable* t) {
  constexpr uint32_t kW = kCmdWrite;
  constexpr uint32_t kR = kCmdReadOnly;
  // Sources follow numkeys: the Txn locks them on first use.
  static constexpr CollCommand kCommands[] = {
      {"zunion", -3, kR, ZUnionCommand, "Add multiple sorted sets", "6.2.0", 0,
       0},
      {"zinter", -3, kR, ZInterCommand, "Intersect multiple sorted sets",
       "6.2.0", 0, 0},
      {"zdiff", -3, kR, ZDiffCommand, "Subtract multiple sorted sets", "6.2.0",
       0, 0},
      {"zunionstore", -4, kW, ZUnionStoreCommand,
       "Add multiple sorted sets and store the resulting sorted set in a new "
       "key",
       "2.0.0"},
      {"zinterstore", -4, kW, ZInterStoreCommand,
       "Intersect multiple sorted sets and store the resulting sorted set in "
       "a new key",
       "2.0.0"},
      {"zdiffstore", -4, kW, ZDiffStoreCommand,
       "Subtract multiple sorted sets and store the resulting sorted set in a "
       "new key",
       "6.2.0"},
      {"zintercard", -3, kR, ZInterCardCommand,
       "Intersect multiple sorted sets and return the cardinality of the "
       "result",
       "7.0.0", 0, 0},
      {"zmpop", -4, kW, ZMPopCommand,
       "Remove and return members with scores in a sorted set", "7.0.0", 0, 0},
  };
  AddCollCommands(t, "sorted-set", kCommands);
}

}  // namespace daxkv::kv
