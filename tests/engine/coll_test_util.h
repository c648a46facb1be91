// A stand-in for the pool in the collection-structure tests: element bytes
// in a vector, addressed by fake locations (8, 16, ...), read through the
// ElemSource interface as the engine's structures read the pool.
#ifndef DAXKV_TESTS_ENGINE_COLL_TEST_UTIL_H_
#define DAXKV_TESTS_ENGINE_COLL_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/coll_loc.h"

namespace daxkv::engine::coll {

class FakeMedium : public ElemSource {
 public:
  explicit FakeMedium(uint64_t seed = 0x5eed) : ElemSource(seed) {}
  // Appends an element; returns its location.
  uint64_t Add(std::string subkey, double score = 0) {
    elems_.push_back({std::move(subkey), score});
    return 8 * elems_.size();
  }
  // Copies the element at `loc` to a new location (compaction's move).
  uint64_t Copy(uint64_t loc) {
    Elem e = elems_[loc / 8 - 1];
    elems_.push_back(std::move(e));
    return 8 * elems_.size();
  }
  std::string_view Subkey(uint64_t loc) const override {
    ++reads_;
    return elems_.at(loc / 8 - 1).subkey;
  }
  double Score(uint64_t loc) const override {
    ++reads_;
    return elems_.at(loc / 8 - 1).score;
  }
  uint64_t reads() const { return reads_; }

 private:
  struct Elem {
    std::string subkey;
    double score;
  };
  std::vector<Elem> elems_;
  mutable uint64_t reads_ = 0;
};

}  // namespace daxkv::engine::coll

#endif  // DAXKV_TESTS_ENGINE_COLL_TEST_UTIL_H_
