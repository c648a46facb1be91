#include "tools/inspect/format.h"

#include <cstdio>

namespace daxkv::inspect {

std::string HumanBytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  uint64_t whole = bytes;
  while (whole >= 1024 && unit < 4) {
    whole /= 1024;
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

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string NodeText(int node) { return node < 0 ? "-" : std::to_string(node); }

}  // namespace daxkv::inspect
