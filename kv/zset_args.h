// Sorted-set arguments and replies shared by the zset commands: scores as
// Redis parses them (strtod, no NaN), score and lex ranges, and scored
// member lists in RESP2 (flat) and RESP3 (pairs with doubles).
#ifndef DAXKV_KV_ZSET_ARGS_H_
#define DAXKV_KV_ZSET_ARGS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/txn.h"
#include "kv/coll_run.h"
#include "kv/resp_writer.h"

namespace daxkv::kv {

inline constexpr std::string_view kErrNotFloat =
    "ERR value is not a valid float";

// Redis's getDoubleFromObject: the whole string, no leading space, no NaN.
bool ParseScore(std::string_view s, double* out);
// "(1.5", "-inf", "+inf", "3": Redis's zslParseRange.
bool ParseScoreRange(std::string_view min, std::string_view max,
                     engine::ScoreRange* range);
// "-", "+", "[a", "(a": Redis's zslParseLexRange.
bool ParseLexRange(std::string_view min, std::string_view max,
                   engine::LexRange* range);

using Scored = std::vector<std::pair<std::string, double>>;

// WITHSCORES replies: RESP2 member, score, member, score...; RESP3 an
// array of [member, double] pairs. Without scores: the members.
void ReplyScored(ReplyWriter& out, const Scored& items, bool with_scores);
// ReplyScored's parts, for a reply written while the members are walked:
// the header of `n` members, then each member.
void ReplyScoredHeader(ReplyWriter& out, uint64_t n, bool with_scores);
void ReplyScoredItem(ReplyWriter& out, std::string_view member, double score,
                     bool with_scores);
// The *STORE forms' end: `dst` replaced by `items` (deleted when empty),
// its watchers marked when it changed, the count replied.
Status StoreZset(engine::Txn& txn, CollCall& call, std::string_view dst,
                 const Scored& items);

// A score as Redis's d2string writes it (ZSCAN's bulk scores of a
// listpack-encoded sorted set; a skiplist's are FormatG17's, numbers.h).
std::string FormatScore(double score);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_ZSET_ARGS_H_
