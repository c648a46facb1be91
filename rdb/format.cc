#include "rdb/format.h"

namespace daxkv::rdb {

std::string RdbTypeName(int type) {
  const char* name = "unknown";
  switch (type) {
    case kTypeString: name = "string"; break;
    case kTypeList: name = "list"; break;
    case kTypeSet: name = "set"; break;
    case kTypeZset: name = "zset"; break;
    case kTypeHash: name = "hash"; break;
    case kTypeZset2: name = "zset 2"; break;
    case kTypeModulePreGa: name = "module (pre-GA)"; break;
    case kTypeModule2: name = "module"; break;
    case kTypeHashZipmap: name = "hash zipmap"; break;
    case kTypeListZiplist: name = "list ziplist"; break;
    case kTypeSetIntset: name = "set intset"; break;
    case kTypeZsetZiplist: name = "zset ziplist"; break;
    case kTypeHashZiplist: name = "hash ziplist"; break;
    case kTypeListQuicklist: name = "list quicklist"; break;
    case kTypeStreamListpacks: name = "stream"; break;
    case kTypeHashListpack: name = "hash listpack"; break;
    case kTypeZsetListpack: name = "zset listpack"; break;
    case kTypeListQuicklist2: name = "list quicklist 2"; break;
    case kTypeStreamListpacks2: name = "stream 2"; break;
    default: break;
  }
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
