#include "rdb/lzf.h"

#include <lzf.h>

#include <climits>

namespace daxkv::rdb {

bool LzfCompress(std::string_view in, std::string* out) {
  if (in.size() <= 4 || in.size() > UINT_MAX) return false;
  size_t limit = in.size() - 4;
  out->resize(limit);
  unsigned int n = lzf_compress(in.data(), static_cast<unsigned int>(in.size()),
                                out->data(), static_cast<unsigned int>(limit));
  if (n == 0) return false;
  out->resize(n);
  return true;
}

bool LzfDecompress(std::string_view in, size_t out_len, std::string* out) {
  if (out_len > LzfMaxExpansion(in.size()) || in.size() > UINT_MAX ||
      out_len > UINT_MAX) {
    return false;
  }
  out->resize(out_len);
  // Redis accepts an empty result whatever the input (lzf_decompress returns
  // 0 == len); so does daxkv.
  if (out_len == 0) return true;
  unsigned int n =
      lzf_decompress(in.data(), static_cast<unsigned int>(in.size()),
                     out->data(), static_cast<unsigned int>(out_len));
  return n == out_len;
}

}  // namespace daxkv::rdb
