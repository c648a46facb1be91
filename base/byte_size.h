// Byte sizes as people write them (command-line flags, config files) and as
// the tools print them. One grammar for every daxkv program.
//
// Thread-safety: pure functions.
#ifndef DAXKV_BASE_BYTE_SIZE_H_
#define DAXKV_BASE_BYTE_SIZE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace daxkv {

// Parses NUMBER [UNIT] into bytes; false on anything else or on overflow.
//   NUMBER: decimal digits ("010" is ten), or hex after "0x"/"0X".
//   UNIT:   binary multiples, case-insensitive: none or b (bytes), k, kb,
//           kib (2^10), m, mb, mib (2^20), g, gb, gib (2^30), t, tb, tib
//           (2^40). After hex digits a "b" is a digit, not a unit.
// No sign, no spaces, no fractions: "4096", "64M", "1g", "2KiB", "0x1000".
[[nodiscard]] bool ParseByteSize(std::string_view text, uint64_t* bytes);

// The size in the largest binary unit it reaches, exact when whole:
// 512 -> "512 B", 2097152 -> "2 MiB", 1610612736 -> "1.5 GiB" (one
// decimal otherwise), up to TiB.
std::string HumanBytes(uint64_t bytes);

}  // namespace daxkv

#endif  // DAXKV_BASE_BYTE_SIZE_H_
