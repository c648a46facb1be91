// Redis's long double conversions (INCRBYFLOAT, HINCRBYFLOAT).
#ifndef DAXKV_KV_NUMBERS_H_
#define DAXKV_KV_NUMBERS_H_

#include <string>
#include <string_view>

namespace daxkv::kv {

// Redis's string2ld: the whole string must be a number (no leading space,
// not NaN, not out of range).
bool ParseLongDouble(std::string_view s, long double* out);
// Redis's ld2string(LD_STR_HUMAN): %.17Lf without trailing zeros.
std::string FormatLongDouble(long double v);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_NUMBERS_H_
