// Recovery's two-phase index rebuild (engine/index_builder.h): whatever the
// order entries are met in and however many workers file them, the index,
// the live bytes per segment and the dead puts reported are those of "the
// highest sequence number of a key wins".
#include "engine/index_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/format.h"
#include "engine/index.h"
#include "engine/key_hash.h"
#include "tests/engine/log_image.h"

namespace daxkv::engine {
namespace {

constexpr uint64_t kDataOffset = 4096;
constexpr uint64_t kSegmentSize = 64 << 10;
constexpr uint64_t kSegments = 16;

struct Built {
  std::unique_ptr<Index> index;
  std::vector<uint64_t> live;  // per segment
  uint64_t dead_puts = 0;
};

class IndexBuilderTest : public ::testing::Test {
 protected:
  IndexBuilderTest()
      : log_(kDataOffset + kSegments * kSegmentSize, kDataOffset) {
    sb_.data_offset = kDataOffset;
    sb_.segment_size = kSegmentSize;
    sb_.segment_count = kSegments;
  }

  // Entries of 500 keys with sequence numbers in log order: puts (some
  // with an expiry) and tombstones, values of varying size.
  void MakeLog(int entries) {
    std::mt19937 rng(3);
    for (int i = 0; i < entries; ++i) {
      std::string key = "key-" + std::to_string(rng() % 500);
      const bool tomb = rng() % 7 == 0;
      const int64_t expire = !tomb && rng() % 10 == 0 ? 1000 + i : 0;
      std::string value(tomb ? 0 : 5 + rng() % 200, 'v');
      locs_.push_back(log_.Add(
          key, i + 1, tomb ? format::kTombstone : format::kPut, expire, value));
      keys_.push_back(std::move(key));
    }
    ASSERT_LE(locs_.back(), kDataOffset + kSegments * kSegmentSize - 256);
  }

  uint64_t SegOf(uint64_t loc) const {
    return (loc - kDataOffset) / kSegmentSize;
  }

  // Files every entry, in `order`, over `workers` threads, then builds.
  Built Build(int workers, const std::vector<size_t>& order) {
    Built b;
    b.index = std::make_unique<Index>(log_.base());
    IndexBuilder builder(log_.base(), sb_, b.index.get(), workers);
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w) {
      threads.emplace_back([&, w] {
        for (size_t i = w; i < order.size(); i += workers) {
          const uint64_t loc = locs_[order[i]];
          builder.Add(w, loc, log_.entry(loc));
        }
      });
    }
    for (auto& t : threads) t.join();
    std::atomic<uint64_t> dead{0};
    builder.Build([&](uint64_t) { dead.fetch_add(1); });
    b.dead_puts = dead.load();
    for (uint64_t seg = 0; seg < kSegments; ++seg) {
      b.live.push_back(builder.LiveBytes(seg));
    }
    return b;
  }

  // Every slot of every shard, and every shard's expiry set.
  static std::vector<std::vector<std::pair<uint64_t, bool>>> Slots(
      const Index& index) {
    std::vector<std::vector<std::pair<uint64_t, bool>>> all(kShardCount);
    for (uint32_t i = 0; i < kShardCount; ++i) {
      index.ForEach(index.shard_at(i), [&](uint64_t loc, bool tomb) {
        all[i].emplace_back(loc, tomb);
      });
      std::sort(all[i].begin(), all[i].end());
    }
    return all;
  }

  LogImage log_;
  format::SuperBlock sb_{};
  std::vector<uint64_t> locs_;
  std::vector<std::string> keys_;
};

TEST_F(IndexBuilderTest, ParallelBuildInAnyOrderEqualsTheNewestEntryModel) {
  ASSERT_NO_FATAL_FAILURE(MakeLog(4000));
  // The model: each key's newest entry.
  std::map<std::string, size_t> newest;
  for (size_t i = 0; i < locs_.size(); ++i) newest[keys_[i]] = i;
  std::vector<uint64_t> live(kSegments, 0);
  uint64_t puts = 0;
  uint64_t live_puts = 0;
  for (size_t i = 0; i < locs_.size(); ++i) {
    if (log_.entry(locs_[i]).type == format::kPut) ++puts;
  }
  for (const auto& [key, i] : newest) {
    const format::EntryHeader e = log_.entry(locs_[i]);
    if (e.type != format::kPut) continue;
    ++live_puts;
    live[SegOf(locs_[i])] += format::IndexedEntryBytes(e);
  }

  std::vector<size_t> in_log_order(locs_.size());
  for (size_t i = 0; i < in_log_order.size(); ++i) in_log_order[i] = i;
  std::vector<size_t> shuffled = in_log_order;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(9));
  std::vector<size_t> reversed(in_log_order.rbegin(), in_log_order.rend());

  const Built sequential = Build(1, in_log_order);
  for (const auto& [key, i] : newest) {
    const KeyHash kh(key);
    const Index::Shard& s = sequential.index->shard(kh);
    const bool tomb = log_.entry(locs_[i]).type == format::kTombstone;
    EXPECT_EQ(sequential.index->Find(s, kh, key).loc, tomb ? 0 : locs_[i])
        << key;
  }
  EXPECT_EQ(sequential.live, live);
  EXPECT_EQ(sequential.dead_puts, puts - live_puts);
  uint64_t expiring = 0;
  for (const auto& [key, i] : newest) {
    expiring += log_.entry(locs_[i]).type == format::kPut &&
                log_.entry(locs_[i]).expire_at_ms != 0;
  }
  uint64_t indexed_expiring = 0;
  for (uint32_t i = 0; i < kShardCount; ++i) {
    indexed_expiring += sequential.index->shard_at(i).expiring.size();
    EXPECT_EQ(sequential.index->shard_at(i).tombstones, 0u);
  }
  EXPECT_EQ(indexed_expiring, expiring);

  const auto want = Slots(*sequential.index);
  for (const auto& [workers, order] :
       std::vector<std::pair<int, std::vector<size_t>>>{
           {4, shuffled}, {3, reversed}, {1, shuffled}}) {
    const Built b = Build(workers, order);
    EXPECT_EQ(Slots(*b.index), want) << workers << " workers";
    EXPECT_EQ(b.live, live) << workers << " workers";
    EXPECT_EQ(b.dead_puts, puts - live_puts) << workers << " workers";
    for (uint32_t i = 0; i < kShardCount; ++i) {
      EXPECT_EQ(b.index->shard_at(i).expiring,
                sequential.index->shard_at(i).expiring)
          << "shard " << i;
    }
  }
}

}  // namespace
}  // namespace daxkv::engine
