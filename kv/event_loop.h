// EpollLoop: the epoll IoLoop (kv/io_loop.h), in the style of Redis's ae.c:
// level-triggered readiness, then one read, write or accept4 per ready
// socket. One per I/O thread; the fallback where io_uring is missing or
// disabled.
//
// Thread-safety: as IoLoop.
#ifndef DAXKV_KV_EVENT_LOOP_H_
#define DAXKV_KV_EVENT_LOOP_H_

#include <sys/epoll.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/statusor.h"
#include "kv/io_loop.h"

namespace daxkv::kv {

class EpollLoop final : public IoLoop {
 public:
  static StatusOr<std::unique_ptr<EpollLoop>> Create();
  ~EpollLoop() override;
  EpollLoop(const EpollLoop&) = delete;
  EpollLoop& operator=(const EpollLoop&) = delete;

  std::string_view name() const override { return "epoll"; }
  Status AddListener(int fd, Listener* l) override;
  void RemoveListener(int fd) override;
  Status AddStream(int fd, Stream* s) override;
  void CloseStream(int fd) override;
  void SetReceiving(int fd, bool on) override;
  ssize_t Send(int fd, std::string* data) override;
  int Wait(int timeout_ms) override;
  bool Dispatch() override;
  void Wake() override;

 private:
  // One registered socket; epoll_event.data.ptr points at it.
  struct Slot {
    int fd = -1;
    Listener* listener = nullptr;
    Stream* stream = nullptr;
    bool receiving = true;
    uint32_t interest = 0;
    std::string out;  // unsent bytes from out_off on
    size_t out_off = 0;
  };

  EpollLoop(int epfd, int wakefd);
  Slot* Find(int fd) const;
  Slot* NewSlot(int fd);
  void Accept(Slot* s);
  void Read(Slot* s);
  // Writes what s holds; false (after OnError) when the socket failed.
  bool Flush(Slot* s);
  void UpdateInterest(Slot* s);

  int epfd_;
  int wakefd_;
  std::vector<epoll_event> events_;
  int ready_ = 0;
  std::vector<std::unique_ptr<Slot>> slots_;  // by fd
  // Slots closed during Dispatch: events of the same round may name them.
  std::vector<std::unique_ptr<Slot>> retired_;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_EVENT_LOOP_H_
