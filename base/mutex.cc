#include "base/mutex.h"

#include <pthread.h>

namespace daxkv {

void Mutex::MakeAdaptive() {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
  // std::mutex is a default-initialised pthread mutex: initialising it
  // again, unlocked and unused, only changes its kind.
  pthread_mutex_init(mu_.native_handle(), &attr);
  pthread_mutexattr_destroy(&attr);
}

}  // namespace daxkv
