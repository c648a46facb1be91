// Mutex and MutexLock: std::mutex with clang thread-safety annotations
// (base/thread_annotations.h), so GUARDED_BY / REQUIRES on the data a mutex
// protects are checked at compile time. Same cost as std::mutex.
//
// Thread-safety: as std::mutex. MutexLock is a scoped holder (like
// std::lock_guard); UniqueMutexLock can also release early (like
// std::unique_lock) and is movable, for vectors of held locks.
#ifndef DAXKV_BASE_MUTEX_H_
#define DAXKV_BASE_MUTEX_H_

#include <condition_variable>
#include <mutex>

#include "base/thread_annotations.h"

namespace daxkv {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // Tells the analysis the caller holds this mutex (e.g. in a callback
  // invoked under it).
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

  // BasicLockable, for std::condition_variable_any and std::scoped_lock.
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  bool try_lock() TRY_ACQUIRE(true) { return mu_.try_lock(); }

  std::mutex& native() { return mu_; }

  // Makes a contended Lock() spin briefly before it sleeps (glibc's
  // adaptive mutex). REQUIRES: the mutex was never locked.
  void MakeAdaptive();

 private:
  std::mutex mu_;
};

class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace daxkv

#endif  // DAXKV_BASE_MUTEX_H_
