// Small text helpers shared by daxkv-inspect's renderers.
#ifndef DAXKV_TOOLS_INSPECT_FORMAT_H_
#define DAXKV_TOOLS_INSPECT_FORMAT_H_

#include <cstdint>
#include <string>

#include "base/byte_size.h"  // HumanBytes, for every renderer

namespace daxkv::inspect {

// 4096 -> "0x1000".
std::string Hex(uint64_t v);
// -1 -> "-", else the number.
std::string NodeText(int node);

}  // namespace daxkv::inspect

#endif  // DAXKV_TOOLS_INSPECT_FORMAT_H_
