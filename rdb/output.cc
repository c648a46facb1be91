#include "rdb/output.h"

#include <cstring>

#include "rdb/lzf.h"
#include "rdb/numbers.h"

namespace daxkv::rdb {
namespace {

constexpr uint8_t kEncInt8 = 0xC0;
constexpr uint8_t kEncInt16 = 0xC1;
constexpr uint8_t kEncInt32 = 0xC2;
constexpr uint8_t kEncLzf = 0xC3;

void Put(ByteSink* out, const uint8_t* p, size_t n) {
  out->Append(std::string_view(reinterpret_cast<const char*>(p), n));
}

// rdbEncodeInteger: false when v needs more than 32 bits.
bool WriteEncodedInt(ByteSink* out, int64_t v) {
  uint8_t b[5];
  if (v >= INT8_MIN && v <= INT8_MAX) {
    b[0] = kEncInt8;
    b[1] = static_cast<uint8_t>(v);
    Put(out, b, 2);
  } else if (v >= INT16_MIN && v <= INT16_MAX) {
    b[0] = kEncInt16;
    b[1] = static_cast<uint8_t>(v);
    b[2] = static_cast<uint8_t>(v >> 8);
    Put(out, b, 3);
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    b[0] = kEncInt32;
    for (int i = 0; i < 4; ++i) b[1 + i] = static_cast<uint8_t>(v >> (8 * i));
    Put(out, b, 5);
  } else {
    return false;
  }
  return true;
}

}  // namespace

void WriteByte(ByteSink* out, uint8_t b) { Put(out, &b, 1); }

void WriteLen(ByteSink* out, uint64_t len) {
  uint8_t b[9];
  if (len < (1u << 6)) {
    b[0] = static_cast<uint8_t>(len);
    Put(out, b, 1);
  } else if (len < (1u << 14)) {
    b[0] = static_cast<uint8_t>(0x40 | (len >> 8));
    b[1] = static_cast<uint8_t>(len);
    Put(out, b, 2);
  } else if (len <= UINT32_MAX) {
    b[0] = 0x80;
    for (int i = 0; i < 4; ++i)
      b[1 + i] = static_cast<uint8_t>(len >> (24 - 8 * i));
    Put(out, b, 5);
  } else {
    b[0] = 0x81;
    for (int i = 0; i < 8; ++i)
      b[1 + i] = static_cast<uint8_t>(len >> (56 - 8 * i));
    Put(out, b, 9);
  }
}

void WriteString(ByteSink* out, std::string_view s, bool compress) {
  int64_t v;
  if (s.size() <= 11 && ParseCanonicalInt64(s, &v) && WriteEncodedInt(out, v)) {
    return;
  }
  if (compress && s.size() > 20) {
    std::string packed;
    if (LzfCompress(s, &packed)) {
      WriteByte(out, kEncLzf);
      WriteLen(out, packed.size());
      WriteLen(out, s.size());
      out->Append(packed);
      return;
    }
  }
  WriteLen(out, s.size());
  out->Append(s);
}

void WriteBinaryDouble(ByteSink* out, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  WriteU64LE(out, bits);
}

void WriteU64LE(ByteSink* out, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  Put(out, b, 8);
}

}  // namespace daxkv::rdb
