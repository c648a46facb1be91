#include "rdb/input.h"

#include <cstring>
#include <limits>

#include "rdb/bytes.h"
#include "rdb/lzf.h"
#include "rdb/numbers.h"

namespace daxkv::rdb {

Rd Input::Short(size_t more) {
  size_t need = pos_ + more;
  if (need > needed_) needed_ = need;
  return Rd::kShort;
}

Rd Input::Fail(std::string message) {
  error_ = std::move(message);
  return Rd::kBad;
}

Rd Input::Unsupported(std::string message) {
  error_ = std::move(message);
  return Rd::kUnsupported;
}

Rd Input::Byte(uint8_t* b) {
  if (remaining() < 1) return Short(1);
  *b = static_cast<uint8_t>(window_[pos_++]);
  return Rd::kOk;
}

Rd Input::Bytes(size_t n, std::string_view* out) {
  // Anything near SIZE_MAX would overflow the position arithmetic; no real
  // RDB holds a single item of 2^62 bytes.
  if (n > (std::numeric_limits<size_t>::max() >> 2)) {
    return Fail("length " + std::to_string(n) + " is impossibly large");
  }
  if (remaining() < n) return Short(n);
  *out = window_.substr(pos_, n);
  pos_ += n;
  return Rd::kOk;
}

Rd Input::FixedLE(size_t width, uint64_t* v) {
  std::string_view b;
  DAXKV_RD(Bytes(width, &b));
  *v = LoadLE(b.data(), width);
  return Rd::kOk;
}

Rd Input::Len(uint64_t* len) {
  uint8_t b;
  DAXKV_RD(Byte(&b));
  switch (b >> 6) {
    case 0:
      *len = b & 0x3F;
      return Rd::kOk;
    case 1: {
      uint8_t b2;
      DAXKV_RD(Byte(&b2));
      *len = (static_cast<uint64_t>(b & 0x3F) << 8) | b2;
      return Rd::kOk;
    }
    case 3:
      return Fail("an encoded string where a length was expected");
    default:
      break;
  }
  size_t width = b == 0x80 ? 4 : b == 0x81 ? 8 : 0;
  if (width == 0) return Fail("unknown length encoding " + std::to_string(b));
  std::string_view bytes;
  DAXKV_RD(Bytes(width, &bytes));
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<uint8_t>(c);
  *len = v;
  return Rd::kOk;
}

Rd Input::String(std::string* out) {
  uint8_t b;
  DAXKV_RD(Byte(&b));
  if ((b >> 6) != 3) {
    --pos_;
    uint64_t len;
    DAXKV_RD(Len(&len));
    std::string_view bytes;
    DAXKV_RD(Bytes(len, &bytes));
    out->assign(bytes);
    return Rd::kOk;
  }
  uint8_t enc = b & 0x3F;
  if (enc <= 2) {  // int8, int16, int32, little-endian
    size_t width = size_t{1} << enc;
    std::string_view bytes;
    DAXKV_RD(Bytes(width, &bytes));
    *out = Int64ToString(
        SignExtend(LoadLE(bytes.data(), width), static_cast<int>(8 * width)));
    return Rd::kOk;
  }
  if (enc != 3) return Fail("unknown string encoding " + std::to_string(enc));
  uint64_t clen, len;
  DAXKV_RD(Len(&clen));
  DAXKV_RD(Len(&len));
  if (len > LzfMaxExpansion(clen)) {
    return Fail("LZF string claims " + std::to_string(len) + " bytes from " +
                std::to_string(clen));
  }
  std::string_view packed;
  DAXKV_RD(Bytes(clen, &packed));
  if (!LzfDecompress(packed, len, out)) return Fail("invalid LZF string");
  return Rd::kOk;
}

Rd Input::BinaryDouble(double* v) {
  uint64_t bits;
  DAXKV_RD(FixedLE(8, &bits));
  std::memcpy(v, &bits, sizeof(*v));
  return Rd::kOk;
}

Rd Input::LegacyDouble(double* v) {
  uint8_t len;
  DAXKV_RD(Byte(&len));
  switch (len) {
    case 253:
      *v = std::numeric_limits<double>::quiet_NaN();
      return Rd::kOk;
    case 254:
      *v = std::numeric_limits<double>::infinity();
      return Rd::kOk;
    case 255:
      *v = -std::numeric_limits<double>::infinity();
      return Rd::kOk;
    default:
      break;
  }
  std::string_view text;
  DAXKV_RD(Bytes(len, &text));
  if (!ParseScore(text, v)) return Fail("invalid score string");
  return Rd::kOk;
}

}  // namespace daxkv::rdb
