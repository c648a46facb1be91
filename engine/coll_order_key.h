// Order keys: the subkeys that give list elements their order on the
// medium (fractional indexing). A list element's record carries its order
// key; the list's order is the keys' byte order (memcmp, a proper prefix
// first), so LPUSH, RPUSH and LINSERT each write one element record and
// never renumber the list. See docs/collections.md, "Lists".
//
// Encoding: [head][integer digits][fraction]. The head byte selects a band
// of consecutive integers: 0x80 is zero; 0x80 + n (n >= 1) a band of
// 256^n positive integers written as n big-endian digits; 0x80 - n the
// mirror band of negative ones. The fraction is any byte string whose last
// byte is not 0, read as base-256 digits after the point. Byte order then
// equals numeric order, so:
//   * pushes at either end step the integer: 1M pushes per side take keys
//     of at most 4 bytes (a key of n digits serves 256^n pushes);
//   * an insertion between two keys takes a midpoint, usually 1-3 bytes
//     longer than its neighbours; repeated insertions at one spot grow keys
//     by about one byte per 8, so PlanInsert() relabels a window of
//     neighbours (new evenly spread keys) once a key would exceed
//     kMaxOrderKeyLen. Relabelling is rare and local (amortized cost
//     measured in tests/engine/coll_order_key_test.cc).
//
// Thread-safety: everything here is pure.
#ifndef DAXKV_ENGINE_COLL_ORDER_KEY_H_
#define DAXKV_ENGINE_COLL_ORDER_KEY_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/function_ref.h"

namespace daxkv::engine::coll {

// Longest key PlanInsert() hands out without relabelling.
inline constexpr size_t kMaxOrderKeyLen = 32;
// Longest key a relabelling aims for, so that the next insertions at the
// same spot have (kMaxOrderKeyLen - kRelabelKeyLen) * 8 halvings of room.
inline constexpr size_t kRelabelKeyLen = 16;

// Whether `key` is a well-formed order key (recovery checks every key it
// reads: a malformed one is reported as damage, never ordered silently).
bool ValidOrderKey(std::string_view key);

// The key of the first element of an empty list.
std::string FirstOrderKey();
// A short key greater than `last` (past the largest integer, 256^127
// pushes away, a fraction). REQUIRES: a valid key.
std::string OrderKeyAfter(std::string_view last);
// A short key less than `first`; nullopt only below the smallest integer
// (PlanInsert() relabels then). REQUIRES: a valid key.
std::optional<std::string> OrderKeyBefore(std::string_view first);
// A short key strictly between `a` and `b`. REQUIRES: valid keys, a < b.
std::string OrderKeyBetween(std::string_view a, std::string_view b);

// `count` ascending keys strictly between `lo` and `hi` (nullopt: unbounded),
// as short as their bounds allow: consecutive integers where there is room,
// balanced bisection otherwise. Fewer keys only when `hi` is the smallest
// possible key. REQUIRES: lo < hi when both are given.
std::vector<std::string> SpreadOrderKeys(std::optional<std::string_view> lo,
                                         std::optional<std::string_view> hi,
                                         size_t count);

// Where a new element goes and which keys change. The new element takes
// keys[pos - first]; the existing elements [first, last) take the other
// keys in order. No relabelling: first == last == pos and keys has one key.
struct InsertPlan {
  size_t first = 0;
  size_t last = 0;
  std::vector<std::string> keys;  // last - first + 1 keys, ascending

  bool relabels() const { return last > first; }
};

// Plans inserting an element at position `pos` (0..n) of a list of `n`
// elements whose i-th key is key_at(i). Reads O(1) keys when no relabelling
// is needed, else O(window) keys. REQUIRES: key_at yields the list's keys in
// ascending order; each returned view stays valid until the next call.
// *plan's earlier contents are replaced.
void PlanInsert(size_t n, size_t pos,
                FunctionRef<std::string_view(size_t)> key_at, InsertPlan* plan,
                size_t max_len = kMaxOrderKeyLen);
// The same, as a value. The form above refills a plan the caller keeps:
// its key vector keeps its capacity, so that a push allocates nothing.
inline InsertPlan PlanInsert(size_t n, size_t pos,
                             FunctionRef<std::string_view(size_t)> key_at,
                             size_t max_len = kMaxOrderKeyLen) {
  InsertPlan plan;
  PlanInsert(n, pos, key_at, &plan, max_len);
  return plan;
}

}  // namespace daxkv::engine::coll

#endif  // DAXKV_ENGINE_COLL_ORDER_KEY_H_
