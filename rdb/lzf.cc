#include "rdb/lzf.h"

#include <lzf.h>

#include <climits>
#include <memory>
#include <new>

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
  // Redis accepts an empty result whatever the input (lzf_decompress returns
  // 0 == len); so does daxkv.
  if (out_len == 0) {
    out->clear();
    return true;
  }
  // The length is still a claim: decompress into memory that is neither
  // zero-filled nor kept, so a corrupt claim touches only the pages the
  // decompressor really writes, and an impossible one fails cleanly.
  std::unique_ptr<char[]> buf(new (std::nothrow) char[out_len]);
  if (!buf) return false;
  unsigned int n =
      lzf_decompress(in.data(), static_cast<unsigned int>(in.size()), buf.get(),
                     static_cast<unsigned int>(out_len));
  if (n != out_len) return false;
  out->assign(buf.get(), out_len);
  return true;
}

}  // namespace daxkv::rdb
