// Redis 7.0's ACL categories ("@write @list @fast") of every command and
// subcommand ("config|get"), as data: COMMAND INFO reports them and ACL CAT
// lists a category's commands. daxkv has no ACL users beyond the default
// one (kv/cmd_acl.cc), but clients and tools read the categories.
#ifndef DAXKV_KV_ACL_CATEGORIES_H_
#define DAXKV_KV_ACL_CATEGORIES_H_

#include <span>
#include <string_view>

namespace daxkv::kv {

// The 21 categories, without '@', in Redis's ACL CAT order.
std::span<const std::string_view> AclCategoryNames();
// The categories of `command` (lower case), or empty when Redis 7.0 has no
// such command.
std::string_view RedisAclCategories(std::string_view command);
// Whether Redis 7.0 has "command|..." subcommands.
bool RedisHasSubcommands(std::string_view command);
// Whether `categories` ("@write @list @fast") include `category` ("@list").
bool AclCategoriesInclude(std::string_view categories,
                          std::string_view category);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_ACL_CATEGORIES_H_
