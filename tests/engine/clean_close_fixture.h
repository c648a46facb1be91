// A fixture for clean-close reopen tests (the index snapshot): SetUp fills
// a pool, records what a reopen must reproduce, and closes it cleanly;
// Reopen opens it again, checks the observation, and returns how the open
// rebuilt the index (Stats::index_recovery). Helpers read and write the
// superblocks and find the snapshot's header and chunks in the pool bytes.
#ifndef DAXKV_TESTS_ENGINE_CLEAN_CLOSE_FIXTURE_H_
#define DAXKV_TESTS_ENGINE_CLEAN_CLOSE_FIXTURE_H_

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>

#include "engine/db.h"
#include "engine/format.h"
#include "engine/index_snapshot.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {

// An expiry an hour from now (wall clock, ms): keys that stay expiring.
inline int64_t InOneHour() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() +
         3600 * 1000;
}

// Observation: what Observe returns, compared with ==.
template <typename Observation>
class CleanCloseFixture : public ::testing::Test {
 protected:
  CleanCloseFixture() : f_(32 << 20, 256 << 10) {}

  virtual void Populate(DB& db) = 0;
  virtual Observation Observe(DB& db) = 0;

  void SetUp() override {
    ASSERT_OK(f_.Open());
    ASSERT_NO_FATAL_FAILURE(Populate(*f_.db));
    closed_ = Observe(*f_.db);
    f_.db.reset();  // clean close: writes the snapshot
  }

  std::string Reopen() {
    EXPECT_OK(f_.Open());
    if (f_.db == nullptr) return "(open failed)";
    EXPECT_TRUE(Observe(*f_.db) == closed_) << "contents differ after reopen";
    return f_.db->GetStats().index_recovery;
  }

  // Opens `image` (pool bytes) into *scanned with snapshots off: what a
  // scan of the same bytes builds.
  void OpenScanning(const testing::HeapRegion::Buffer& image,
                    EngineFixture* scanned) {
    scanned->buffer = image;
    scanned->options = f_.options;
    scanned->options.index_snapshot = false;
    ASSERT_OK(scanned->Open());
    EXPECT_EQ(scanned->db->GetStats().index_recovery,
              "scan: Options::index_snapshot is off");
  }

  format::SuperBlock SuperBlockA() const {
    format::SuperBlock sb;
    std::memcpy(&sb, f_.buffer->data() + format::kSuperBlockOffsetA,
                sizeof(sb));
    return sb;
  }
  void WriteSuperBlocks(format::SuperBlock sb) {
    sb.crc = format::SuperBlockCrc(sb);
    for (uint64_t off :
         {format::kSuperBlockOffsetA, format::kSuperBlockOffsetB}) {
      std::memcpy(f_.buffer->data() + off, &sb, sizeof(sb));
    }
  }
  // Pool offset of the snapshot's chunk 0 payload (its header).
  uint64_t HeaderOffset() const {
    const format::SuperBlock sb = SuperBlockA();
    EXPECT_NE(sb.index_snapshot, 0u);
    return sb.data_offset + (sb.index_snapshot - 1) * sb.segment_size +
           format::kSegmentHeaderSize;
  }
  snapshot::Chunk ChunkAt(int c) const {
    snapshot::Chunk chunk;
    std::memcpy(&chunk,
                f_.buffer->data() + HeaderOffset() + sizeof(snapshot::Header) +
                    c * sizeof(snapshot::Chunk),
                sizeof(chunk));
    return chunk;
  }

  EngineFixture f_;
  Observation closed_;
};

}  // namespace daxkv::engine

#endif  // DAXKV_TESTS_ENGINE_CLEAN_CLOSE_FIXTURE_H_
