// Key/value generation and the request distributions of daxkv-bench:
// uniform, and YCSB's scrambled zipfian (theta 0.99, Gray et al.), so hot
// keys are spread over the key space rather than clustered.
//
// Thread-safety: a KeyChooser is per thread; Zipfian tables are immutable
// after construction and may be shared.
#ifndef DAXKV_BENCH_ENGINE_WORKLOAD_H_
#define DAXKV_BENCH_ENGINE_WORKLOAD_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace daxkv::bench {

inline constexpr size_t kKeySize = 16;

// "user" + 12 decimal digits: 16 bytes, distinct for every id < 10^12.
inline void FormatKey(uint64_t id, char out[kKeySize]) {
  static constexpr char kPrefix[4] = {'u', 's', 'e', 'r'};
  for (int i = 0; i < 4; ++i) out[i] = kPrefix[i];
  for (int i = kKeySize - 1; i >= 4; --i) {
    out[i] = static_cast<char>('0' + id % 10);
    id /= 10;
  }
}

// Zipfian ranks in [0, n) with P(rank) ~ 1 / rank^theta.
class Zipfian {
 public:
  Zipfian(uint64_t n, double theta = 0.99) : n_(n), theta_(theta) {
    for (uint64_t i = 1; i <= n; ++i) zetan_ += 1.0 / std::pow(i, theta);
    double zeta2 = 1.0 + 1.0 / std::pow(2.0, theta);
    alpha_ = 1.0 / (1.0 - theta);
    eta_ = (1.0 - std::pow(2.0 / n, 1.0 - theta)) / (1.0 - zeta2 / zetan_);
  }
  uint64_t n() const { return n_; }

  // u uniform in [0, 1).
  uint64_t Rank(double u) const {
    double uz = u * zetan_;
    if (uz < 1.0) return 0;
    if (uz < 1.0 + std::pow(0.5, theta_)) return 1;
    uint64_t r =
        static_cast<uint64_t>(n_ * std::pow(eta_ * u - eta_ + 1.0, alpha_));
    return r < n_ ? r : n_ - 1;
  }

 private:
  uint64_t n_;
  double theta_;
  double zetan_ = 0;
  double alpha_ = 0;
  double eta_ = 0;
};

// Per-thread source of key ids and operation choices.
class KeyChooser {
 public:
  KeyChooser(uint64_t n, const Zipfian* zipf, uint64_t seed)
      : n_(n), zipf_(zipf), rng_(seed) {}

  uint64_t Uniform() { return rng_() % n_; }
  // The zipfian rank scrambled over the key space (FNV-1a of the rank).
  uint64_t Zipf() {
    uint64_t rank = zipf_->Rank(Unit());
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < 8; ++i) {
      h ^= (rank >> (8 * i)) & 0xff;
      h *= 0x100000001b3ull;
    }
    return h % n_;
  }
  // True with probability percent / 100.
  bool Chance(unsigned percent) { return rng_() % 100 < percent; }
  double Unit() { return (rng_() >> 11) * (1.0 / 9007199254740992.0); }
  uint64_t Next() { return rng_(); }

 private:
  uint64_t n_;
  const Zipfian* zipf_;
  std::mt19937_64 rng_;
};

// Values: windows into a block of random bytes, shifted per operation so
// consecutive writes differ.
class ValueSource {
 public:
  ValueSource(size_t size, uint64_t seed) : size_(size) {
    std::mt19937_64 rng(seed);
    block_.resize(size + 256);
    for (char& c : block_) c = static_cast<char>(rng());
  }
  std::string_view Next(uint64_t op) const {
    return std::string_view(block_.data() + op % 256, size_);
  }

 private:
  size_t size_;
  std::string block_;
};

}  // namespace daxkv::bench

#endif  // DAXKV_BENCH_ENGINE_WORKLOAD_H_
