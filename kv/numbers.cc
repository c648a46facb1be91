#include "kv/numbers.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace daxkv::kv {

// Redis's string2ld: the whole string must be a number, no leading space.
bool ParseLongDouble(std::string_view s, long double* out) {
  if (s.empty() || s.size() >= 5 * 1024) return false;
  if (std::isspace(static_cast<unsigned char>(s[0]))) return false;
  std::string buf(s);
  char* end = nullptr;
  errno = 0;
  long double v = std::strtold(buf.c_str(), &end);
  if (end != buf.c_str() + buf.size() || std::isnan(v)) return false;
  if (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || v == 0)) {
    return false;
  }
  *out = v;
  return true;
}

namespace {

// The length of buf[0, n) without the trailing zeros of its fraction (and
// the point when nothing is left after it).
int TrimFraction(const char* buf, int n) {
  if (std::memchr(buf, '.', static_cast<size_t>(n)) != nullptr) {
    while (buf[n - 1] == '0') --n;
    if (buf[n - 1] == '.') --n;
  }
  return n;
}

}  // namespace

// Redis's ld2string(LD_STR_HUMAN): %.17Lf without trailing zeros.
std::string FormatLongDouble(long double v) {
  char buf[5 * 1024];
  int n = std::snprintf(buf, sizeof(buf), "%.17Lf", v);
  if (n < 0 || static_cast<size_t>(n) >= sizeof(buf)) return "";
  n = TrimFraction(buf, n);
  if (n == 2 && buf[0] == '-' && buf[1] == '0') return "0";
  return std::string(buf, static_cast<size_t>(n));
}

std::string FormatFixedTrimmed(double v) {
  char buf[512];
  const int n = std::snprintf(buf, sizeof(buf), "%f", v);
  if (n < 0 || static_cast<size_t>(n) >= sizeof(buf)) return "";
  return std::string(buf, static_cast<size_t>(TrimFraction(buf, n)));
}

size_t FormatG17(double v, char* buf) {
  const std::to_chars_result r =
      std::to_chars(buf, buf + kG17Max, v, std::chars_format::general, 17);
  return static_cast<size_t>(r.ptr - buf);
}

std::string FormatG17(double v) {
  char buf[kG17Max];
  return std::string(buf, FormatG17(v, buf));
}

}  // namespace daxkv::kv
