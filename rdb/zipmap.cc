#include "rdb/zipmap.h"

#include <cstdint>

#include "rdb/bytes.h"

namespace daxkv::rdb {
namespace {

constexpr uint8_t kBigLen = 254;
constexpr uint8_t kEnd = 255;

// Reads a zipmap length at *pos (1 byte below 254, else a marker and a u32
// in the writer's byte order, little-endian on every host Redis ran on).
bool ReadLen(std::string_view b, size_t* pos, uint64_t* len) {
  if (*pos >= b.size()) return false;
  uint8_t first = static_cast<uint8_t>(b[*pos]);
  if (first < kBigLen) {
    *len = first;
    *pos += 1;
    return true;
  }
  if (b.size() - *pos < 5) return false;
  *len = LoadLE(b.data() + *pos + 1, 4);
  *pos += 5;
  return true;
}

bool Take(std::string_view b, size_t* pos, uint64_t n, std::string* out) {
  if (n > b.size() - *pos) return false;
  if (out) out->assign(b.substr(*pos, n));
  *pos += n;
  return true;
}

}  // namespace

bool ParseZipmap(std::string_view blob,
                 std::vector<std::pair<std::string, std::string>>* out,
                 std::string* error) {
  if (blob.size() < 2 || static_cast<uint8_t>(blob.back()) != kEnd) {
    *error = "zipmap too short or without its terminator";
    return false;
  }
  // Everything before the terminator holds entries.
  std::string_view body = blob.substr(0, blob.size() - 1);
  size_t pos = 1;
  uint64_t count = 0;
  while (pos < body.size()) {
    std::pair<std::string, std::string> entry;
    uint64_t len;
    if (static_cast<uint8_t>(body[pos]) == kEnd) break;
    if (!ReadLen(body, &pos, &len) || !Take(body, &pos, len, &entry.first) ||
        !ReadLen(body, &pos, &len) || pos >= body.size()) {
      *error = "zipmap entry out of range";
      return false;
    }
    uint64_t free_bytes = static_cast<uint8_t>(body[pos++]);
    if (!Take(body, &pos, len, &entry.second) ||
        !Take(body, &pos, free_bytes, nullptr)) {
      *error = "zipmap entry out of range";
      return false;
    }
    out->push_back(std::move(entry));
    ++count;
  }
  if (pos != body.size()) {
    *error = "zipmap has bytes after its end marker";
    return false;
  }
  if (count == 0) {
    *error = "zipmap is empty";
    return false;
  }
  uint8_t header_count = static_cast<uint8_t>(blob[0]);
  if (header_count != kBigLen && header_count != count) {
    *error = "zipmap count header does not match its entries";
    return false;
  }
  return true;
}

}  // namespace daxkv::rdb
