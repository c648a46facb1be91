// Redis's number conversions: long doubles (INCRBYFLOAT, HINCRBYFLOAT) and
// the "%.17g" text of doubles (scores, RESP doubles, Lua numbers).
#ifndef DAXKV_KV_NUMBERS_H_
#define DAXKV_KV_NUMBERS_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace daxkv::kv {

// Redis's string2ld: the whole string must be a number (no leading space,
// not NaN, not out of range).
bool ParseLongDouble(std::string_view s, long double* out);
// Redis's ld2string(LD_STR_HUMAN): %.17Lf without trailing zeros.
std::string FormatLongDouble(long double v);
// "%f" without trailing zeros ("99.9", "50"): how Redis prints the
// latency-tracking-info-percentiles.
std::string FormatFixedTrimmed(double v);

// Bytes FormatG17 may write: sign, 17 digits, point, "e-308", with room.
inline constexpr size_t kG17Max = 32;
// Writes `v` as snprintf's "%.17g" would (Redis's addReplyDouble and
// d2string, "nan" and "-nan" included, infinities as "inf" and "-inf")
// into buf[0, kG17Max) and returns its length. std::to_chars with a
// precision is specified to print as printf does; it does so without
// printf's format parsing and multi-precision arithmetic, which were a
// tenth of a ZPOPMIN's server time.
size_t FormatG17(double v, char* buf);
// The same text as a string.
std::string FormatG17(double v);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_NUMBERS_H_
