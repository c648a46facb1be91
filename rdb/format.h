// The RDB format's constants as Redis 7.0 (RDB version 10) defines them in
// rdb.h, plus names for error messages.
#ifndef DAXKV_RDB_FORMAT_H_
#define DAXKV_RDB_FORMAT_H_

#include <cstdint>
#include <string>

namespace daxkv::rdb {

// The version Redis 7.0 writes, and the newest it (and daxkv) reads.
inline constexpr int kRdbVersion = 10;

// Object types: the byte before a key (RDB file) or the first byte of a DUMP
// payload.
enum RdbType : uint8_t {
  kTypeString = 0,
  kTypeList = 1,
  kTypeSet = 2,
  kTypeZset = 3,  // scores as length-prefixed decimal strings
  kTypeHash = 4,
  kTypeZset2 = 5,  // scores as binary doubles (RDB >= 8)
  kTypeModulePreGa = 6,
  kTypeModule2 = 7,
  kTypeHashZipmap = 9,
  kTypeListZiplist = 10,
  kTypeSetIntset = 11,
  kTypeZsetZiplist = 12,
  kTypeHashZiplist = 13,
  kTypeListQuicklist = 14,
  kTypeStreamListpacks = 15,
  kTypeHashListpack = 16,
  kTypeZsetListpack = 17,
  kTypeListQuicklist2 = 18,
  kTypeStreamListpacks2 = 19,
};

// Opcodes of the RDB file (never in a DUMP payload).
enum RdbOpcode : uint8_t {
  kOpFunction2 = 245,
  kOpFunctionPreGa = 246,
  kOpModuleAux = 247,
  kOpIdle = 248,
  kOpFreq = 249,
  kOpAux = 250,
  kOpResizeDb = 251,
  kOpExpireTimeMs = 252,
  kOpExpireTime = 253,
  kOpSelectDb = 254,
  kOpEof = 255,
};

// True for every object type Redis 7.0 knows (rdbIsObjectType), including
// the ones daxkv refuses (modules).
inline bool IsObjectType(int t) {
  return (t >= 0 && t <= 7) || (t >= 9 && t <= 19);
}

// "hash listpack (16)", "unknown (42)": for error messages.
std::string RdbTypeName(int type);

// Quicklist 2 node containers.
inline constexpr uint64_t kContainerPlain = 1;
inline constexpr uint64_t kContainerPacked = 2;

// Module-value opcodes (RDB_MODULE_OPCODE_*), for MODULE_AUX.
inline constexpr uint64_t kModuleOpEof = 0;
inline constexpr uint64_t kModuleOpUint = 2;

// Returns the 9-character module type name encoded in the high 54 bits of a
// module id (moduleTypeNameByID).
std::string ModuleTypeName(uint64_t module_id);

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_FORMAT_H_
