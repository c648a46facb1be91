// kv/acl_categories.h: Redis 7.0's ACL categories as data, which COMMAND
// INFO, ACL CAT and MONITOR's admin filter read.
#include "kv/acl_categories.h"

#include <gtest/gtest.h>

#include <string>

#include "kv/command.h"

namespace daxkv::kv {
namespace {

TEST(AclCategoriesTest, EveryCommandHasRedisCategories) {
  // A command of daxkv's own would report none in COMMAND INFO: give it
  // its categories in the table first.
  for (const CommandSpec& spec : CommandTable::Default().all()) {
    EXPECT_FALSE(RedisAclCategories(spec.name).empty()) << spec.name;
  }
}

TEST(AclCategoriesTest, LooksUpCommandsAndSubcommands) {
  EXPECT_EQ(RedisAclCategories("lpush"), "@write @list @fast");
  EXPECT_EQ(RedisAclCategories("config|get"), "@admin @slow @dangerous");
  EXPECT_EQ(RedisAclCategories("config|nosuch"), "");
  EXPECT_EQ(RedisAclCategories("nosuch"), "");
  EXPECT_TRUE(RedisHasSubcommands("config"));
  EXPECT_FALSE(RedisHasSubcommands("get"));
  EXPECT_TRUE(AclCategoriesInclude("@write @list @fast", "@list"));
  EXPECT_TRUE(AclCategoriesInclude("@write @list @fast", "@fast"));
  EXPECT_FALSE(AclCategoriesInclude("@write @list @fast", "@lis"));
  EXPECT_FALSE(AclCategoriesInclude("", "@list"));
  EXPECT_EQ(AclCategoryNames().size(), 21u);
}

}  // namespace
}  // namespace daxkv::kv
