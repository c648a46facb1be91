// CRC-64/Jones, the checksum of Redis's RDB files and DUMP payloads
// (reflected polynomial 0xad93d23594c935a9, initial value 0, no final xor:
// crc64(0, "123456789") == 0xe9c6d914c4b8d9ca, as Redis's crc64.c).
//
// No Debian package provides this variant, so it lives here: slicing-by-8
// tables built at compile time.
//
// Thread-safety: pure functions, safe to call concurrently.
#ifndef DAXKV_RDB_CRC64_H_
#define DAXKV_RDB_CRC64_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace daxkv::rdb::crc64 {

// Returns the CRC of concat(A, data[0, n)) where `crc` is the CRC of some
// string A; Extend(0, data, n) is the CRC of data.
uint64_t Extend(uint64_t crc, const void* data, size_t n);

inline uint64_t Extend(uint64_t crc, std::string_view s) {
  return Extend(crc, s.data(), s.size());
}
inline uint64_t Value(std::string_view s) { return Extend(0, s); }

}  // namespace daxkv::rdb::crc64

#endif  // DAXKV_RDB_CRC64_H_
