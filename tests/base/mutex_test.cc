#include "base/mutex.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <thread>
#include <vector>

namespace daxkv {
namespace {

// The adaptive kind is what MakeAdaptive() promised, and the mutex still
// excludes: two threads' unguarded read-modify-writes under it lose no
// increment, and TryLock fails while it is held.
TEST(MutexTest, AdaptiveMutexStillExcludes) {
  Mutex mu;
  mu.MakeAdaptive();
  // glibc's pthread_mutex_t keeps its kind in __data.__kind.
  EXPECT_EQ(mu.native().native_handle()->__data.__kind,
            PTHREAD_MUTEX_ADAPTIVE_NP);
  int64_t counter = 0;
  constexpr int kPerThread = 200000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        MutexLock l(&mu);
        const int64_t seen = counter;
        counter = seen + 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, 2 * kPerThread);
  mu.Lock();
  std::thread other([&] {
    if (mu.TryLock()) {
      mu.Unlock();
      ADD_FAILURE() << "TryLock took a held mutex";
    }
  });
  other.join();
  mu.Unlock();
  if (mu.TryLock()) {
    mu.Unlock();
  } else {
    ADD_FAILURE() << "TryLock failed on a free mutex";
  }
}

}  // namespace
}  // namespace daxkv
