// Bit-level primitives of the bitmap commands (kv/cmd_bitmap.cc), on plain
// byte strings, with Redis's bit order (bit 0 is the most significant bit
// of byte 0) and Redis's argument rules. No engine, no replies: the unit
// tests and the fuzzer drive them directly.
//
// Thread-safety: pure functions.
#ifndef DAXKV_KV_BITOPS_H_
#define DAXKV_KV_BITOPS_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace daxkv::kv {

// Set bits in bits [first, last] of s. REQUIRES: last < 8 * s.size().
uint64_t CountBits(std::string_view s, uint64_t first, uint64_t last);
// Position of the first bit equal to `bit` (0 or 1) in bits [first, last],
// or -1. REQUIRES: last < 8 * s.size().
int64_t FindBit(std::string_view s, uint64_t first, uint64_t last, int bit);

// BITCOUNT / BITPOS ranges: Redis's conversion of start/end (bytes, or bits
// with `in_bits`) over a string of `len` bytes, negative indexes counting
// from the end, clamped to the string. False when the range is empty;
// otherwise the bits it covers.
bool ResolveBitRange(int64_t start, int64_t end, bool in_bits, int64_t len,
                     uint64_t* first, uint64_t* last);

// A bit offset argument (SETBIT, GETBIT, BITFIELD): a non-negative integer
// whose byte is below `max_bytes` (proto-max-bulk-len); with `bits` > 0,
// "#N" means N * bits (BITFIELD). False when invalid ("ERR bit offset is
// not an integer or out of range").
bool ParseBitOffset(std::string_view arg, int bits, uint64_t max_bytes,
                    uint64_t* offset);

// BITFIELD's types: i1..i64 and u1..u63.
struct BitfieldType {
  bool is_signed = false;
  int bits = 0;
};
bool ParseBitfieldType(std::string_view arg, BitfieldType* type);

// Reads or writes `bits` bits at bit `offset`, most significant first; bytes
// past the end of s read as zero. Set grows s with zero bytes as needed.
uint64_t GetUnsignedBits(std::string_view s, uint64_t offset, int bits);
int64_t GetSignedBits(std::string_view s, uint64_t offset, int bits);
void SetBits(std::string* s, uint64_t offset, int bits, uint64_t value);

enum class BitfieldOverflow { kWrap, kSat, kFail };

// Whether value + incr leaves the type's range (1 above, -1 below, 0 no),
// with the value WRAP or SAT gives in *result (Redis's
// check*BitfieldOverflow). SET checks its value with incr = 0.
int CheckUnsignedOverflow(uint64_t value, int64_t incr, int bits,
                          BitfieldOverflow mode, uint64_t* result);
int CheckSignedOverflow(int64_t value, int64_t incr, int bits,
                        BitfieldOverflow mode, int64_t* result);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_BITOPS_H_
