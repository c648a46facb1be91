#include "kv/duration_histogram.h"

#include <bit>
#include <cmath>

namespace daxkv::kv::duration_histogram {

size_t BucketOf(uint64_t ns) {
  if (ns < (uint64_t{1} << kMinExp)) return 0;
  const int exp = std::bit_width(ns) - 1;
  if (exp > kMaxExp) return kBuckets - 1;
  const uint64_t sub = (ns >> (exp - kSubBits)) & (kSub - 1);
  return 1 + static_cast<size_t>(exp - kMinExp) * kSub + sub;
}

uint64_t BucketHigh(size_t bucket) {
  if (bucket == 0) return (uint64_t{1} << kMinExp) - 1;
  const size_t i = bucket - 1;
  const int exp = kMinExp + static_cast<int>(i / kSub);
  const uint64_t sub = i % kSub;
  const uint64_t width = uint64_t{1} << (exp - kSubBits);
  return (uint64_t{1} << exp) + (sub + 1) * width - 1;
}

uint64_t Total(std::span<const uint64_t> counts) {
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  return total;
}

double PercentileMicros(std::span<const uint64_t> counts, double percentile) {
  const uint64_t total = Total(counts);
  if (total == 0) return 0;
  // hdr_histogram: the smallest value whose cumulative count reaches
  // ceil(percentile * total), at least the first recorded one.
  const double want =
      std::ceil(percentile / 100.0 * static_cast<double>(total));
  const uint64_t target = want < 1 ? 1 : static_cast<uint64_t>(want);
  uint64_t seen = 0;
  for (size_t b = 0; b < counts.size(); ++b) {
    seen += counts[b];
    if (seen >= target) return static_cast<double>(BucketHigh(b)) / 1000.0;
  }
  return static_cast<double>(BucketHigh(counts.size() - 1)) / 1000.0;
}

}  // namespace daxkv::kv::duration_histogram
