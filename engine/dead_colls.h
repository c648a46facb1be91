// DeadCollQueue: the dead collections waiting for the background freer
// (engine/coll_freer.cc). DEL of a collection hands its object here, O(1);
// the freer takes them one at a time and gives back, a bounded number of
// elements per step, their DRAM and their elements' live bytes. Compaction
// asks Pending(id): an element of a collection whose death is still to be
// accounted must not be counted dead twice.
//
// Thread-safety: every method may be called from any thread. mu_ is a leaf
// of DBImpl's lock order (nothing is taken under it).
#ifndef DAXKV_ENGINE_DEAD_COLLS_H_
#define DAXKV_ENGINE_DEAD_COLLS_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_set>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "engine/coll_object.h"

namespace daxkv::engine {

// A dead collection, queued or being freed.
struct DeadColl {
  std::unique_ptr<Collection> c;  // null once its locations are taken
  uint64_t id = 0;
  uint64_t epoch = 0;  // the pool's last epoch at its death
  // Its elements' bytes are still counted live: the freer subtracts them
  // (a DEL; not a Flush(), which frees every segment).
  bool account = true;
  std::vector<uint64_t> locs;  // its elements, once taken from c
  size_t next = 0;             // the first of locs not yet accounted
};

class DeadCollQueue {
 public:
  // Queues `d`; an accounted death is Pending until Done(d.id).
  void Push(DeadColl d) {
    MutexLock l(&mu_);
    if (d.account) pending_.insert(d.id);
    q_.push_back(std::move(d));
    count_.fetch_add(1, std::memory_order_relaxed);
  }
  // Moves the oldest queued collection into *out; false when none is.
  bool Pop(DeadColl* out) {
    MutexLock l(&mu_);
    if (q_.empty()) return false;
    *out = std::move(q_.front());
    q_.pop_front();
    return true;
  }
  // The freer finished the collection `id` that Pop gave it.
  void Done(uint64_t id) {
    MutexLock l(&mu_);
    pending_.erase(id);
    count_.fetch_sub(1, std::memory_order_relaxed);
  }
  bool Pending(uint64_t id) const {
    MutexLock l(&mu_);
    return pending_.count(id) != 0;
  }
  // Queued plus being freed (Stats::freeing_collections).
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // Drops every queued collection (the DB closes).
  void Clear() {
    MutexLock l(&mu_);
    q_.clear();
    pending_.clear();
    count_.store(0, std::memory_order_relaxed);
  }

 private:
  mutable Mutex mu_;
  std::deque<DeadColl> q_ GUARDED_BY(mu_);
  std::unordered_set<uint64_t> pending_ GUARDED_BY(mu_);
  std::atomic<uint64_t> count_{0};
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_DEAD_COLLS_H_
