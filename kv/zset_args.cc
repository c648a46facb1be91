#include "kv/zset_args.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include "kv/numbers.h"

namespace daxkv::kv {

bool ParseScore(std::string_view s, double* out) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) {
    return false;
  }
  std::string buf(s);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(buf.c_str(), &end);
  if (end != buf.c_str() + buf.size() || std::isnan(v)) return false;
  if (errno == ERANGE &&
      (v == HUGE_VAL || v == -HUGE_VAL || std::fpclassify(v) == FP_ZERO)) {
    return false;
  }
  *out = v;
  return true;
}

namespace {

bool ParseScoreBound(std::string_view s, double* v, bool* exclusive) {
  *exclusive = !s.empty() && s[0] == '(';
  if (*exclusive) s.remove_prefix(1);
  // zslParseRange: strtod without ParseScore's checks ("" and "(" are 0)
  // on the C string, which ends at a NUL byte ("\0x" is 0 too).
  std::string buf(s);
  char* end = nullptr;
  *v = std::strtod(buf.c_str(), &end);
  return *end == '\0' && !std::isnan(*v);
}

bool ParseLexBound(std::string_view s, engine::LexBound* b) {
  using Kind = engine::LexBound::Kind;
  if (s == "-") {
    b->kind = Kind::kMinusInf;
  } else if (s == "+") {
    b->kind = Kind::kPlusInf;
  } else if (!s.empty() && (s[0] == '[' || s[0] == '(')) {
    b->kind = s[0] == '[' ? Kind::kInclusive : Kind::kExclusive;
    b->value = std::string(s.substr(1));
  } else {
    return false;
  }
  return true;
}

}  // namespace

bool ParseScoreRange(std::string_view min, std::string_view max,
                     engine::ScoreRange* range) {
  return ParseScoreBound(min, &range->min, &range->min_exclusive) &&
         ParseScoreBound(max, &range->max, &range->max_exclusive);
}

bool ParseLexRange(std::string_view min, std::string_view max,
                   engine::LexRange* range) {
  return ParseLexBound(min, &range->min) && ParseLexBound(max, &range->max);
}

void ReplyScoredHeader(ReplyWriter& out, uint64_t n, bool with_scores) {
  // RESP3 pairs each member with its score; RESP2 flattens them.
  const bool pairs = with_scores && out.resp() >= 3;
  out.ArrayHeader(with_scores && !pairs ? 2 * n : n);
}

void ReplyScoredItem(ReplyWriter& out, std::string_view member, double score,
                     bool with_scores) {
  if (with_scores && out.resp() >= 3) out.ArrayHeader(2);
  out.Bulk(member);
  if (with_scores) out.Double(score);
}

void ReplyScored(ReplyWriter& out, const Scored& items, bool with_scores) {
  ReplyScoredHeader(out, items.size(), with_scores);
  for (const auto& [member, score] : items) {
    ReplyScoredItem(out, member, score, with_scores);
  }
}

Status StoreZset(engine::Txn& txn, CollCall& call, std::string_view dst,
                 const Scored& items) {
  bool existed = false;
  DAXKV_RETURN_IF_ERROR(txn.Delete(dst, &existed));
  engine::ZAddResult r;
  for (const auto& [m, score] : items) {
    DAXKV_RETURN_IF_ERROR(txn.ZAdd(dst, m, score, {}, &r));
  }
  if (existed || !items.empty()) call.Modified(dst);
  call.out.Integer(static_cast<int64_t>(items.size()));
  return OkStatus();
}

std::string FormatScore(double score) {
  if (std::isinf(score)) return score > 0 ? "inf" : "-inf";
  // d2string prints an integral value inside long long's range as one.
  constexpr double kTwo63 = 9223372036854775808.0;
  if (score == std::trunc(score) && score > -kTwo63 && score < kTwo63 &&
      score != 0) {
    return std::to_string(static_cast<long long>(score));
  }
  return FormatG17(score);
}

}  // namespace daxkv::kv
