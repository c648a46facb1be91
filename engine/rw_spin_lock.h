// RwSpinLock: a reader-writer spin lock for short critical sections (an
// index probe and a value copy). Writers are not starved: a waiting writer
// blocks new readers.
//
// Thread-safety: that is its purpose. Not recursive.
#ifndef DAXKV_ENGINE_RW_SPIN_LOCK_H_
#define DAXKV_ENGINE_RW_SPIN_LOCK_H_

#include <atomic>
#include <cstdint>
#include <thread>

namespace daxkv::engine {

class RwSpinLock {
 public:
  void lock_shared() {
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
  void unlock_shared() { state_.fetch_sub(kReader, std::memory_order_release); }

  void lock() {
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
  void unlock() { state_.store(0, std::memory_order_release); }

 private:
  static constexpr uint32_t kWriter = 1;
  static constexpr uint32_t kWriterWaiting = 2;
  static constexpr uint32_t kReader = 4;

  static void Backoff(int spins) {
    if (spins > 64) std::this_thread::yield();
  }

  std::atomic<uint32_t> state_{0};
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_RW_SPIN_LOCK_H_
