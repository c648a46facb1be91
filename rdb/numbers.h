// Redis's number <-> string conversions where the RDB format depends on them
// byte for byte (util.c's string2ll, ll2string and d2string as of 7.0).
//
// Thread-safety: pure functions.
#ifndef DAXKV_RDB_NUMBERS_H_
#define DAXKV_RDB_NUMBERS_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace daxkv::rdb {

// string2ll: true when `s` is exactly the canonical decimal form of an int64
// ("0", "-12"; never "+1", "007", "-0", " 1" or an overflow). Such strings,
// and only those, round-trip through Int64ToString unchanged, which is why
// Redis may store them as integers.
bool ParseCanonicalInt64(std::string_view s, int64_t* value);

std::string Int64ToString(int64_t v);

// d2string as Redis 7.0 formats a sorted-set score inside a listpack or
// ziplist: "inf", "-inf", the integer form when the value is integral and
// within +-2^52 (so -0.0 becomes "0"), otherwise "%.17g".
std::string ScoreToListpackString(double score);

// Parses a score as Redis's strtod does ("1.5", "-inf", "1e+20"). False when
// the whole string is not a number, or it is NaN.
bool ParseScore(std::string_view s, double* score);

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_NUMBERS_H_
