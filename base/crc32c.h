// CRC32C (Castagnoli), the checksum of every daxkv media structure.
//
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at run
// time) and a table otherwise; both give identical results.
//
// Thread-safety: all functions are pure and safe to call concurrently.
#ifndef DAXKV_BASE_CRC32C_H_
#define DAXKV_BASE_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace daxkv::crc32c {

// Returns the CRC32C of concat(A, data[0, n)) where init_crc is the CRC32C
// of some string A. Extend(0, data, n) is the CRC32C of data.
uint32_t Extend(uint32_t init_crc, const void* data, size_t n);

inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

// True when the hardware path is in use (reported by tools and benchmarks).
bool IsAccelerated();

}  // namespace daxkv::crc32c

#endif  // DAXKV_BASE_CRC32C_H_
