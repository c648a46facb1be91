#include "kv/event_loop.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace daxkv::kv {
namespace {
constexpr size_t kMaxEvents = 1024;
// Connections taken per listener event (the rest wait for the next round).
constexpr int kAcceptBatch = 64;
constexpr size_t kKeepCapacity = 1u << 20;
}  // namespace

StatusOr<std::unique_ptr<EpollLoop>> EpollLoop::Create() {
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
  ev.data.ptr = nullptr;  // the wake fd is the only null slot
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev) != 0) {
    close(epfd);
    close(wakefd);
    return IOError(std::string("epoll_ctl(eventfd): ") + std::strerror(errno));
  }
  return std::unique_ptr<EpollLoop>(new EpollLoop(epfd, wakefd));
}

EpollLoop::EpollLoop(int epfd, int wakefd)
    : epfd_(epfd), wakefd_(wakefd), events_(kMaxEvents) {}

EpollLoop::~EpollLoop() {
  close(wakefd_);
  close(epfd_);
}

EpollLoop::Slot* EpollLoop::Find(int fd) const {
  return fd >= 0 && static_cast<size_t>(fd) < slots_.size() ? slots_[fd].get()
                                                            : nullptr;
}

EpollLoop::Slot* EpollLoop::NewSlot(int fd) {
  if (static_cast<size_t>(fd) >= slots_.size()) slots_.resize(fd + 1);
  slots_[fd] = std::make_unique<Slot>();
  slots_[fd]->fd = fd;
  return slots_[fd].get();
}

Status EpollLoop::AddListener(int fd, Listener* l) {
  Slot* s = NewSlot(fd);
  s->listener = l;
  epoll_event ev{};
  // Exclusive: a new connection wakes one of the threads waiting, not all.
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  ev.data.ptr = s;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    slots_[fd].reset();
    return IOError("epoll_ctl(ADD, listener " + std::to_string(fd) +
                   "): " + std::strerror(errno));
  }
  return OkStatus();
}

void EpollLoop::RemoveListener(int fd) {
  if (Find(fd) == nullptr) return;
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  slots_[fd]->listener = nullptr;
  retired_.push_back(std::move(slots_[fd]));
}

Status EpollLoop::AddStream(int fd, Stream* stream) {
  Slot* s = NewSlot(fd);
  s->stream = stream;
  s->interest = EPOLLIN;
  epoll_event ev{};
  ev.events = s->interest;
  ev.data.ptr = s;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    slots_[fd].reset();
    return IOError("epoll_ctl(ADD, fd " + std::to_string(fd) +
                   "): " + std::strerror(errno));
  }
  return OkStatus();
}

void EpollLoop::CloseStream(int fd) {
  if (Find(fd) != nullptr) {
    epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    slots_[fd]->stream = nullptr;
    retired_.push_back(std::move(slots_[fd]));
  }
  close(fd);
}

void EpollLoop::SetReceiving(int fd, bool on) {
  Slot* s = Find(fd);
  if (s == nullptr || s->receiving == on) return;
  s->receiving = on;
  UpdateInterest(s);
}

void EpollLoop::UpdateInterest(Slot* s) {
  uint32_t want = 0;
  if (s->receiving) want |= EPOLLIN;
  if (s->out_off < s->out.size()) want |= EPOLLOUT;
  if (want == s->interest) return;
  s->interest = want;
  epoll_event ev{};
  ev.events = want;
  ev.data.ptr = s;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, s->fd, &ev);
}

ssize_t EpollLoop::Send(int fd, std::string* data) {
  Slot* s = Find(fd);
  if (s == nullptr) {
    errno = EBADF;
    return -1;
  }
  if (s->out_off < s->out.size()) {  // behind bytes still queued
    s->out.append(*data);
    data->clear();
    return 0;
  }
  size_t done = 0;
  while (done < data->size()) {
    ssize_t n =
        send(fd, data->data() + done, data->size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  if (done < data->size()) {
    s->out.swap(*data);
    s->out_off = done;
    UpdateInterest(s);
  }
  data->clear();
  return static_cast<ssize_t>(done);
}

bool EpollLoop::Flush(Slot* s) {
  size_t done = 0;
  while (s->out_off < s->out.size()) {
    ssize_t n = send(s->fd, s->out.data() + s->out_off,
                     s->out.size() - s->out_off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      s->stream->OnError(errno);
      return false;
    }
    s->out_off += static_cast<size_t>(n);
    done += static_cast<size_t>(n);
  }
  if (s->out_off == s->out.size()) {
    s->out_off = 0;
    if (s->out.capacity() > kKeepCapacity) {
      std::string().swap(s->out);
    } else {
      s->out.clear();
    }
  }
  UpdateInterest(s);
  if (done > 0) s->stream->OnSent(done);
  return true;
}

void EpollLoop::Read(Slot* s) {
  std::span<char> space = s->stream->InputSpace();
  ssize_t n = read(s->fd, space.data(), space.size());
  if (n > 0) {
    s->stream->OnInput(static_cast<size_t>(n));
  } else if (n == 0) {
    s->stream->OnError(0);
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    s->stream->OnError(errno);
  }
}

void EpollLoop::Accept(Slot* s) {
  for (int i = 0; i < kAcceptBatch && s->listener != nullptr; ++i) {
    int fd = accept4(s->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: another thread took it, or none left
    s->listener->OnAccept(fd);
  }
}

int EpollLoop::Wait(int timeout_ms) {
  retired_.clear();
  int n = epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()),
                     timeout_ms);
  ready_ = n < 0 ? 0 : n;
  return ready_;
}

bool EpollLoop::Dispatch() {
  bool woken = false;
  for (int i = 0; i < ready_; ++i) {
    auto* s = static_cast<Slot*>(events_[i].data.ptr);
    const uint32_t ev = events_[i].events;
    if (s == nullptr) {
      uint64_t v;
      while (read(wakefd_, &v, sizeof(v)) > 0) {
      }
      woken = true;
    } else if (s->listener != nullptr) {
      Accept(s);
    } else if (s->stream != nullptr) {
      if ((ev & EPOLLOUT) && !Flush(s)) continue;
      // Not receiving: an EPOLLIN from before may still be reported;
      // errors and hang-ups are still handled.
      if (s->stream != nullptr &&
          ((ev & (EPOLLERR | EPOLLHUP)) || (s->receiving && (ev & EPOLLIN)))) {
        Read(s);
      }
    }
  }
  ready_ = 0;
  return woken;
}

void EpollLoop::Wake() {
  uint64_t one = 1;
  ssize_t r = write(wakefd_, &one, sizeof(one));
  (void)r;  // EAGAIN means a wake-up is already pending
}

}  // namespace daxkv::kv
