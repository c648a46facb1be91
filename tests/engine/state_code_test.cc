// Segment state words (format version 3): the [64, 45, 8] code corrects
// every error of 1 to 3 bits and detects every error of 4; legacy values
// still read in version 1-2 pools (engine/state_code.cc).
#include <gtest/gtest.h>

#include <random>

#include "engine/format.h"

namespace daxkv::engine::format {
namespace {

constexpr SegState kStates[] = {SegState::kInUse, SegState::kFreed,
                                SegState::kReleased, SegState::kAllocating};

void ExpectDecodes(uint64_t word, SegState state, uint64_t epoch, int bits) {
  DecodedState d = DecodeStateWord(word, kFormatVersion);
  ASSERT_EQ(d.state, state) << std::hex << word;
  ASSERT_EQ(d.epoch, epoch) << std::hex << word;
  ASSERT_EQ(d.corrected_bits, bits) << std::hex << word;
  ASSERT_FALSE(d.legacy);
}

TEST(StateCodeTest, EveryStateAndEpochRoundTrips) {
  std::mt19937_64 rng(1);
  for (SegState s : kStates) {
    for (uint64_t epoch : {uint64_t{0}, uint64_t{1}, uint64_t{12345},
                           kMaxStateEpoch, rng() & kMaxStateEpoch}) {
      ExpectDecodes(StateWord(s, epoch), s, epoch, 0);
    }
  }
}

// Exhaustive over one codeword: since the code is linear, every error
// pattern of weight <= 3 then has a syndrome of its own, i.e. the minimum
// distance is at least 7 (8 with the parity bit), for every codeword.
TEST(StateCodeTest, EveryErrorOfUpToThreeBitsIsCorrected) {
  const uint64_t word = StateWord(SegState::kFreed, 0x2bcdef0123);
  for (int i = 0; i < 64; ++i) {
    const uint64_t a = uint64_t{1} << i;
    ExpectDecodes(word ^ a, SegState::kFreed, 0x2bcdef0123, 1);
    for (int j = i + 1; j < 64; ++j) {
      const uint64_t b = a | uint64_t{1} << j;
      ExpectDecodes(word ^ b, SegState::kFreed, 0x2bcdef0123, 2);
      for (int k = j + 1; k < 64; ++k) {
        ExpectDecodes(word ^ b ^ uint64_t{1} << k, SegState::kFreed,
                      0x2bcdef0123, 3);
      }
    }
  }
}

TEST(StateCodeTest, FourFlippedBitsAreDetectedNeverMiscorrected) {
  std::mt19937_64 rng(2);
  for (int n = 0; n < 20000; ++n) {
    const SegState s = kStates[rng() % 4];
    const uint64_t word = StateWord(s, rng() & kMaxStateEpoch);
    uint64_t error = 0;
    while (__builtin_popcountll(error) < 4)
      error |= uint64_t{1} << (rng() % 64);
    DecodedState d = DecodeStateWord(word ^ error, kFormatVersion);
    ASSERT_EQ(d.state, SegState::kInvalid)
        << std::hex << word << " ^ " << error;
  }
}

TEST(StateCodeTest, ZeroAndAllOnesAreNoState) {
  EXPECT_EQ(DecodeStateWord(0, kFormatVersion).state, SegState::kInvalid);
  EXPECT_EQ(DecodeStateWord(~uint64_t{0}, kFormatVersion).state,
            SegState::kInvalid);
}

TEST(StateCodeTest, LegacyValuesReadInOlderPoolsOnly) {
  for (uint32_t v : {1u, 2u}) {
    DecodedState in_use = DecodeStateWord(0, v);
    EXPECT_EQ(in_use.state, SegState::kInUse);
    EXPECT_FALSE(in_use.epoch_known);
    EXPECT_TRUE(in_use.legacy);
    for (SegState s :
         {SegState::kFreed, SegState::kReleased, SegState::kAllocating}) {
      DecodedState d = DecodeStateWord(LegacyStateWord(s, 777), v);
      EXPECT_EQ(d.state, s);
      EXPECT_EQ(d.epoch, 777u);
      EXPECT_TRUE(d.legacy);
    }
    // Mid-upgrade, coded words are read too.
    DecodedState coded = DecodeStateWord(StateWord(SegState::kFreed, 9), v);
    EXPECT_EQ(coded.state, SegState::kFreed);
    EXPECT_FALSE(coded.legacy);
    // Neither a legacy value nor within 3 bits of a codeword.
    const uint64_t garbage = StateWord(SegState::kFreed, 9) ^ 0xF0000;
    ASSERT_NE(garbage & 0xFF, 0xF1u);
    ASSERT_NE(garbage & 0xFF, 0xF2u);
    ASSERT_NE(garbage & 0xFF, 0xA1u);
    EXPECT_EQ(DecodeStateWord(garbage, v).state, SegState::kInvalid);
  }
  // Version 3: "0" is no longer "in use".
  EXPECT_EQ(DecodeStateWord(0, 3).state, SegState::kInvalid);
}

TEST(StateCodeTest, WatermarkWordChecksItsTail) {
  uint32_t tail = 0;
  const uint64_t w = WatermarkWord(0xabcd, 4096);
  ASSERT_TRUE(DecodeWatermarkWord(w, 0xabcd, &tail));
  EXPECT_EQ(tail, 4096u);
  EXPECT_FALSE(DecodeWatermarkWord(w ^ 1, 0xabcd, &tail));
  EXPECT_FALSE(DecodeWatermarkWord(w, 0xabce, &tail));  // another epoch
  EXPECT_FALSE(DecodeWatermarkWord(SealWord(0xabcd, 4096), 0xabcd, &tail));
  EXPECT_FALSE(DecodeWatermarkWord(0, 0xabcd, &tail));
}

}  // namespace
}  // namespace daxkv::engine::format
