#include "rdb/format.h"

#include <iterator>

namespace daxkv::rdb {

std::string RdbTypeName(int type) {
  static constexpr const char* kNames[] = {"string",
                                           "list",
                                           "set",
                                           "zset",
                                           "hash",
                                           "zset 2",
                                           "module (pre-GA)",
                                           "module",
                                           "unknown",
                                           "hash zipmap",
                                           "list ziplist",
                                           "set intset",
                                           "zset ziplist",
                                           "hash ziplist",
                                           "list quicklist",
                                           "stream",
                                           "hash listpack",
                                           "zset listpack",
                                           "list quicklist 2",
                                           "stream 2"};
  const char* name = type >= 0 && type < static_cast<int>(std::size(kNames))
                         ? kNames[type]
                         : "unknown";
  return std::string(name) + " (type " + std::to_string(type) + ")";
}

std::string ModuleTypeName(uint64_t module_id) {
  static constexpr char kCharset[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string name(9, '?');
  uint64_t id = module_id >> 10;  // the low 10 bits are the encoding version
  for (int j = 8; j >= 0; --j) {
    name[j] = kCharset[id & 63];
    id >>= 6;
  }
  return name;
}

}  // namespace daxkv::rdb
