// MemberKeys: the 8-byte key a large sorted set's order entries carry for
// their members (coll_zset.h), so that score ties are decided in DRAM
// instead of by reading members from the medium. Keys that differ order as
// their members do (Redis's memcmp order, a proper prefix first); equal
// keys decide nothing, and the caller reads the members.
//
// Members mostly share a leading part ("user:", redis-benchmark's
// "element:0000000"), on which a plain 8-byte prefix (MemberPrefix) spends
// bytes that never differ: every tie on the score then reads members. So a
// large zset keys its members past the part they all share ("common", up
// to kMaxCommon bytes), and a key is a 2-bit class:
//   0  the string orders before `common` and does not start with it,
//   1  it starts with `common`,
//   2  it orders after `common` and does not start with it,
// above 62 bits of its bytes: those after `common` for class 1, those from
// its start otherwise. Members are all class 1: the zset shrinks the part
// before a member that leaves it goes in, remaking the old keys with
// KeyFromWider (ZsetIndex::Narrow). Classes 0 and 2 key the strings that
// are not members, a ZRANGEBYLEX bound; the classes order as their strings
// do, so those compare right too. With no common part the key is
// MemberPrefix.
//
// Thread-safety: immutable after construction.
#ifndef DAXKV_ENGINE_COLL_MEMBER_KEYS_H_
#define DAXKV_ENGINE_COLL_MEMBER_KEYS_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace daxkv::engine::coll {

// A member's first 8 bytes as a big-endian integer, zero-padded: members
// whose prefixes differ order as their prefixes do (Redis's memcmp order,
// a proper prefix first); equal prefixes decide nothing.
inline uint64_t MemberPrefix(std::string_view member) {
  unsigned char b[8] = {};
  std::memcpy(b, member.data(), member.size() < 8 ? member.size() : 8);
  uint64_t p = 0;
  for (unsigned char c : b) p = p << 8 | c;
  return p;
}

class MemberKeys {
 public:
  static constexpr size_t kMaxCommon = 23;

  MemberKeys() = default;
  // REQUIRES: common.size() <= kMaxCommon.
  explicit MemberKeys(std::string_view common)
      : len_(static_cast<uint8_t>(common.size())) {
    std::memcpy(common_, common.data(), common.size());
  }

  std::string_view common() const { return {common_, len_}; }

  uint64_t KeyOf(std::string_view member) const {
    if (len_ == 0) return MemberPrefix(member);
    const size_t n = std::min<size_t>(member.size(), len_);
    const int c = n == 0 ? 0 : std::memcmp(member.data(), common_, n);
    if (c == 0 && member.size() >= len_) {
      return kStarts | MemberPrefix(member.substr(len_)) >> 2;
    }
    // c == 0 here: the member is a proper prefix of `common`, so before it.
    return (c > 0 ? kAfter : 0) | MemberPrefix(member) >> 2;
  }

  // This part's key of a member whose key under `wider` (whose part this
  // one starts and is shorter than) is `key`, without the member: the
  // bytes this key adds sit in `wider`'s part, and the member's bytes it
  // keeps are the first ones `key` holds. REQUIRES: the member starts
  // with wider's part.
  uint64_t KeyFromWider(uint64_t key, const MemberKeys& wider) const {
    const size_t extra = wider.len_ - len_;  // >= 1
    const uint64_t past = key << 2;          // member bytes past wider's part
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) {
      const uint64_t byte =
          i < extra ? static_cast<unsigned char>(wider.common_[len_ + i])
                    : past >> (56 - 8 * (i - extra)) & 0xff;
      v = v << 8 | byte;
    }
    return len_ == 0 ? v : kStarts | v >> 2;
  }
  // The keys for a first member: as much of it as a part holds.
  static MemberKeys Of(std::string_view member) {
    return MemberKeys(member.substr(0, std::min(member.size(), kMaxCommon)));
  }
  // These keys if `member` starts with their part, else the keys of the
  // piece of the part it shares.
  MemberKeys NarrowedFor(std::string_view member) const {
    if (Covers(member)) return *this;
    return MemberKeys(common().substr(0, SharedLength(common(), member)));
  }
  bool Covers(std::string_view member) const {
    return member.size() >= len_ &&
           (len_ == 0 || std::memcmp(member.data(), common_, len_) == 0);
  }

  // The length of the part a and b both start with, at most kMaxCommon:
  // folded over members, it gives the part they all share.
  static size_t SharedLength(std::string_view a, std::string_view b) {
    const size_t n = std::min({a.size(), b.size(), kMaxCommon});
    size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
  }

 private:
  static constexpr uint64_t kStarts = uint64_t{1} << 62;
  static constexpr uint64_t kAfter = uint64_t{2} << 62;

  uint8_t len_ = 0;
  char common_[kMaxCommon] = {};
};

}  // namespace daxkv::engine::coll

#endif  // DAXKV_ENGINE_COLL_MEMBER_KEYS_H_
