#include "kv/bitops.h"

#include <bit>
#include <climits>
#include <cstring>

#include "kv/resp_parser.h"

namespace daxkv::kv {
namespace {

int BitAt(const uint8_t* p, uint64_t i) {
  return (p[i >> 3] >> (7 - (i & 7))) & 1;
}

uint64_t Load64(const uint8_t* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  return w;
}

}  // namespace

uint64_t CountBits(std::string_view s, uint64_t first, uint64_t last) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const uint64_t fb = first >> 3, lb = last >> 3;
  const unsigned head = 0xFFu >> (first & 7);
  const unsigned tail = (0xFFu << (7 - (last & 7))) & 0xFFu;
  if (fb == lb) return std::popcount(p[fb] & head & tail);
  uint64_t n = std::popcount(p[fb] & head) + std::popcount(p[lb] & tail);
  uint64_t b = fb + 1;
  for (; b + 8 <= lb; b += 8) n += std::popcount(Load64(p + b));
  for (; b < lb; ++b) n += std::popcount(static_cast<unsigned>(p[b]));
  return n;
}

int64_t FindBit(std::string_view s, uint64_t first, uint64_t last, int bit) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const uint8_t skip = bit ? 0x00 : 0xFF;
  const uint64_t skip64 = bit ? 0 : ~uint64_t{0};
  uint64_t i = first;
  for (; i <= last && (i & 7) != 0; ++i) {
    if (BitAt(p, i) == bit) return static_cast<int64_t>(i);
  }
  // Whole bytes that cannot hold the bit are skipped, 8 at a time first.
  while (i + 63 <= last && Load64(p + (i >> 3)) == skip64) i += 64;
  while (i + 7 <= last && p[i >> 3] == skip) i += 8;
  for (; i <= last; ++i) {
    if (BitAt(p, i) == bit) return static_cast<int64_t>(i);
  }
  return -1;
}

bool ResolveBitRange(int64_t start, int64_t end, bool in_bits, int64_t len,
                     uint64_t* first, uint64_t* last) {
  const int64_t total = in_bits ? len * 8 : len;
  if (start < 0) start += total;
  if (end < 0) end += total;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
  if (start > end) return false;
  *first = static_cast<uint64_t>(in_bits ? start : start * 8);
  *last = static_cast<uint64_t>(in_bits ? end : end * 8 + 7);
  return true;
}

bool ParseBitOffset(std::string_view arg, int bits, uint64_t max_bytes,
                    uint64_t* offset) {
  const bool hash = bits > 0 && !arg.empty() && arg[0] == '#';
  if (hash) arg.remove_prefix(1);
  int64_t v = 0;
  if (!ParseInt64(arg, &v)) return false;
  if (hash && __builtin_mul_overflow(v, static_cast<int64_t>(bits), &v)) {
    return false;
  }
  if (v < 0 || static_cast<uint64_t>(v >> 3) >= max_bytes) return false;
  *offset = static_cast<uint64_t>(v);
  return true;
}

bool ParseBitfieldType(std::string_view arg, BitfieldType* type) {
  if (arg.empty()) return false;
  char c = arg[0];
  if (c == 'i' || c == 'I') {
    type->is_signed = true;
  } else if (c == 'u' || c == 'U') {
    type->is_signed = false;
  } else {
    return false;
  }
  // As Redis (strlen on the C string), the width ends at a NUL byte.
  std::string_view width = arg.substr(1);
  width = width.substr(0, width.find('\0'));
  int64_t bits = 0;
  if (!ParseInt64(width, &bits) || bits < 1 ||
      bits > (type->is_signed ? 64 : 63)) {
    return false;
  }
  type->bits = static_cast<int>(bits);
  return true;
}

uint64_t GetUnsignedBits(std::string_view s, uint64_t offset, int bits) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const uint64_t size_bits = static_cast<uint64_t>(s.size()) * 8;
  uint64_t v = 0;
  for (int j = 0; j < bits; ++j, ++offset) {
    v = (v << 1) | (offset < size_bits ? BitAt(p, offset) : 0u);
  }
  return v;
}

int64_t GetSignedBits(std::string_view s, uint64_t offset, int bits) {
  uint64_t v = GetUnsignedBits(s, offset, bits);
  // Two's complement: the field's top bit is the sign.
  if (bits < 64 && (v >> (bits - 1)) & 1) v |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(v);
}

void SetBits(std::string* s, uint64_t offset, int bits, uint64_t value) {
  const uint64_t need = (offset + static_cast<uint64_t>(bits) - 1) / 8 + 1;
  if (s->size() < need) s->resize(need, '\0');
  auto* p = reinterpret_cast<uint8_t*>(s->data());
  for (int j = 0; j < bits; ++j, ++offset) {
    const unsigned bit = (value >> (bits - 1 - j)) & 1;
    const unsigned shift = 7 - (offset & 7);
    p[offset >> 3] = static_cast<uint8_t>((p[offset >> 3] & ~(1u << shift)) |
                                          (bit << shift));
  }
}

int CheckUnsignedOverflow(uint64_t value, int64_t incr, int bits,
                          BitfieldOverflow mode, uint64_t* result) {
  const uint64_t max = (uint64_t{1} << bits) - 1;  // bits <= 63
  int dir = 0;
  if (value > max || (incr > 0 && static_cast<uint64_t>(incr) > max - value)) {
    dir = 1;
  } else if (incr < 0 &&
             (incr == INT64_MIN || static_cast<uint64_t>(-incr) > value)) {
    dir = -1;
  }
  if (dir == 0) return 0;
  if (mode == BitfieldOverflow::kWrap) {
    *result = (value + static_cast<uint64_t>(incr)) & max;
  } else if (mode == BitfieldOverflow::kSat) {
    *result = dir > 0 ? max : 0;
  }
  return dir;
}

int CheckSignedOverflow(int64_t value, int64_t incr, int bits,
                        BitfieldOverflow mode, int64_t* result) {
  const int64_t max =
      bits == 64 ? INT64_MAX
                 : static_cast<int64_t>((uint64_t{1} << (bits - 1)) - 1);
  const int64_t min = -max - 1;
  // Redis's checks verbatim (checkSignedBitfieldOverflow), wrapping
  // differences included: SET of INT64_MIN into a narrow field wraps
  // maxincr negative and saturates to max, and clients see that.
  const auto maxincr = static_cast<int64_t>(static_cast<uint64_t>(max) -
                                            static_cast<uint64_t>(value));
  const auto minincr = static_cast<int64_t>(static_cast<uint64_t>(min) -
                                            static_cast<uint64_t>(value));
  int dir = 0;
  if (value > max || (bits != 64 && incr > maxincr) ||
      (value >= 0 && incr > 0 && incr > maxincr)) {
    dir = 1;
  } else if (value < min || (bits != 64 && incr < minincr) ||
             (value < 0 && incr < 0 && incr < minincr)) {
    dir = -1;
  }
  if (dir == 0) return 0;
  if (mode == BitfieldOverflow::kWrap) {
    uint64_t c = static_cast<uint64_t>(value) + static_cast<uint64_t>(incr);
    if (bits < 64) {
      const uint64_t high = ~uint64_t{0} << bits;
      c = ((c >> (bits - 1)) & 1) ? (c | high) : (c & ~high);
    }
    *result = static_cast<int64_t>(c);
  } else if (mode == BitfieldOverflow::kSat) {
    *result = dir > 0 ? max : min;
  }
  return dir;
}

}  // namespace daxkv::kv
