// Integers in Redis's canonical decimal text, the one rule both the
// protocol layer (INCR, ranges, counts) and the engine's encoding hints
// (what an intset can hold) follow.
//
// Thread-safety: pure functions.
#ifndef DAXKV_BASE_INT_TEXT_H_
#define DAXKV_BASE_INT_TEXT_H_

#include <cstdint>
#include <string_view>

namespace daxkv {

// Strict decimal integer parse as Redis's string2ll: no spaces, no '+', no
// leading zeros, no "-0", fits in int64.
[[nodiscard]] bool ParseInt64(std::string_view s, int64_t* out);

}  // namespace daxkv

#endif  // DAXKV_BASE_INT_TEXT_H_
