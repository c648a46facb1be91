#include "engine/index_builder.h"

#include <atomic>
#include <mutex>
#include <string_view>
#include <thread>

#include "engine/key_hash.h"

namespace daxkv::engine {

IndexBuilder::IndexBuilder(const char* base, const format::SuperBlock& sb,
                           Index* index, int workers)
    : base_(base), sb_(sb), index_(index), workers_(std::max(workers, 1)) {
  for (Worker& w : workers_) {
    w.shards.resize(kShardCount);
    w.live.assign(sb_.segment_count, 0);
  }
}

void IndexBuilder::Add(int worker, uint64_t loc, const format::EntryHeader& e) {
  KeyHash kh(
      std::string_view(base_ + loc + format::kEntryHeaderSize, e.key_len));
  const bool tomb = e.type == format::kTombstone;
  Worker& w = workers_[worker];
  w.shards[kh.shard()].push_back(
      {Index::RecoverySlot(kh, loc, tomb), tomb ? 0 : e.expire_at_ms});
  // Counted live until phase 2 finds a newer entry of the key.
  if (!tomb) w.live[SegOf(loc)] += format::IndexedEntryBytes(e);
}

void IndexBuilder::BuildShard(
    uint32_t shard, Worker* self,
    const std::function<void(uint64_t)>& on_dead_put) {
  Index::Shard& s = index_->shard_at(shard);
  // Uncontended: the shard is this thread's alone; held for the contract.
  WriteLock l(s.mu);
  uint64_t n = 0;
  for (const Worker& w : workers_) n += w.shards[shard].size();
  index_->Presize(s, n);
  for (Worker& w : workers_) {
    for (const Item& item : w.shards[shard]) {
      bool inserted;
      uint64_t loser =
          index_->InsertNewestSlot(s, item.slot, item.expire_at_ms, &inserted);
      if (loser == 0) continue;
      format::EntryHeader le = format::LoadEntry(base_ + loser);
      if (!format::HoldsValue(le.type)) continue;
      self->live[SegOf(loser)] -= format::IndexedEntryBytes(le);
      if (on_dead_put) {
        on_dead_put(
            KeyHash(std::string_view(base_ + loser + format::kEntryHeaderSize,
                                     le.key_len))
                .low());
      }
    }
    std::vector<Item>().swap(w.shards[shard]);
  }
  index_->DropTombstones(s);
  index_->Fit(s);
}

void IndexBuilder::Build(const std::function<void(uint64_t)>& on_dead_put) {
  std::atomic<uint32_t> next{0};
  auto work = [&](Worker* self) {
    for (uint32_t s; (s = next.fetch_add(1)) < kShardCount;) {
      BuildShard(s, self, on_dead_put);
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < workers_.size(); ++t) {
    pool.emplace_back(work, &workers_[t]);
  }
  work(&workers_[0]);
  for (auto& t : pool) t.join();
}

uint64_t IndexBuilder::LiveBytes(uint64_t seg) const {
  int64_t n = 0;
  for (const Worker& w : workers_) n += w.live[seg];
  return static_cast<uint64_t>(n);
}

}  // namespace daxkv::engine
