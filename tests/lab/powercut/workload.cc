#include "tests/lab/powercut/workload.h"

#include <charconv>

namespace daxkv::lab {
namespace {

// SplitMix64: a cheap, well-mixed 64-bit bijection.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

PutOp MakePut(uint64_t seed, uint64_t seq, uint32_t keys) {
  uint64_t h = Mix(seed ^ Mix(seq));
  PutOp op;
  op.key = "pc:" + std::to_string(h % keys);
  uint64_t r = Mix(h);
  size_t len = (r % 16 == 0) ? 4096 + (r >> 8) % 28672 : 16 + (r >> 8) % 1000;
  op.value = "s" + std::to_string(seq) + "|";
  op.value.reserve(op.value.size() + len);
  uint64_t x = r;
  for (size_t i = 0; i < len; ++i) {
    if (i % 8 == 0) x = Mix(x);
    op.value.push_back(static_cast<char>('a' + (x >> (8 * (i % 8))) % 26));
  }
  return op;
}

std::optional<uint64_t> ParseSeq(std::string_view value) {
  if (value.size() < 3 || value[0] != 's') return std::nullopt;
  size_t bar = value.find('|');
  if (bar == std::string_view::npos || bar == 1) return std::nullopt;
  uint64_t seq = 0;
  auto [end, ec] = std::from_chars(value.data() + 1, value.data() + bar, seq);
  if (ec != std::errc() || end != value.data() + bar) return std::nullopt;
  return seq;
}

}  // namespace daxkv::lab
