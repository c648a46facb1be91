// Ziplist (ziplist.c), read only: the blob of RDB files written before Redis
// 7.0 (list, hash and sorted set ziplists, quicklist 1 nodes). Redis 7.0
// converts every ziplist it loads; so does daxkv.
//
// Thread-safety: pure.
#ifndef DAXKV_RDB_ZIPLIST_H_
#define DAXKV_RDB_ZIPLIST_H_

#include <string>
#include <string_view>
#include <vector>

namespace daxkv::rdb {

// Validates a ziplist completely (ziplistValidateIntegrity with deep
// checks: header sizes, each entry's prevlen and encoding, the tail offset,
// the count, the terminator) and appends its entries, integers as their
// decimal form, to *out. False with a reason in *error when malformed.
bool ParseZiplist(std::string_view blob, std::vector<std::string>* out,
                  std::string* error);

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_ZIPLIST_H_
