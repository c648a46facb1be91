// AccessClock: when each key was last accessed, for OBJECT IDLETIME.
//
// Redis keeps a 24-bit LRU clock in every object. daxkv's index stores no
// per-key metadata in DRAM besides the log location, so the server keeps a
// fixed table of access times indexed by key hash instead: one 32-bit
// second counter per bucket, kBuckets buckets (4 MiB). Two keys sharing a
// bucket share a time, so IDLETIME can under-report, never over-report: an
// access to either key counts for both. A key never accessed since the
// server started reports the time since start, as Redis does for keys it
// loaded at start-up.
//
// Thread-safety: Touch and IdleSeconds may run concurrently from any
// thread; a lost race only loses one touch of a bucket.
#ifndef DAXKV_KV_ACCESS_CLOCK_H_
#define DAXKV_KV_ACCESS_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

namespace daxkv::kv {

class AccessClock {
 public:
  static constexpr size_t kBuckets = size_t{1} << 20;

  // `start_ms`: the server's start (wall clock, ms).
  explicit AccessClock(int64_t start_ms);

  void Touch(std::string_view key, int64_t now_ms);
  // Starts loading `key`'s bucket into the cache, for a Touch soon after
  // (GetBatch: the touches of a batch then miss together).
  void Prefetch(std::string_view key) const {
    __builtin_prefetch(&stamps_[Bucket(key)]);
  }
  // Whole seconds since `key`'s bucket was last touched.
  int64_t IdleSeconds(std::string_view key, int64_t now_ms) const;

 private:
  // Seconds since kEpochS (2020-01-01), at least 1: 0 marks a bucket
  // never touched.
  static uint32_t Stamp(int64_t now_ms);
  static constexpr int64_t kEpochS = 1'577'836'800;
  static size_t Bucket(std::string_view key);

  int64_t start_ms_;
  std::unique_ptr<std::atomic<uint32_t>[]> stamps_;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_ACCESS_CLOCK_H_
