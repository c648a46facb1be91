// DBImpl's background thread: the compaction policy it follows
// (BackgroundLiveRatio), the dead collections it frees, the segment it maps
// ahead of the log heads, the scrub after a snapshot open, and the reclaim
// of expired keys (tombstones, told to the expiry listener).
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/db_impl.h"

namespace daxkv::engine {

void DBImpl::SetExpiryListener(ExpiryListener* listener) {
  MutexLock l(&listener_mu_);
  listener_ = listener;
}

namespace {

// Enter() ... Exit() around one batch, Exit() on every way out.
class ListenerBatch {
 public:
  explicit ListenerBatch(ExpiryListener* l) : l_(l) {
    if (l_ != nullptr) l_->Enter();
  }
  ~ListenerBatch() {
    if (l_ != nullptr) l_->Exit();
  }
  ListenerBatch(const ListenerBatch&) = delete;
  ListenerBatch& operator=(const ListenerBatch&) = delete;
  void Expiring(std::string_view key) {
    if (l_ != nullptr) l_->Expiring(key);
  }
  void Expired(std::string_view key) {
    if (l_ != nullptr) l_->Expired(key);
  }

 private:
  ExpiryListener* l_;
};

}  // namespace

StatusOr<uint64_t> DBImpl::ReclaimExpired() {
  DAXKV_RETURN_IF_ERROR(health_.CheckWritable());
  MutexLock listener_lock(&listener_mu_);
  const int64_t now = NowMs();
  uint64_t n = 0;
  for (uint32_t i = 0; i < kShardCount; ++i) {
    Index::Shard& s = index_->shard_at(i);
    std::vector<std::pair<std::string, uint64_t>> due;
    {
      ReadLock l(s.mu);
      for (auto it = s.expiring.begin();
           it != s.expiring.end() && it->first <= now && due.size() < 1024;
           ++it) {
        due.emplace_back(std::string(format::EntryKey(base_ + it->second)),
                         it->second);
      }
    }
    if (due.empty()) continue;
    ListenerBatch batch(listener_);
    for (auto& [key, loc] : due) {
      batch.Expiring(key);
      KeyHash kh(key);
      StripeLock l(this, kh);
      Current cur = Lookup(kh, key);
      if (cur.loc != loc || cur.live) continue;  // rewritten meanwhile
      // Durability: sync = true; the listener (a master's DEL for its
      // replicas) hears of the deletion once it is on the medium.
      DAXKV_RETURN_IF_ERROR(
          WriteEntry(kh, format::kTombstone, key, {}, 0, true, cur));
      batch.Expired(key);
      ++n;
    }
  }
  expired_reclaimed_ += n;
  return n;
}

double DBImpl::BackgroundLiveRatio() const {
  const uint64_t free = FreeSegments();
  const uint64_t tight = reserve_ + heads_.size() + 1;
  if (free <= tight) return 0.9;
  // Copying a victim of live ratio r costs r / (1 - r) bytes per byte
  // freed: the more of the pool is free, the emptier the victims waited
  // for (overwritten keys and fields keep dying, and in a queue's segments
  // the live elements keep being popped: waiting copies fewer of them).
  // Waiting is free until the writers come near `tight`: while a quarter
  // of the pool is free beyond it, only victims of ratio <= 0.1 go.
  const uint64_t count = segment_count_.load();
  if (free >= tight + count / 4) return 0.1;
  return free >= tight + count / 8 ? 0.25 : 0.5;
}

void DBImpl::BackgroundLoop() {
  bg_mu_.Lock();
  auto last_expiry = std::chrono::steady_clock::now();
  while (!stop_) {
    const bool scrub = options_.background_scrub && scrub_.pending() != 0;
    if (!scrub) bg_cv_.wait_for(bg_mu_, std::chrono::milliseconds(20));
    if (stop_) break;
    bg_mu_.Unlock();
    PrefaultAhead();
    // The scrub first, a few segments per round so a close is not held up.
    if (scrub) ScrubSome(kScrubSlice);
    // Nothing more is done once an error is latched (health.cc).
    const bool healthy = health_.CheckWritable().ok();
    // Dead collections first, in bounded slices (under compaction_mu_
    // only, never a lock a client takes).
    for (uint64_t n = kFreerSlice; n == kFreerSlice;) {
      MutexLock cl(&compaction_mu_);
      n = RunFreer(kFreerSlice);
    }
    if (options_.background_compaction && healthy) {
      for (int i = 0; i < 8; ++i) {
        MutexLock cl(&compaction_mu_);
        int64_t victim = PickVictim(BackgroundLiveRatio());
        if (victim < 0) break;
        Status s = CompactSegment(victim);
        health_.NoteBackgroundFailure(s, "background compaction");
        if (!s.ok()) break;
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (options_.background_expiry && healthy &&
        now - last_expiry > std::chrono::milliseconds(100)) {
      last_expiry = now;
      health_.NoteBackgroundFailure(ReclaimExpired().status(),
                                    "expiry reclaim");
    }
    bg_mu_.Lock();
  }
  bg_mu_.Unlock();
}

}  // namespace daxkv::engine
