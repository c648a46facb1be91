// Segment state words: the [64, 45, 8] extended BCH code of format
// version 3 and the legacy values of versions 1-2 (engine/format.h).
//
// The code: BCH(63, 45) over GF(2^6) (primitive polynomial x^6 + x + 1)
// corrects 3 errors; its generator is g(x) = m1 m3 m5 = 0x782cf (degree
// 18). An overall parity bit extends it to length 64 and distance 8, so a
// word with 4 flipped bits is detected, never "corrected" into another
// state. Bit layout of a word: check bits 0-17, information bits 18-62
// (state 0-2, epoch 3-44 of the information), parity bit 63.
//
// Decoding is by syndrome: the syndrome of a word is the XOR of the
// syndromes of its set bits (a 19-bit value: the remainder mod g, plus the
// parity). Every error pattern of weight 1 to 3 has its own syndrome
// (tests/engine/state_code_test.cc checks all 43,744), so the decoder
// looks the syndrome up among the patterns of the weight its parity allows.
#include <algorithm>
#include <array>
#include <bit>
#include <vector>

#include "engine/format.h"

namespace daxkv::engine::format {
namespace {

constexpr uint64_t kGenerator = 0x782cf;
constexpr int kCheckBits = 18;
constexpr uint32_t kParityBit = 1u << kCheckBits;

constexpr uint32_t RemainderOfBit(int i) {
  uint64_t r = uint64_t{1} << i;
  for (int d = i; d >= kCheckBits; --d) {
    if (r >> d & 1) r ^= kGenerator << (d - kCheckBits);
  }
  return static_cast<uint32_t>(r);
}

constexpr std::array<uint32_t, 64> MakeColumns() {
  std::array<uint32_t, 64> c{};
  for (int i = 0; i < 63; ++i) c[i] = RemainderOfBit(i) | kParityBit;
  c[63] = kParityBit;
  return c;
}

constexpr std::array<uint32_t, 64> kColumns = MakeColumns();

uint32_t Syndrome(uint64_t word) {
  uint32_t s = 0;
  for (uint64_t w = word; w != 0; w &= w - 1) {
    s ^= kColumns[std::countr_zero(w)];
  }
  return s;
}

// The bit whose syndrome is `s`, or -1: a table of every 19-bit syndrome,
// built on first use (only damaged words need it).
int BitWithSyndrome(uint32_t s) {
  static const std::vector<int8_t>* const table = [] {
    auto* t = new std::vector<int8_t>(size_t{1} << (kCheckBits + 1), -1);
    for (int i = 0; i < 64; ++i) (*t)[kColumns[i]] = static_cast<int8_t>(i);
    return t;
  }();
  return (*table)[s];
}

// The error pattern of weight <= 3 with syndrome `s`, or 0 if none (then
// 4 or more bits are wrong).
uint64_t ErrorPattern(uint32_t s) {
  if (s & kParityBit) {
    if (int i = BitWithSyndrome(s); i >= 0) return uint64_t{1} << i;
    for (int i = 0; i < 64; ++i) {
      for (int j = i + 1; j < 64; ++j) {
        int k = BitWithSyndrome(s ^ kColumns[i] ^ kColumns[j]);
        if (k > j)
          return uint64_t{1} << i | uint64_t{1} << j | uint64_t{1} << k;
      }
    }
    return 0;
  }
  for (int i = 0; i < 64; ++i) {
    int j = BitWithSyndrome(s ^ kColumns[i]);
    if (j > i) return uint64_t{1} << i | uint64_t{1} << j;
  }
  return 0;
}

DecodedState FromInformation(uint64_t info) {
  DecodedState d;
  const uint64_t state = info & 7;
  if (state < static_cast<uint64_t>(SegState::kInUse) ||
      state > static_cast<uint64_t>(SegState::kAllocating)) {
    return d;  // kInvalid
  }
  d.state = static_cast<SegState>(state);
  d.epoch = info >> 3;
  return d;
}

DecodedState DecodeCoded(uint64_t word) {
  const uint32_t s = Syndrome(word);
  uint64_t error = 0;
  if (s != 0) {
    error = ErrorPattern(s);
    if (error == 0) return DecodedState{};
  }
  DecodedState d = FromInformation((word ^ error) << 1 >> (kCheckBits + 1));
  if (d.state != SegState::kInvalid) d.corrected_bits = std::popcount(error);
  return d;
}

DecodedState DecodeLegacy(uint64_t word) {
  DecodedState d;
  d.legacy = true;
  if (word == 0) {
    d.state = SegState::kInUse;
    d.epoch_known = false;
    return d;
  }
  switch (static_cast<uint8_t>(word)) {
    case 0xF1:
      d.state = SegState::kFreed;
      break;
    case 0xF2:
      d.state = SegState::kReleased;
      break;
    case 0xA1:
      d.state = SegState::kAllocating;
      break;
    default:
      return DecodedState{};
  }
  d.epoch = word >> 8;
  return d;
}

}  // namespace

const char* SegStateName(SegState s) {
  switch (s) {
    case SegState::kInUse:
      return "in use";
    case SegState::kFreed:
      return "freed";
    case SegState::kReleased:
      return "released";
    case SegState::kAllocating:
      return "allocating";
    case SegState::kInvalid:
      break;
  }
  return "invalid";
}

uint64_t StateWord(SegState s, uint64_t epoch) {
  const uint64_t info =
      (epoch & kMaxStateEpoch) << 3 | static_cast<uint64_t>(s);
  uint64_t word = info << kCheckBits;
  word |= Syndrome(word) & (kParityBit - 1);  // remainder: the check bits
  word |= uint64_t(std::popcount(word) & 1) << 63;
  return word;
}

DecodedState DecodeStateWord(uint64_t word, uint32_t format_version) {
  if (format_version >= kCodedStateVersion) return DecodeCoded(word);
  // Mid-upgrade a pool holds both kinds. An exact codeword is taken as
  // coded (a legacy value is one by chance with probability 2^-19, and
  // then also has to name the segment's own epoch to be accepted), then
  // the exact legacy values; a corrected codeword last.
  DecodedState coded = DecodeCoded(word);
  if (coded.state != SegState::kInvalid && coded.corrected_bits == 0) {
    return coded;
  }
  DecodedState legacy = DecodeLegacy(word);
  return legacy.state != SegState::kInvalid ? legacy : coded;
}

}  // namespace daxkv::engine::format
