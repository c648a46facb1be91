#include "engine/coll_packed_ints.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "base/int_text.h"

namespace daxkv::engine::coll {

namespace {

uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

int64_t LoadInt(const char* p, uint32_t width) {
  switch (width) {
    case 2: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case 4: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    default: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
  }
}

uint32_t WidthOf(int64_t v) {
  if (v >= std::numeric_limits<int16_t>::min() &&
      v <= std::numeric_limits<int16_t>::max()) {
    return 2;
  }
  if (v >= std::numeric_limits<int32_t>::min() &&
      v <= std::numeric_limits<int32_t>::max()) {
    return 4;
  }
  return 8;
}

}  // namespace

std::string PackedInts::Check(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes) return "packed integers without a header";
  const uint32_t width = Load32(bytes.data());
  const uint32_t count = Load32(bytes.data() + 4);
  if (width != 2 && width != 4 && width != 8) {
    return "packed integers of width " + std::to_string(width);
  }
  if (count == 0) return "packed integers with no member";
  if (bytes.size() != kHeaderBytes + uint64_t{width} * count) {
    return "packed integers whose length disagrees with their count";
  }
  const PackedInts p(bytes);
  for (uint32_t i = 1; i < count; ++i) {
    if (p.At(i - 1) >= p.At(i)) return "packed integers out of order";
  }
  return "";
}

std::string PackedInts::Encode(const std::vector<int64_t>& sorted) {
  const uint32_t width =
      std::max(WidthOf(sorted.front()), WidthOf(sorted.back()));
  const auto count = static_cast<uint32_t>(sorted.size());
  std::string out(kHeaderBytes + uint64_t{width} * count, '\0');
  std::memcpy(out.data(), &width, 4);
  std::memcpy(out.data() + 4, &count, 4);
  char* p = out.data() + kHeaderBytes;
  for (const int64_t v : sorted) {
    std::memcpy(p, &v, width);  // little-endian: the low `width` bytes
    p += width;
  }
  return out;
}

std::string PackedInts::Inserted(std::string_view bytes, int64_t v,
                                 uint32_t pos) {
  const PackedInts p(bytes);
  if (WidthOf(v) > p.width_) {
    std::vector<int64_t> all;
    p.Decode(&all);
    all.insert(all.begin() + pos, v);
    return Encode(all);
  }
  const uint32_t w = p.width_, count = p.count_ + 1;
  std::string out(bytes.size() + w, '\0');
  std::memcpy(out.data(), &w, 4);
  std::memcpy(out.data() + 4, &count, 4);
  char* d = out.data() + kHeaderBytes;
  const uint64_t before = uint64_t{pos} * w;
  std::memcpy(d, p.data_, before);
  std::memcpy(d + before, &v, w);  // little-endian: the low `w` bytes
  std::memcpy(d + before + w, p.data_ + before, uint64_t{p.count_ - pos} * w);
  return out;
}

std::string PackedInts::Erased(std::string_view bytes, uint32_t pos) {
  const PackedInts p(bytes);
  const uint32_t n = p.count_;
  // Sorted: the extremes left are at the ends.
  const int64_t lo = p.At(pos == 0 ? 1 : 0);
  const int64_t hi = p.At(pos == n - 1 ? n - 2 : n - 1);
  const uint32_t w = std::max(WidthOf(lo), WidthOf(hi));
  if (w != p.width_) {
    std::vector<int64_t> all;
    p.Decode(&all);
    all.erase(all.begin() + pos);
    return Encode(all);
  }
  const uint32_t count = n - 1;
  std::string out(bytes.size() - w, '\0');
  std::memcpy(out.data(), &w, 4);
  std::memcpy(out.data() + 4, &count, 4);
  char* d = out.data() + kHeaderBytes;
  const uint64_t before = uint64_t{pos} * w;
  std::memcpy(d, p.data_, before);
  std::memcpy(d + before, p.data_ + before + w, uint64_t{n - pos - 1} * w);
  return out;
}

PackedInts::PackedInts(std::string_view bytes)
    : data_(bytes.data() + kHeaderBytes),
      width_(Load32(bytes.data())),
      count_(Load32(bytes.data() + 4)) {}

int64_t PackedInts::At(uint32_t i) const {
  return LoadInt(data_ + uint64_t{i} * width_, width_);
}

bool PackedInts::Find(int64_t v, uint32_t* pos) const {
  uint32_t lo = 0, hi = count_;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (At(mid) < v) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *pos = lo;
  return lo < count_ && At(lo) == v;
}

bool PackedInts::Contains(std::string_view member) const {
  int64_t v;
  uint32_t pos;
  return ParseInt64(member, &v) && Find(v, &pos);
}

void PackedInts::Decode(std::vector<int64_t>* out) const {
  out->resize(count_);
  for (uint32_t i = 0; i < count_; ++i) (*out)[i] = At(i);
}

std::string IntText(int64_t v) { return std::to_string(v); }

}  // namespace daxkv::engine::coll
