// Zipmap (zipmap.c), read only: the small-hash blob of RDB files written by
// Redis 2.4 and earlier, which Redis 7.0 still loads.
//
// Thread-safety: pure.
#ifndef DAXKV_RDB_ZIPMAP_H_
#define DAXKV_RDB_ZIPMAP_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace daxkv::rdb {

// Validates a zipmap (zipmapValidateIntegrity with deep checks) and appends
// its field/value pairs to *out. False with a reason in *error.
bool ParseZipmap(std::string_view blob,
                 std::vector<std::pair<std::string, std::string>>* out,
                 std::string* error);

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_ZIPMAP_H_
