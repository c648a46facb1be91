// RwSpinLock: a reader-writer spin lock for short critical sections (an
// index probe and a value copy). Writers are not starved: a waiting writer
// blocks new readers.
//
// Thread-safety: that is its purpose. Not recursive. A capability for clang's
// analysis (base/thread_annotations.h): data it guards is GUARDED_BY it,
// and the scoped ReadLock / WriteLock below are how code takes it.
#ifndef DAXKV_ENGINE_RW_SPIN_LOCK_H_
#define DAXKV_ENGINE_RW_SPIN_LOCK_H_

#include <atomic>
#include <cstdint>
#include <thread>

#include "base/thread_annotations.h"

namespace daxkv::engine {

class CAPABILITY("rw spin lock") RwSpinLock {
 public:
  void lock_shared() ACQUIRE_SHARED() {
    for (int spins = 0;; ++spins) {
      uint32_t v = state_.load(std::memory_order_relaxed);
      if ((v & (kWriter | kWriterWaiting)) == 0 &&
          state_.compare_exchange_weak(v, v + kReader,
                                       std::memory_order_acquire)) {
        return;
      }
      Backoff(spins);
    }
  }
  void unlock_shared() RELEASE_SHARED() { state_.fetch_sub(kReader, std::memory_order_release); }

  void lock() ACQUIRE() {
    for (int spins = 0;; ++spins) {
      uint32_t v = state_.load(std::memory_order_relaxed);
      if ((v & ~kWriterWaiting) == 0) {
        if (state_.compare_exchange_weak(v, kWriter,
                                         std::memory_order_acquire)) {
          return;
        }
      } else if ((v & kWriterWaiting) == 0) {
        state_.fetch_or(kWriterWaiting, std::memory_order_relaxed);
      }
      Backoff(spins);
    }
  }
  void unlock() RELEASE() { state_.store(0, std::memory_order_release); }
  // Tell the analysis the caller holds the lock (a callback run under it).
  void AssertReaderHeld() const ASSERT_SHARED_CAPABILITY(this) {}
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

 private:
  static constexpr uint32_t kWriter = 1;
  static constexpr uint32_t kWriterWaiting = 2;
  static constexpr uint32_t kReader = 4;

  static void Backoff(int spins) {
    if (spins > 64) std::this_thread::yield();
  }

  std::atomic<uint32_t> state_{0};
};

// Scoped shared / exclusive holders of a RwSpinLock (the analysis does not
// follow std::shared_lock).
class SCOPED_CAPABILITY ReadLock {
 public:
  explicit ReadLock(RwSpinLock& mu) ACQUIRE_SHARED(mu) : mu_(mu) {
    mu_.lock_shared();
  }
  ~ReadLock() RELEASE() { mu_.unlock_shared(); }
  ReadLock(const ReadLock&) = delete;
  ReadLock& operator=(const ReadLock&) = delete;

 private:
  RwSpinLock& mu_;
};

class SCOPED_CAPABILITY WriteLock {
 public:
  explicit WriteLock(RwSpinLock& mu) ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~WriteLock() RELEASE() { mu_.unlock(); }
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;

 private:
  RwSpinLock& mu_;
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_RW_SPIN_LOCK_H_
