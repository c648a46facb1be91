// EventLoop: a minimal epoll loop in the style of Redis's ae.c. One per I/O
// thread. Waiting and dispatching are separate steps so the owner can take
// locks around the dispatch of one round.
//
// Thread-safety: everything but Wake() must be called from the owning
// thread. Wake() may be called from any thread.
#ifndef DAXKV_KV_EVENT_LOOP_H_
#define DAXKV_KV_EVENT_LOOP_H_

#include <sys/epoll.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"
#include "base/statusor.h"

namespace daxkv::kv {

class EventLoop {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // `events` is the epoll mask (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP).
    virtual void OnEvent(uint32_t events) = 0;
  };

  static StatusOr<std::unique_ptr<EventLoop>> Create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // REQUIRES: `handler` stays valid until Remove(fd).
  Status Add(int fd, uint32_t events, Handler* handler);
  Status Modify(int fd, uint32_t events, Handler* handler);
  void Remove(int fd);

  // Waits up to `timeout_ms` (-1 = forever) for events; returns how many.
  int Wait(int timeout_ms);
  // Calls the handlers of the events the last Wait() returned. Returns true
  // when a Wake() arrived among them.
  bool Dispatch();

  // Makes a concurrent or the next Wait() return.
  void Wake();

 private:
  EventLoop(int epfd, int wakefd);

  int epfd_;
  int wakefd_;
  std::vector<epoll_event> events_;
  int ready_ = 0;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_EVENT_LOOP_H_
