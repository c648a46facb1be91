// PackedInts: a small set of integers as one element entry's value (media
// format version 6; docs/collections.md, "Packed integer sets"). The bytes
// are Redis's intset layout: a u32 width (2, 4 or 8), a u32 count, then
// `count` distinct integers of that width, little-endian, ascending. The
// width is the narrowest that holds every member (unlike Redis, which never
// narrows: the engine rewrites the whole value on every change anyway).
//
// Why: a set of small integers is Redis's intset, 2 bytes a member in RAM.
// A location per member would cost daxkv 9; one entry for the whole set
// costs its DRAM no byte per member, at the price of rewriting at most
// Options::packed_set_max integers per change.
//
// Thread-safety: pure functions over caller-owned bytes.
#ifndef DAXKV_ENGINE_COLL_PACKED_INTS_H_
#define DAXKV_ENGINE_COLL_PACKED_INTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace daxkv::engine::coll {

// The subkey of a set's packed entry. Packed sets hold integers only, so no
// member of one is ""; a set that takes "" leaves the packed form first.
inline constexpr std::string_view kPackedSubkey{};

class PackedInts {
 public:
  static constexpr uint64_t kHeaderBytes = 8;

  // "" when `bytes` is a well-formed value (sizes agree, a valid width,
  // members strictly ascending, at least one member); else what is wrong.
  static std::string Check(std::string_view bytes);
  // The value holding `sorted` (REQUIRES: strictly ascending, non-empty).
  static std::string Encode(const std::vector<int64_t>& sorted);
  // The value `bytes` (Check()ed) with `v` inserted at `pos` (REQUIRES: v
  // absent, pos where Find() put it), or without its member at `pos`
  // (REQUIRES: pos < size(), size() > 1): copies around the change,
  // re-encoding only when the width changes.
  static std::string Inserted(std::string_view bytes, int64_t v, uint32_t pos);
  static std::string Erased(std::string_view bytes, uint32_t pos);

  // REQUIRES: Check(bytes) is "" (the bytes come from a checked entry or
  // from Encode); the view must outlive this object.
  explicit PackedInts(std::string_view bytes);

  uint32_t size() const { return count_; }
  int64_t At(uint32_t i) const;
  // Whether `v` is a member; *pos: its index, or where it would go.
  bool Find(int64_t v, uint32_t* pos) const;
  // Whether the canonical decimal text `member` is a member.
  bool Contains(std::string_view member) const;
  void Decode(std::vector<int64_t>* out) const;

 private:
  const char* data_;
  uint32_t width_;
  uint32_t count_;
};

// The canonical decimal text of `v` (Redis's ll2string).
std::string IntText(int64_t v);

}  // namespace daxkv::engine::coll

#endif  // DAXKV_ENGINE_COLL_PACKED_INTS_H_
