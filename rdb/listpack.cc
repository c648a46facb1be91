#include "rdb/listpack.h"

#include <cstring>

#include "rdb/bytes.h"
#include "rdb/numbers.h"

namespace daxkv::rdb {
namespace {

constexpr size_t kHeaderSize = 6;
constexpr uint8_t kEof = 0xFF;

// lpEncodeBacklen: the entry length, 7 bits per byte, most significant
// first, every byte but the first flagged with 0x80.
size_t EncodeBacklen(uint64_t l, uint8_t* buf) {
  size_t n = l <= 127        ? 1
             : l < 16383     ? 2
             : l < 2097151   ? 3
             : l < 268435455 ? 4
                             : 5;
  for (size_t i = 0; i < n; ++i) {
    uint8_t b = static_cast<uint8_t>((l >> (7 * (n - 1 - i))) & 127);
    buf[i] = i == 0 ? b : (b | 128);
  }
  return n;
}

// Encodes an integer entry in the smallest encoding (lpEncodeGetType).
void AppendInt(std::string* out, int64_t v) {
  uint64_t u = static_cast<uint64_t>(v);
  if (v >= 0 && v <= 127) {
    out->push_back(static_cast<char>(v));
  } else if (v >= -4096 && v <= 4095) {
    uint64_t x = u & 0x1FFF;
    out->push_back(static_cast<char>(0xC0 | (x >> 8)));
    out->push_back(static_cast<char>(x & 0xFF));
  } else if (v >= INT16_MIN && v <= INT16_MAX) {
    out->push_back(static_cast<char>(0xF1));
    AppendLE(out, u, 2);
  } else if (v >= -8388608 && v <= 8388607) {
    out->push_back(static_cast<char>(0xF2));
    AppendLE(out, u, 3);
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    out->push_back(static_cast<char>(0xF3));
    AppendLE(out, u, 4);
  } else {
    out->push_back(static_cast<char>(0xF4));
    AppendLE(out, u, 8);
  }
}

void AppendStr(std::string* out, std::string_view s) {
  size_t len = s.size();
  if (len < 64) {
    out->push_back(static_cast<char>(0x80 | len));
  } else if (len < 4096) {
    out->push_back(static_cast<char>(0xE0 | (len >> 8)));
    out->push_back(static_cast<char>(len & 0xFF));
  } else {
    out->push_back(static_cast<char>(0xF0));
    AppendLE(out, len, 4);
  }
  out->append(s);
}

// Decodes the entry at p (p < end); sets *size to its encoded size without
// the back-length. False when malformed or running past `end`.
bool DecodeEntry(const uint8_t* p, const uint8_t* end, size_t* size,
                 std::string* value) {
  size_t avail = static_cast<size_t>(end - p);
  uint8_t b = p[0];
  auto take_int = [&](size_t width, int bits, uint64_t raw) {
    if (avail < width) return false;
    *size = width;
    *value = Int64ToString(SignExtend(raw, bits));
    return true;
  };
  auto take_str = [&](size_t header, uint64_t len) {
    if (avail < header || len > avail - header) return false;
    *size = header + len;
    value->assign(reinterpret_cast<const char*>(p + header), len);
    return true;
  };
  if ((b & 0x80) == 0) return take_int(1, 8, b & 0x7F);
  if ((b & 0xC0) == 0x80) return take_str(1, b & 0x3F);
  if ((b & 0xE0) == 0xC0) {
    if (avail < 2) return false;
    return take_int(2, 13, (static_cast<uint64_t>(b & 0x1F) << 8) | p[1]);
  }
  if ((b & 0xF0) == 0xE0) {
    if (avail < 2) return false;
    return take_str(2, (static_cast<uint64_t>(b & 0x0F) << 8) | p[1]);
  }
  switch (b) {
    case 0xF0:
      if (avail < 5) return false;
      return take_str(5, LoadLE(p + 1, 4));
    case 0xF1:
      return avail >= 3 && take_int(3, 16, LoadLE(p + 1, 2));
    case 0xF2:
      return avail >= 4 && take_int(4, 24, LoadLE(p + 1, 3));
    case 0xF3:
      return avail >= 5 && take_int(5, 32, LoadLE(p + 1, 4));
    case 0xF4:
      return avail >= 9 && take_int(9, 64, LoadLE(p + 1, 8));
    default:
      return false;
  }
}

size_t EncodedSize(std::string_view element) {
  int64_t v;
  if (ParseCanonicalInt64(element, &v)) {
    if (v >= 0 && v <= 127) return 1;
    if (v >= -4096 && v <= 4095) return 2;
    if (v >= INT16_MIN && v <= INT16_MAX) return 3;
    if (v >= -8388608 && v <= 8388607) return 4;
    if (v >= INT32_MIN && v <= INT32_MAX) return 5;
    return 9;
  }
  size_t len = element.size();
  return (len < 64 ? 1 : len < 4096 ? 2 : 5) + len;
}

}  // namespace

size_t ListpackEntrySize(std::string_view element) {
  uint8_t back[5];
  size_t size = EncodedSize(element);
  return size + EncodeBacklen(size, back);
}

ListpackBuilder::ListpackBuilder() : buf_(kHeaderSize, '\0') {}

void ListpackBuilder::Append(std::string_view element) {
  size_t start = buf_.size();
  int64_t v;
  if (ParseCanonicalInt64(element, &v)) {
    AppendInt(&buf_, v);
  } else {
    AppendStr(&buf_, element);
  }
  uint8_t back[5];
  size_t n = EncodeBacklen(buf_.size() - start, back);
  buf_.append(reinterpret_cast<const char*>(back), n);
  ++count_;
}

std::string ListpackBuilder::Finish() {
  buf_.push_back(static_cast<char>(kEof));
  std::string header;
  AppendLE(&header, buf_.size(), 4);
  AppendLE(&header, count_ < 65535 ? count_ : 65535, 2);
  buf_.replace(0, kHeaderSize, header);
  std::string out = std::move(buf_);
  buf_.assign(kHeaderSize, '\0');
  count_ = 0;
  return out;
}

bool ParseListpack(std::string_view blob, std::vector<std::string>* out,
                   std::string* error) {
  if (!CheckSizedBlob(blob, kHeaderSize, "listpack", error)) return false;
  const auto* base = reinterpret_cast<const uint8_t*>(blob.data());
  const uint8_t* end = base + blob.size() - 1;  // the terminator
  const uint8_t* p = base + kHeaderSize;
  uint64_t count = 0;
  std::string value;
  while (p < end) {
    size_t size;
    if (!DecodeEntry(p, end, &size, &value)) {
      *error = "listpack entry malformed or out of range";
      return false;
    }
    uint8_t back[5];
    size_t n = EncodeBacklen(size, back);
    if (n > static_cast<size_t>(end - p) - size ||
        std::memcmp(p + size, back, n) != 0) {
      *error = "listpack entry back-length mismatch";
      return false;
    }
    p += size + n;
    out->push_back(std::move(value));
    ++count;
  }
  uint64_t header_count = LoadLE(base + 4, 2);
  if (header_count != 65535 && header_count != count) {
    *error = "listpack count header does not match its entries";
    return false;
  }
  return true;
}

}  // namespace daxkv::rdb
