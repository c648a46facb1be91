// The buckets of a command's duration histogram (LATENCY HISTOGRAM, INFO
// latencystats): nanoseconds from 1 µs to about 1 s as Redis 7.0 tracks
// them, log-linear like Redis's hdr_histogram: 64 buckets per power of
// two, so a percentile read back is within 1.6% of the recorded value
// (Redis's: 2 significant digits). Durations outside the range count in
// the first or last bucket.
//
// Thread-safety: pure functions.
#ifndef DAXKV_KV_DURATION_HISTOGRAM_H_
#define DAXKV_KV_DURATION_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace daxkv::kv::duration_histogram {

inline constexpr int kSubBits = 6;
inline constexpr uint64_t kSub = uint64_t{1} << kSubBits;
inline constexpr int kMinExp = 10;  // 1024 ns: the first power's start
inline constexpr int kMaxExp = 29;  // ends at 2^30 ns, 1.07 s
inline constexpr size_t kBuckets = (kMaxExp - kMinExp + 1) * kSub + 1;

// The bucket of a duration (bucket 0: below 1024 ns).
size_t BucketOf(uint64_t ns);
// The largest duration a bucket holds, in ns.
uint64_t BucketHigh(size_t bucket);
// The durations counted.
uint64_t Total(std::span<const uint64_t> counts);
// The value below which `percentile` (0..100) of `counts` lie, as Redis's
// hdr_value_at_percentile: the high end of the bucket holding it, in µs.
double PercentileMicros(std::span<const uint64_t> counts, double percentile);

}  // namespace daxkv::kv::duration_histogram

#endif  // DAXKV_KV_DURATION_HISTOGRAM_H_
