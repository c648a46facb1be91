#include "tests/support/status_matchers.h"

#include <gtest/gtest-spi.h>

namespace daxkv {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(StatusMatchersTest, StatusIsMatchesCodeAndMessage) {
  Status s = NotFoundError("key k1 not found");
  EXPECT_THAT(s, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(s, StatusIs(StatusCode::kNotFound, HasSubstr("k1")));
  EXPECT_THAT(s, Not(StatusIs(StatusCode::kCorruption)));
  EXPECT_THAT(s, Not(StatusIs(StatusCode::kNotFound, HasSubstr("k2"))));
  StatusOr<int> v = 7;
  EXPECT_THAT(v, StatusIs(StatusCode::kOk));
}

TEST(StatusMatchersTest, AssertOkFailsOnAnErrorAndNamesIt) {
  EXPECT_FATAL_FAILURE(ASSERT_OK(CorruptionError("bad crc at 0x40")),
                       "bad crc at 0x40");
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(StatusOr<int>(NoSpaceError("full"))),
                          "full");
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(NotFoundError("k")) << "in round 7",
                          "in round 7");
  ASSERT_OK(OkStatus()) << "never printed";
  EXPECT_OK(StatusOr<int>(3));
}

TEST(StatusMatchersTest, AssertOkAndAssignUnwraps) {
  ASSERT_OK_AND_ASSIGN(int v, StatusOr<int>(41));
  EXPECT_EQ(v, 41);
}

}  // namespace
}  // namespace daxkv
