// LZF through Debian's liblzf, which speaks the format of the copy Redis
// bundles (both are liblzf 3.6).
//
// The compressor's output is valid LZF but not byte-for-byte stable: liblzf
// (like Redis's copy) leaves its hash table uninitialised, so two runs may
// pick different matches. Anything comparing payloads byte for byte must
// compare decompressed contents where LZF was used.
//
// Thread-safety: pure functions.
#ifndef DAXKV_RDB_LZF_H_
#define DAXKV_RDB_LZF_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace daxkv::rdb {

// rdbSaveLzfStringObject's rule: compresses `in` into *out only when that
// saves at least 4 bytes (so never for inputs of 4 bytes or less); returns
// false, leaving *out unspecified, otherwise.
bool LzfCompress(std::string_view in, std::string* out);

// The largest output LZF can produce from `compressed_len` input bytes (a
// 3-byte back reference expands to at most 264 bytes). A claimed length
// above this is corrupt; checking it first keeps a hostile length from
// allocating memory.
inline constexpr size_t LzfMaxExpansion(size_t compressed_len) {
  return compressed_len * 88;
}

// Decompresses `in`, which must expand to exactly `out_len` bytes; false
// when it does not (corrupt input) or out_len exceeds LzfMaxExpansion.
bool LzfDecompress(std::string_view in, size_t out_len, std::string* out);

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_LZF_H_
