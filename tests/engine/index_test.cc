// The DRAM hash index (engine/index.h) on its own: lookups compare the
// key bytes in the log, keys sharing a position stay apart, replacement and
// removal (backward shift, wrapping at the table's end), the position-order
// scan, the expiry set, and recovery's newest-sequence insert.
#include "engine/index.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/format.h"
#include "engine/key_hash.h"
#include "tests/engine/log_image.h"

namespace daxkv::engine {
namespace {

// `key`'s hash moved to `shard` and position `pos`, so that tests choose
// which keys collide.
KeyHash HashAt(std::string_view key, uint32_t shard, uint32_t pos) {
  KeyHash kh(key);
  constexpr int kLowBits = 64 - kShardBits - kPosBits;
  kh.h = uint64_t{shard} << (64 - kShardBits) | uint64_t{pos} << kLowBits |
         (kh.h & ((uint64_t{1} << kLowBits) - 1));
  return kh;
}

class IndexTest : public ::testing::Test {
 protected:
  LogImage log_;
  Index index_{log_.base()};
  uint64_t seq_ = 0;
};

TEST_F(IndexTest, UpsertFindReplaceErase) {
  const KeyHash kh("alpha");
  Index::Shard& s = index_.shard(kh);
  std::lock_guard<RwSpinLock> l(s.mu);
  const uint64_t first = log_.Add("alpha", ++seq_);
  const uint64_t second = log_.Add("alpha", ++seq_);

  EXPECT_EQ(index_.Find(s, kh, "alpha").loc, 0u);
  EXPECT_EQ(index_.Upsert(s, kh, "alpha", first, false).loc, 0u);
  EXPECT_EQ(index_.Find(s, kh, "alpha").loc, first);
  EXPECT_TRUE(index_.IndexedAt(s, kh, first));
  // Same hash, other bytes: not this key (the index keeps no keys).
  EXPECT_EQ(index_.Find(s, kh, "alphb").loc, 0u);

  IndexHit prev = index_.Upsert(s, kh, "alpha", second, false);
  EXPECT_EQ(prev.loc, first);
  EXPECT_FALSE(prev.tombstone);
  EXPECT_EQ(index_.Find(s, kh, "alpha").loc, second);
  EXPECT_FALSE(index_.IndexedAt(s, kh, first));
  EXPECT_EQ(s.used, 1u);

  EXPECT_EQ(index_.Erase(s, kh, "alpha").loc, second);
  EXPECT_EQ(index_.Find(s, kh, "alpha").loc, 0u);
  EXPECT_EQ(index_.Erase(s, kh, "alpha").loc, 0u);
  EXPECT_EQ(s.used, 0u);
}

TEST_F(IndexTest, KeysSharingAPositionAreToldApartByTheirBytes) {
  constexpr uint32_t kShard = 7;
  constexpr uint32_t kPos = 12345;
  Index::Shard& s = index_.shard_at(kShard);
  std::lock_guard<RwSpinLock> l(s.mu);
  std::vector<std::string> keys;
  std::map<std::string, uint64_t> locs;
  for (int i = 0; i < 40; ++i) {
    keys.push_back("same-pos-" + std::to_string(i));
    locs[keys.back()] = log_.Add(keys.back(), ++seq_);
    index_.Upsert(s, HashAt(keys.back(), kShard, kPos), keys.back(),
                  locs[keys.back()], false);
  }
  EXPECT_GT(s.slots.size(), 40u) << "the shard grew past its first table";
  for (const std::string& k : keys) {
    EXPECT_EQ(index_.Find(s, HashAt(k, kShard, kPos), k).loc, locs[k]) << k;
  }
  // Removing keys from the middle of the run keeps the rest reachable.
  for (size_t i = 0; i < keys.size(); i += 3) {
    EXPECT_EQ(index_.Erase(s, HashAt(keys[i], kShard, kPos), keys[i]).loc,
              locs[keys[i]]);
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const uint64_t want = i % 3 == 0 ? 0 : locs[keys[i]];
    EXPECT_EQ(index_.Find(s, HashAt(keys[i], kShard, kPos), keys[i]).loc, want)
        << keys[i];
  }
}

// Random upserts and erases of keys crowded onto a few positions, some at
// the table's end so that their runs wrap to slot 0: the index answers as
// a map would after every step.
TEST_F(IndexTest, RandomUpsertsAndErasesMatchAMap) {
  constexpr uint32_t kShard = 3;
  const uint32_t kTop = (1u << kPosBits) - 1;
  const std::vector<uint32_t> positions = {0,        1,        2,   77,
                                           1u << 23, kTop - 1, kTop};
  Index::Shard& s = index_.shard_at(kShard);
  std::lock_guard<RwSpinLock> l(s.mu);
  std::mt19937_64 rng(12);
  std::map<std::string, uint64_t> model;
  auto key_of = [](int i) { return "k" + std::to_string(i); };
  auto hash_of = [&](int i) {
    return HashAt(key_of(i), kShard, positions[i % positions.size()]);
  };
  constexpr int kKeys = 150;
  for (int op = 0; op < 6000; ++op) {
    const int i = static_cast<int>(rng() % kKeys);
    const std::string key = key_of(i);
    if (rng() % 3 == 0) {
      auto it = model.find(key);
      const uint64_t want = it == model.end() ? 0 : it->second;
      ASSERT_EQ(index_.Erase(s, hash_of(i), key).loc, want) << "op " << op;
      model.erase(key);
    } else {
      const uint64_t loc = log_.Add(key, ++seq_);
      auto it = model.find(key);
      const uint64_t want = it == model.end() ? 0 : it->second;
      ASSERT_EQ(index_.Upsert(s, hash_of(i), key, loc, false).loc, want)
          << "op " << op;
      model[key] = loc;
    }
    ASSERT_EQ(s.used, model.size());
    if (op % 50 == 0 || op == 5999) {
      for (int j = 0; j < kKeys; ++j) {
        auto it = model.find(key_of(j));
        const uint64_t want = it == model.end() ? 0 : it->second;
        ASSERT_EQ(index_.Find(s, hash_of(j), key_of(j)).loc, want)
            << "op " << op << " key " << key_of(j);
      }
    }
  }
}

// SCAN's promise: a key present for the whole scan is returned exactly
// once, even when the table grows and other keys come and go in between;
// tombstones are never returned.
TEST_F(IndexTest, ScanRangeVisitsEachLiveKeyOnceWhileTheTableGrows) {
  constexpr uint32_t kShard = 5;
  Index::Shard& s = index_.shard_at(kShard);
  std::lock_guard<RwSpinLock> l(s.mu);
  std::mt19937 rng(5);
  auto pos = [&] { return static_cast<uint32_t>(rng() % (1u << kPosBits)); };
  std::set<uint64_t> stable;
  std::set<uint64_t> tombstones;
  for (int i = 0; i < 200; ++i) {
    std::string key = "stable-" + std::to_string(i);
    uint64_t loc = log_.Add(key, ++seq_);
    index_.Upsert(s, HashAt(key, kShard, pos()), key, loc, false);
    stable.insert(loc);
  }
  for (int i = 0; i < 20; ++i) {
    std::string key = "gone-" + std::to_string(i);
    uint64_t loc = log_.Add(key, ++seq_, format::kTombstone);
    index_.Upsert(s, HashAt(key, kShard, pos()), key, loc, true);
    tombstones.insert(loc);
  }
  std::multiset<uint64_t> seen;
  auto visit = [&](uint64_t loc) { seen.insert(loc); };
  uint32_t cursor = 0;
  for (int call = 0; call < 10; ++call) {
    cursor = index_.ScanRange(s, cursor, 8, visit);
  }
  ASSERT_LT(cursor, 1u << kPosBits) << "the scan should still be midway";
  const size_t bits_before = s.bits;
  std::vector<std::pair<std::string, KeyHash>> churn;
  for (int i = 0; i < 2000; ++i) {
    std::string key = "churn-" + std::to_string(i);
    KeyHash kh = HashAt(key, kShard, pos());
    index_.Upsert(s, kh, key, log_.Add(key, ++seq_), false);
    churn.emplace_back(key, kh);
  }
  for (size_t i = 0; i < churn.size(); i += 2) {
    index_.Erase(s, churn[i].second, churn[i].first);
  }
  ASSERT_GT(s.bits, bits_before);
  while (cursor < (1u << kPosBits)) {
    cursor = index_.ScanRange(s, cursor, 8, visit);
  }
  for (uint64_t loc : stable) EXPECT_EQ(seen.count(loc), 1u) << loc;
  for (uint64_t loc : tombstones) EXPECT_EQ(seen.count(loc), 0u) << loc;
  for (uint64_t loc : seen) EXPECT_EQ(seen.count(loc), 1u) << loc;
}

TEST_F(IndexTest, RelocateMovesOnlyFromTheExpectedLocation) {
  const KeyHash kh("moved");
  Index::Shard& s = index_.shard(kh);
  std::lock_guard<RwSpinLock> l(s.mu);
  const uint64_t old_loc = log_.Add("moved", ++seq_);
  const uint64_t copy = log_.Add("moved", seq_);  // compaction's copy
  const uint64_t newer = log_.Add("moved", ++seq_);
  index_.Upsert(s, kh, "moved", old_loc, false);
  EXPECT_TRUE(index_.Relocate(s, kh, "moved", old_loc, copy));
  EXPECT_EQ(index_.Find(s, kh, "moved").loc, copy);
  // A writer got there first: compaction's stale move is refused.
  index_.Upsert(s, kh, "moved", newer, false);
  EXPECT_FALSE(index_.Relocate(s, kh, "moved", copy, old_loc));
  EXPECT_EQ(index_.Find(s, kh, "moved").loc, newer);
  EXPECT_FALSE(index_.Relocate(s, KeyHash("absent"), "absent", copy, newer));
}

TEST_F(IndexTest, ExpirySetFollowsTheIndexedEntry) {
  const KeyHash kh("ttl");
  Index::Shard& s = index_.shard(kh);
  std::lock_guard<RwSpinLock> l(s.mu);
  using Expiring = std::set<std::pair<int64_t, uint64_t>>;
  const uint64_t a = log_.Add("ttl", ++seq_, format::kPut, 5000);
  const uint64_t b = log_.Add("ttl", ++seq_, format::kPut, 0);
  const uint64_t c = log_.Add("ttl", ++seq_, format::kPut, 7000);
  const uint64_t c2 = log_.Add("ttl", seq_, format::kPut, 7000);
  index_.Upsert(s, kh, "ttl", a, false);
  EXPECT_EQ(s.expiring, (Expiring{{5000, a}}));
  index_.Upsert(s, kh, "ttl", b, false);  // a plain SET clears the TTL
  EXPECT_EQ(s.expiring, Expiring{});
  index_.Upsert(s, kh, "ttl", c, false);
  EXPECT_EQ(s.expiring, (Expiring{{7000, c}}));
  ASSERT_TRUE(index_.Relocate(s, kh, "ttl", c, c2));
  EXPECT_EQ(s.expiring, (Expiring{{7000, c2}}));
  index_.Erase(s, kh, "ttl");
  EXPECT_EQ(s.expiring, Expiring{});
}

// Recovery meets a key's entries in any order; the highest sequence wins
// and InsertNewestSlot names the loser.
TEST_F(IndexTest, InsertNewestSlotKeepsTheHighestSequence) {
  const KeyHash kh("k");
  Index::Shard& s = index_.shard(kh);
  std::lock_guard<RwSpinLock> l(s.mu);
  const uint64_t s5 = log_.Add("k", 5);
  const uint64_t s9 = log_.Add("k", 9, format::kPut, 9000);
  const uint64_t s7 = log_.Add("k", 7);
  bool inserted = false;
  EXPECT_EQ(index_.InsertNewestSlot(s, Index::RecoverySlot(kh, s5, false), 0,
                                    &inserted),
            0u);
  EXPECT_TRUE(inserted);
  EXPECT_EQ(index_.InsertNewestSlot(s, Index::RecoverySlot(kh, s9, false), 9000,
                                    &inserted),
            s5);
  EXPECT_TRUE(inserted);
  EXPECT_EQ(index_.InsertNewestSlot(s, Index::RecoverySlot(kh, s7, false), 0,
                                    &inserted),
            s7);
  EXPECT_FALSE(inserted);
  EXPECT_EQ(index_.Find(s, kh, "k").loc, s9);
  EXPECT_EQ(s.expiring.size(), 1u);

  // A newer tombstone hides the key; dropping tombstones removes it.
  const uint64_t t = log_.Add("k", 11, format::kTombstone);
  EXPECT_EQ(index_.InsertNewestSlot(s, Index::RecoverySlot(kh, t, true), 0,
                                    &inserted),
            s9);
  IndexHit hit = index_.Find(s, kh, "k");
  EXPECT_EQ(hit.loc, t);
  EXPECT_TRUE(hit.tombstone);
  EXPECT_EQ(s.tombstones, 1u);
  EXPECT_TRUE(s.expiring.empty());
  index_.DropTombstones(s);
  EXPECT_EQ(index_.Find(s, kh, "k").loc, 0u);
  EXPECT_EQ(s.used, 0u);
  EXPECT_EQ(s.tombstones, 0u);
}

TEST_F(IndexTest, PresizedShardFitsBackDownKeepingItsKeys) {
  constexpr uint32_t kShard = 9;
  Index::Shard& s = index_.shard_at(kShard);
  std::lock_guard<RwSpinLock> l(s.mu);
  index_.Presize(s, 1000);
  EXPECT_GE(s.slots.size() * 3, 1000u * 4);
  std::vector<std::pair<std::string, uint64_t>> keys;
  for (int i = 0; i < 10; ++i) {
    std::string key = "fit-" + std::to_string(i);
    uint64_t loc = log_.Add(key, ++seq_);
    bool inserted;
    index_.InsertNewestSlot(
        s, Index::RecoverySlot(HashAt(key, kShard, i * 997), loc, false), 0,
        &inserted);
    keys.emplace_back(key, loc);
  }
  index_.Fit(s);
  EXPECT_EQ(s.slots.size(), 16u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(
        index_.Find(s, HashAt(keys[i].first, kShard, i * 997), keys[i].first)
            .loc,
        keys[i].second);
  }
}

}  // namespace
}  // namespace daxkv::engine
