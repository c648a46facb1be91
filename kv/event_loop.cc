#include "kv/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace daxkv::kv {
namespace {
constexpr size_t kMaxEvents = 1024;
}  // namespace

StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create() {
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0)
    return IOError(std::string("epoll_create1: ") + std::strerror(errno));
  int wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakefd < 0) {
    close(epfd);
    return IOError(std::string("eventfd: ") + std::strerror(errno));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the wake fd is the only null handler
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev) != 0) {
    close(epfd);
    close(wakefd);
    return IOError(std::string("epoll_ctl(eventfd): ") + std::strerror(errno));
  }
  return std::unique_ptr<EventLoop>(new EventLoop(epfd, wakefd));
}

EventLoop::EventLoop(int epfd, int wakefd)
    : epfd_(epfd), wakefd_(wakefd), events_(kMaxEvents) {}

EventLoop::~EventLoop() {
  close(wakefd_);
  close(epfd_);
}

Status EventLoop::Add(int fd, uint32_t events, Handler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return IOError("epoll_ctl(ADD, fd " + std::to_string(fd) +
                   "): " + std::strerror(errno));
  }
  return OkStatus();
}

Status EventLoop::Modify(int fd, uint32_t events, Handler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
    return IOError("epoll_ctl(MOD, fd " + std::to_string(fd) +
                   "): " + std::strerror(errno));
  }
  return OkStatus();
}

void EventLoop::Remove(int fd) { epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr); }

int EventLoop::Wait(int timeout_ms) {
  int n = epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()),
                     timeout_ms);
  ready_ = n < 0 ? 0 : n;
  return ready_;
}

bool EventLoop::Dispatch() {
  bool woken = false;
  for (int i = 0; i < ready_; ++i) {
    auto* h = static_cast<Handler*>(events_[i].data.ptr);
    if (h == nullptr) {
      uint64_t v;
      while (read(wakefd_, &v, sizeof(v)) > 0) {
      }
      woken = true;
      continue;
    }
    h->OnEvent(events_[i].events);
  }
  ready_ = 0;
  return woken;
}

void EventLoop::Wake() {
  uint64_t one = 1;
  ssize_t r = write(wakefd_, &one, sizeof(one));
  (void)r;  // EAGAIN means a wake-up is already pending
}

}  // namespace daxkv::kv
