// ForEachCommandKey (kv/command.h): the keys a command's table entry names,
// walked to the end or until the callback stops it (the executor's
// prefetch stops at its budget instead of walking a long MSET).
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "kv/command.h"

namespace daxkv::kv {
namespace {

TEST(CommandKeysTest, ForEachCommandKeyWalksEveryKeyOrStopsWhenTold) {
  const CommandSpec* mset = CommandTable::Default().Find("mset");
  ASSERT_NE(mset, nullptr);
  const std::vector<std::string_view> argv = {"MSET", "a", "1", "b",
                                              "2",    "c", "3"};
  std::vector<std::string_view> seen;
  ForEachCommandKey(*mset, argv,
                    [&](std::string_view k) { seen.push_back(k); });
  EXPECT_EQ(seen, (std::vector<std::string_view>{"a", "b", "c"}));
  EXPECT_EQ(CommandKeys(*mset, argv), seen);
  seen.clear();
  ForEachCommandKey(*mset, argv, [&](std::string_view k) {
    seen.push_back(k);
    return seen.size() < 2;
  });
  EXPECT_EQ(seen, (std::vector<std::string_view>{"a", "b"}));
}

}  // namespace
}  // namespace daxkv::kv
