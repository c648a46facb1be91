// Code the clang thread-safety analysis must reject: tests/base's
// thread_safety_check compiles it once per VIOLATION (1..N) with the flags
// of make test's clang build (-Wthread-safety -Wthread-safety-beta -Werror)
// and expects each to fail with a thread-safety diagnostic, and VIOLATION=0
// (the same code, correctly locked) to compile. So the analysis the engine
// relies on is shown to be live: base/thread_annotations.h expanding to
// nothing, or the flags going missing, fails the test.
#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace daxkv {
namespace {

class Counter {
 public:
  void Bump() EXCLUDES(mu_) {
#if VIOLATION != 1  // 1: touches guarded data without its mutex
    MutexLock l(&mu_);
#endif
    ++count_;
  }
  void BumpLocked() REQUIRES(mu_) { ++count_; }
  void CallerForgetsLock() {
#if VIOLATION == 2  // 2: calls a REQUIRES function without the mutex
    BumpLocked();
#else
    MutexLock l(&mu_);
    BumpLocked();
#endif
  }
  void Ordered() {
#if VIOLATION == 3  // 3: takes first_ while holding second_ (lock order)
    MutexLock b(&second_);
    MutexLock a(&first_);
#else
    MutexLock a(&first_);
    MutexLock b(&second_);
#endif
  }
  void Leaks() {
    mu_.Lock();
#if VIOLATION != 4  // 4: returns with the mutex still held
    mu_.Unlock();
#endif
  }

 private:
  Mutex mu_;
  int count_ GUARDED_BY(mu_) = 0;
  Mutex first_ ACQUIRED_BEFORE(second_);
  Mutex second_;
};

}  // namespace

void ThreadSafetyViolations() {
  Counter c;
  c.Bump();
  c.CallerForgetsLock();
  c.Ordered();
  c.Leaks();
}

}  // namespace daxkv
