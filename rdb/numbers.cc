#include "rdb/numbers.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace daxkv::rdb {

bool ParseCanonicalInt64(std::string_view s, int64_t* value) {
  if (s.empty() || s.size() > 20) return false;
  if (s == "0") {
    *value = 0;
    return true;
  }
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    i = 1;
  }
  if (i >= s.size() || s[i] < '1' || s[i] > '9') return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  if (negative) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    *value = static_cast<int64_t>(0 - v);
  } else {
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *value = static_cast<int64_t>(v);
  }
  return true;
}

std::string Int64ToString(int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

std::string ScoreToListpackString(double score) {
  if (std::isinf(score)) return score > 0 ? "inf" : "-inf";
  if (std::isnan(score)) return "nan";
  // The bounds and the round-trip test are d2string's: integral values in
  // (-(2^52-1), 2^52) print as integers.
  constexpr double kMin = -4503599627370495.0;
  constexpr double kMax = 4503599627370496.0;
  if (score > kMin && score < kMax &&
      score == static_cast<double>(static_cast<int64_t>(score))) {
    return Int64ToString(static_cast<int64_t>(score));
  }
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%.17g", score);
  return std::string(buf, static_cast<size_t>(n));
}

bool ParseScore(std::string_view s, double* score) {
  if (s.empty() || s.size() > 255) return false;
  char buf[256];
  s.copy(buf, s.size());
  buf[s.size()] = '\0';
  char* end = nullptr;
  double v = std::strtod(buf, &end);
  if (end != buf + s.size() || std::isnan(v)) return false;
  *score = v;
  return true;
}

}  // namespace daxkv::rdb
