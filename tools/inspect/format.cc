#include "tools/inspect/format.h"

#include <cstdio>

namespace daxkv::inspect {

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string NodeText(int node) { return node < 0 ? "-" : std::to_string(node); }

}  // namespace daxkv::inspect
