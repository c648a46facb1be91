// Small text helpers shared by daxkv-inspect's renderers.
#ifndef DAXKV_TOOLS_INSPECT_FORMAT_H_
#define DAXKV_TOOLS_INSPECT_FORMAT_H_

#include <cstdint>
#include <string>

namespace daxkv::inspect {

// 2097152 -> "2 MiB", 1610612736 -> "1.5 GiB", 512 -> "512 B".
std::string HumanBytes(uint64_t bytes);
// 4096 -> "0x1000".
std::string Hex(uint64_t v);
// -1 -> "-", else the number.
std::string NodeText(int node);

}  // namespace daxkv::inspect

#endif  // DAXKV_TOOLS_INSPECT_FORMAT_H_
