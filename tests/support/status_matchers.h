// GoogleTest helpers for daxkv::Status and StatusOr<T>:
//   ASSERT_OK(expr);  EXPECT_OK(expr) << "context";  // print the status
//   EXPECT_THAT(s, StatusIs(StatusCode::kNotFound));
//   EXPECT_THAT(s, StatusIs(StatusCode::kCorruption, HasSubstr("crc")));
//   ASSERT_OK_AND_ASSIGN(auto db, DB::Open(...));
#ifndef DAXKV_TESTS_SUPPORT_STATUS_MATCHERS_H_
#define DAXKV_TESTS_SUPPORT_STATUS_MATCHERS_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "base/status.h"
#include "base/statusor.h"

namespace daxkv {

inline void PrintTo(const Status& s, std::ostream* os) { *os << s.ToString(); }

namespace testing_internal {

inline const Status& GetStatus(const Status& s) { return s; }
template <typename T>
const Status& GetStatus(const StatusOr<T>& s) {
  return s.status();
}

// ASSERT_OK's predicate: success, or the expression and its status.
template <typename T>
::testing::AssertionResult IsOkFormat(const char* text, const T& value) {
  const Status& s = GetStatus(value);
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << text << ": " << s.ToString();
}

}  // namespace testing_internal

MATCHER_P(StatusIs, code,
          std::string(negation ? "isn't" : "is") + " a Status with code " +
              std::string(StatusCodeName(code))) {
  const Status& s = testing_internal::GetStatus(arg);
  *result_listener << "whose status is " << s.ToString();
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           std::string(negation ? "isn't" : "is") + " a Status with code " +
               std::string(StatusCodeName(code))) {
  const Status& s = testing_internal::GetStatus(arg);
  *result_listener << "whose status is " << s.ToString();
  return s.code() == code &&
         ::testing::ExplainMatchResult(
             message_matcher, std::string(s.message()), result_listener);
}

}  // namespace daxkv

#define DAXKV_STATUS_CONCAT_INNER(a, b) a##b
#define DAXKV_STATUS_CONCAT(a, b) DAXKV_STATUS_CONCAT_INNER(a, b)

// Both take a Status or a StatusOr and, like any assertion, more context:
//   ASSERT_OK(db->Put(key, value)) << "round " << round;
#define ASSERT_OK(expr) \
  ASSERT_PRED_FORMAT1(::daxkv::testing_internal::IsOkFormat, expr)
#define EXPECT_OK(expr) \
  EXPECT_PRED_FORMAT1(::daxkv::testing_internal::IsOkFormat, expr)

#define DAXKV_ASSERT_OK_AND_ASSIGN_IMPL(var, lhs, rexpr)              \
  auto var = (rexpr);                                                 \
  ASSERT_TRUE(var.ok()) << #rexpr << ": " << var.status().ToString(); \
  lhs = std::move(var).value()
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  DAXKV_ASSERT_OK_AND_ASSIGN_IMPL(       \
      DAXKV_STATUS_CONCAT(_daxkv_statusor_, __LINE__), lhs, rexpr)

#endif  // DAXKV_TESTS_SUPPORT_STATUS_MATCHERS_H_
