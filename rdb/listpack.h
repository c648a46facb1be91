// Listpack (listpack.c): the blob inside Redis 7.0's small hashes, small
// sorted sets and every quicklist node.
//
// Thread-safety: builders are used by one thread; ParseListpack is pure.
#ifndef DAXKV_RDB_LISTPACK_H_
#define DAXKV_RDB_LISTPACK_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace daxkv::rdb {

// Builds a listpack the way lpAppend does: a canonical integer string is
// stored in the smallest integer encoding (7-bit, 13, 16, 24, 32 or 64 bit),
// anything else as a 6-bit, 12-bit or 32-bit length string.
class ListpackBuilder {
 public:
  ListpackBuilder();

  void Append(std::string_view element);
  size_t count() const { return count_; }
  // lpBytes(): the size Finish() will return.
  size_t bytes() const { return buf_.size() + 1; }
  // Writes the header (the count saturates at 65535, "unknown", as in
  // Redis) and the terminator; returns the blob and empties the builder.
  std::string Finish();

 private:
  std::string buf_;
  size_t count_ = 0;
};

// The bytes `element` takes in a listpack: encoding, contents, back-length.
size_t ListpackEntrySize(std::string_view element);

// The size of an empty listpack: header and terminator.
inline constexpr size_t kEmptyListpackBytes = 7;

// Validates a listpack completely (header size, every entry's encoding and
// back-length, the count, the terminator: lpValidateIntegrity with deep
// checks) and appends its entries, integers as their decimal form, to *out.
// Returns false with a reason in *error when the blob is malformed.
bool ParseListpack(std::string_view blob, std::vector<std::string>* out,
                   std::string* error);

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_LISTPACK_H_
