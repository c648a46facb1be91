// The power-cut test's workload: a deterministic stream of puts, so that a
// verifier after a crash can tell, from a value alone, which write produced
// it and whether it arrived intact.
//
// Write number `seq` of a run with `seed` always puts the same key and
// value: the key is one of `keys` names ("pc:<n>"), the value starts with
// "s<seq>|" followed by filler derived from (seed, seq). Mostly small values,
// one in sixteen between 4 KiB and 32 KiB (the engine's large-value path).
//
// Thread-safety: pure functions.
#ifndef DAXKV_TESTS_LAB_POWERCUT_WORKLOAD_H_
#define DAXKV_TESTS_LAB_POWERCUT_WORKLOAD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace daxkv::lab {

struct PutOp {
  std::string key;
  std::string value;
};

// REQUIRES: keys > 0.
PutOp MakePut(uint64_t seed, uint64_t seq, uint32_t keys);

// The seq a workload value names in its "s<seq>|" prefix; nullopt when the
// value does not start with one.
std::optional<uint64_t> ParseSeq(std::string_view value);

}  // namespace daxkv::lab

#endif  // DAXKV_TESTS_LAB_POWERCUT_WORKLOAD_H_
