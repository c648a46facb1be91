#include "rdb/ziplist.h"

#include <cstdint>

#include "rdb/bytes.h"
#include "rdb/numbers.h"

namespace daxkv::rdb {
namespace {

constexpr size_t kHeaderSize = 10;  // zlbytes, zltail (u32), zllen (u16)
constexpr uint8_t kEnd = 0xFF;
constexpr uint8_t kBigPrevlen = 0xFE;

struct Entry {
  size_t prevlen = 0;
  size_t header = 0;  // prevlen bytes + encoding bytes
  size_t data = 0;    // payload bytes
};

// Reads the entry header at p (p < end): false when malformed or past end.
// On success *value holds the entry's contents.
bool ReadEntry(const uint8_t* p, const uint8_t* end, Entry* e,
               std::string* value) {
  size_t avail = static_cast<size_t>(end - p);
  size_t prevlen_size = p[0] < kBigPrevlen ? 1 : 5;
  if (p[0] == kEnd || avail < prevlen_size + 1) return false;
  e->prevlen = prevlen_size == 1 ? p[0] : LoadLE(p + 1, 4);
  const uint8_t* q = p + prevlen_size;
  avail -= prevlen_size;
  uint8_t enc = q[0];
  size_t enc_size = 1;
  uint64_t len = 0;
  bool is_string = true;
  switch (enc >> 6) {
    case 0:
      len = enc & 0x3F;
      break;
    case 1:
      enc_size = 2;
      if (avail < 2) return false;
      len = (static_cast<uint64_t>(enc & 0x3F) << 8) | q[1];
      break;
    case 2:  // the low six bits are ignored, as ZIP_ENTRY_ENCODING does
      enc_size = 5;
      if (avail < 5) return false;
      len = (uint64_t{q[1]} << 24) | (uint64_t{q[2]} << 16) |
            (uint64_t{q[3]} << 8) | q[4];
      break;
    default:
      is_string = false;
      break;
  }
  int width = 0;
  int64_t iv = 0;
  if (!is_string) {
    switch (enc) {
      case 0xC0:
        width = 2;
        break;
      case 0xD0:
        width = 4;
        break;
      case 0xE0:
        width = 8;
        break;
      case 0xF0:
        width = 3;
        break;
      case 0xFE:
        width = 1;
        break;
      default:
        if (enc < 0xF1 || enc > 0xFD) return false;
        iv = (enc & 0x0F) - 1;  // immediate 0..12
        break;
    }
    len = static_cast<uint64_t>(width);
  }
  if (len > avail - enc_size) return false;
  e->header = prevlen_size + enc_size;
  e->data = len;
  const uint8_t* d = q + enc_size;
  if (is_string) {
    value->assign(reinterpret_cast<const char*>(d), len);
  } else {
    if (width > 0) {
      iv = SignExtend(LoadLE(d, static_cast<size_t>(width)), 8 * width);
    }
    *value = Int64ToString(iv);
  }
  return true;
}

}  // namespace

bool ParseZiplist(std::string_view blob, std::vector<std::string>* out,
                  std::string* error) {
  if (!CheckSizedBlob(blob, kHeaderSize, "ziplist", error)) return false;
  const auto* base = reinterpret_cast<const uint8_t*>(blob.data());
  const uint8_t* end = base + blob.size() - 1;
  const uint8_t* p = base + kHeaderSize;
  size_t prev_size = 0;
  size_t last_offset = kHeaderSize;
  uint64_t count = 0;
  std::string value;
  while (p < end) {
    Entry e;
    if (!ReadEntry(p, end, &e, &value)) {
      *error = "ziplist entry malformed or out of range";
      return false;
    }
    if (e.prevlen != prev_size) {
      *error = "ziplist entry prevlen mismatch";
      return false;
    }
    last_offset = static_cast<size_t>(p - base);
    prev_size = e.header + e.data;
    p += prev_size;
    out->push_back(std::move(value));
    ++count;
  }
  if (LoadLE(base + 4, 4) != last_offset) {
    *error = "ziplist tail offset does not point at its last entry";
    return false;
  }
  uint64_t header_count = LoadLE(base + 8, 2);
  if (header_count != 65535 && header_count != count) {
    *error = "ziplist count header does not match its entries";
    return false;
  }
  return true;
}

}  // namespace daxkv::rdb
