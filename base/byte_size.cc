#include "base/byte_size.h"

#include <charconv>
#include <cstdio>

namespace daxkv {
namespace {

bool EqualsLower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// The multiplier `unit` names, or 0 when it names none.
uint64_t UnitMultiplier(std::string_view unit) {
  struct Unit {
    std::string_view spelling;  // lower case
    int shift;
  };
  static constexpr Unit kUnits[] = {
      {"", 0},     {"b", 0},   {"k", 10},   {"kb", 10},  {"kib", 10},
      {"m", 20},   {"mb", 20}, {"mib", 20}, {"g", 30},   {"gb", 30},
      {"gib", 30}, {"t", 40},  {"tb", 40},  {"tib", 40},
  };
  for (const Unit& u : kUnits) {
    if (EqualsLower(unit, u.spelling)) return uint64_t{1} << u.shift;
  }
  return 0;
}

}  // namespace

bool ParseByteSize(std::string_view text, uint64_t* bytes) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  uint64_t number = 0;
  const char* end = text.data() + text.size();
  auto [rest, ec] = std::from_chars(text.data(), end, number, base);
  if (ec != std::errc() || rest == text.data()) return false;
  const uint64_t multiplier =
      UnitMultiplier(std::string_view(rest, end - rest));
  if (multiplier == 0 || number > UINT64_MAX / multiplier) return false;
  *bytes = number * multiplier;
  return true;
}

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  constexpr int kLargest = 4;
  int unit = 0;
  for (uint64_t whole = bytes; whole >= 1024 && unit < kLargest;
       whole /= 1024) {
    ++unit;
  }
  const uint64_t scale = uint64_t{1} << (10 * unit);
  char buf[48];
  if (bytes % scale == 0) {
    std::snprintf(buf, sizeof(buf), "%llu %s",
                  static_cast<unsigned long long>(bytes / scale), kUnits[unit]);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s",
                  static_cast<double>(bytes) / static_cast<double>(scale),
                  kUnits[unit]);
  }
  return buf;
}

}  // namespace daxkv
