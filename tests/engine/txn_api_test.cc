// engine/txn.h is declared in phase A and implemented in phase B; this
// compiles it and checks the inline helpers and defaults the kv layer will
// rely on (WRONGTYPE detection, Redis's default ranges).
#include "engine/txn.h"

#include <gtest/gtest.h>

#include <cmath>

namespace daxkv::engine {
namespace {

TEST(TxnApiTest, WrongTypeIsRecognisedByItsRedisPrefixOnly) {
  Status s = WrongTypeError();
  EXPECT_TRUE(IsWrongType(s));
  EXPECT_EQ(s.message(), kWrongTypeMessage);
  EXPECT_FALSE(IsWrongType(FailedPreconditionError("segment not sealed")));
  EXPECT_FALSE(IsWrongType(InvalidArgumentError(kWrongTypeMessage)));
  EXPECT_FALSE(IsWrongType(OkStatus()));
}

TEST(TxnApiTest, DefaultRangesCoverEverything) {
  IndexRange all;  // LRANGE key 0 -1
  EXPECT_EQ(all.start, 0);
  EXPECT_EQ(all.stop, -1);
  ScoreRange scores;  // -inf +inf, inclusive
  EXPECT_TRUE(std::isinf(scores.min) && scores.min < 0);
  EXPECT_TRUE(std::isinf(scores.max) && scores.max > 0);
  EXPECT_FALSE(scores.min_exclusive || scores.max_exclusive);
  LexRange lex;  // - +
  EXPECT_EQ(lex.min.kind, LexBound::Kind::kMinusInf);
  EXPECT_EQ(lex.max.kind, LexBound::Kind::kPlusInf);
  EXPECT_LT(Limit().count, 0);
  EXPECT_EQ(KeyInfo().type, KeyType::kNone);
}

}  // namespace
}  // namespace daxkv::engine
