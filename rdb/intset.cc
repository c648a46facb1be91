#include "rdb/intset.h"

#include "rdb/bytes.h"
#include "rdb/numbers.h"

namespace daxkv::rdb {
namespace {

size_t WidthFor(int64_t v) {
  if (v >= INT16_MIN && v <= INT16_MAX) return 2;
  if (v >= INT32_MIN && v <= INT32_MAX) return 4;
  return 8;
}

}  // namespace

std::string BuildIntset(const std::vector<int64_t>& sorted) {
  size_t width = 2;
  if (!sorted.empty()) {
    size_t lo = WidthFor(sorted.front());
    size_t hi = WidthFor(sorted.back());
    width = lo > hi ? lo : hi;
  }
  std::string out;
  out.reserve(8 + width * sorted.size());
  AppendLE(&out, width, 4);
  AppendLE(&out, sorted.size(), 4);
  for (int64_t v : sorted) AppendLE(&out, static_cast<uint64_t>(v), width);
  return out;
}

bool ParseIntset(std::string_view blob, std::vector<std::string>* out,
                 std::string* error) {
  const auto* p = reinterpret_cast<const uint8_t*>(blob.data());
  if (blob.size() < 8) {
    *error = "intset shorter than its header";
    return false;
  }
  uint64_t width = LoadLE(p, 4);
  uint64_t count = LoadLE(p + 4, 4);
  if (width != 2 && width != 4 && width != 8) {
    *error = "intset has an invalid encoding";
    return false;
  }
  if (8 + count * width != blob.size()) {
    *error = "intset size does not match its length header";
    return false;
  }
  if (count == 0) {
    *error = "intset is empty";
    return false;
  }
  int64_t prev = 0;
  for (uint64_t i = 0; i < count; ++i) {
    int64_t v = SignExtend(LoadLE(p + 8 + i * width, width),
                           static_cast<int>(8 * width));
    if (i > 0 && v <= prev) {
      *error = "intset members are not strictly ascending";
      return false;
    }
    prev = v;
    out->push_back(Int64ToString(v));
  }
  return true;
}

}  // namespace daxkv::rdb
