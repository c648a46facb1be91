// Little-endian integers and the framing shared by Redis's length-prefixed
// blobs (listpack, ziplist: a u32 total size first, a 0xFF terminator last).
//
// Thread-safety: pure functions.
#ifndef DAXKV_RDB_BYTES_H_
#define DAXKV_RDB_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace daxkv::rdb {

// The unsigned little-endian integer of `width` (1..8) bytes at p.
inline uint64_t LoadLE(const void* p, size_t width) {
  const auto* b = static_cast<const uint8_t*>(p);
  uint64_t v = 0;
  for (size_t i = width; i-- > 0;) v = (v << 8) | b[i];
  return v;
}

// The low `bits` bits of v as a two's-complement signed number.
inline int64_t SignExtend(uint64_t v, int bits) {
  uint64_t sign = uint64_t{1} << (bits - 1);
  uint64_t mask = bits == 64 ? ~uint64_t{0} : (sign << 1) - 1;
  return static_cast<int64_t>(((v & mask) ^ sign) - sign);
}

inline void AppendLE(std::string* out, uint64_t v, size_t width) {
  for (size_t i = 0; i < width; ++i) {
    out->push_back(static_cast<char>(v >> (8 * i)));
  }
}

// True when `blob` is at least header_size + 1 bytes, its first four bytes
// (little-endian) equal its size and its last byte is 0xFF; otherwise sets
// *error, naming the structure `what`.
bool CheckSizedBlob(std::string_view blob, size_t header_size, const char* what,
                    std::string* error);

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_BYTES_H_
