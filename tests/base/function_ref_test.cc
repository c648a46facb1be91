// FunctionRef (base/function_ref.h): calls what it refers to, with the
// callable's own state, and converts from lambdas, functors and functions.
#include "base/function_ref.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace daxkv {
namespace {

int Twice(int x) { return 2 * x; }

int Apply(FunctionRef<int(int)> fn, int x) { return fn(x); }

TEST(FunctionRefTest, CallsALambdaWithItsCapturesByReference) {
  int a = 1, b = 2, c = 3, d = 4;  // more than std::function holds inline
  auto sum = [&](int x) { return a + b + c + d + x; };
  EXPECT_EQ(Apply(sum, 10), 20);
  d = 40;  // a reference, not a copy: sees the change
  EXPECT_EQ(Apply(sum, 10), 56);
}

TEST(FunctionRefTest, CallsAFunctionAndAMutableFunctor) {
  EXPECT_EQ(Apply(Twice, 21), 42);
  EXPECT_EQ(Apply(&Twice, 4), 8);
  struct Counter {
    int calls = 0;
    int operator()(int x) { return x + ++calls; }
  } counter;
  EXPECT_EQ(Apply(counter, 1), 2);
  EXPECT_EQ(Apply(counter, 1), 3);
  EXPECT_EQ(counter.calls, 2);
}

TEST(FunctionRefTest, ForwardsReferencesAndMoveOnlyResults) {
  std::string out;
  auto add_x = [](std::string& s) { s += "x"; };
  FunctionRef<void(std::string&)> append = add_x;
  append(out);
  append(out);
  EXPECT_EQ(out, "xx");
  auto make = [] { return std::make_unique<int>(7); };
  FunctionRef<std::unique_ptr<int>()> ref = make;
  EXPECT_EQ(*ref(), 7);
  // Copies refer to the same callable.
  FunctionRef<std::unique_ptr<int>()> copy = ref;
  EXPECT_EQ(*copy(), 7);
}

TEST(FunctionRefTest, ANullReferenceTestsFalse) {
  FunctionRef<int(int)> none = nullptr;
  EXPECT_FALSE(none);
  auto one = [](int) { return 1; };
  FunctionRef<int(int)> some = one;
  EXPECT_TRUE(some);
  EXPECT_EQ(some(0), 1);
}

}  // namespace
}  // namespace daxkv
