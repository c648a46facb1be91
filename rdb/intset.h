// Intset (intset.c): the blob of a small set whose members are all
// integers. Header: encoding (2, 4 or 8 bytes per member) and length, both
// u32 little-endian; then the members, ascending, little-endian.
//
// Thread-safety: pure.
#ifndef DAXKV_RDB_INTSET_H_
#define DAXKV_RDB_INTSET_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace daxkv::rdb {

// REQUIRES: `sorted` is strictly ascending. Uses the narrowest encoding that
// holds every member. (Redis never narrows an intset after SREM removes its
// widest member, so its blob may be wider; both load the same.)
std::string BuildIntset(const std::vector<int64_t>& sorted);

// Validates an intset (intsetValidateIntegrity with deep checks: encoding,
// size, non-empty, strictly ascending) and appends its members' decimal
// forms to *out. False with a reason in *error when malformed.
bool ParseIntset(std::string_view blob, std::vector<std::string>* out,
                 std::string* error);

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_INTSET_H_
