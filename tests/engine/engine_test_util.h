// Shared helpers for engine tests: a pool on a HeapRegion that can be
// reopened or "crashed" (reopened from a byte snapshot).
#ifndef DAXKV_TESTS_ENGINE_ENGINE_TEST_UTIL_H_
#define DAXKV_TESTS_ENGINE_ENGINE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "engine/db.h"
#include "engine/format.h"
#include "engine/pool_inspect.h"
#include "tests/engine/heap_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {

// Options for tests that drive the pool by hand: one recovery thread (crash
// tests recover thousands of images), no background work.
inline Options ManualOptions(size_t segment_size, bool create = true,
                             bool repair = false) {
  Options o;
  o.segment_size = segment_size;
  o.create_if_missing = create;
  o.repair = repair;
  o.recovery_threads = 1;
  o.background_compaction = false;
  o.background_expiry = false;
  return o;
}

// The live bytes Stats counts for a key written by a single put of a
// `value_len`-byte value: its record, header and CRCs included, spelt out
// here from docs/format.md rather than taken from the engine.
inline uint64_t PutRecordBytes(std::string_view key, size_t value_len) {
  return (32 + key.size() + value_len + 7) / 8 * 8 + 8;
}

// InspectPool (verifying) of a pool's bytes; an empty report on error.
inline PoolReport InspectBuffer(const testing::HeapRegion::Buffer& buffer) {
  testing::HeapRegion region(buffer);
  InspectOptions io;
  io.verify = true;
  auto r = InspectPool(region, io);
  EXPECT_OK(r);
  return r.ok() ? *r : PoolReport{};
}

// Rewrites both superblock copies of a pool's bytes with `version` (valid
// CRC): a pool as an older (or newer) binary left it.
inline void SetPoolFormatVersion(std::vector<char>* pool, uint32_t version) {
  for (uint64_t off :
       {format::kSuperBlockOffsetA, format::kSuperBlockOffsetB}) {
    format::SuperBlock sb;
    std::memcpy(&sb, pool->data() + off, sizeof(sb));
    sb.format_version = version;
    sb.crc = format::SuperBlockCrc(sb);
    std::memcpy(pool->data() + off, &sb, sizeof(sb));
  }
}

struct EngineFixture {
  explicit EngineFixture(size_t size = 32 << 20, size_t segment = 1 << 20,
                         size_t capacity = 0)
      : buffer(testing::HeapRegion::NewBuffer(size, capacity)) {
    options.segment_size = segment;
    options.background_compaction = false;
    options.background_expiry = false;
    options.background_scrub = false;
    options.recovery_threads = 2;
  }

  Status Open() {
    db.reset();
    auto r = DB::Open(std::make_unique<testing::HeapRegion>(buffer), options);
    if (!r.ok()) return r.status();
    db = std::move(r).value();
    return OkStatus();
  }
  Status Reopen() { return Open(); }

  // A copy of the pool bytes now, as a power failure would leave them on a
  // byte-granularity medium.
  testing::HeapRegion::Buffer Snapshot() const {
    auto b = std::make_shared<std::vector<char>>();
    b->reserve(buffer->capacity());
    *b = *buffer;
    return b;
  }

  testing::HeapRegion::Buffer buffer;
  Options options;
  std::unique_ptr<DB> db;
};

}  // namespace daxkv::engine

#endif  // DAXKV_TESTS_ENGINE_ENGINE_TEST_UTIL_H_
