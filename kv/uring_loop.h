// UringLoop: the io_uring IoLoop (kv/io_loop.h). One ring per I/O thread,
// set up single-issuer with deferred task work (completions are reaped
// only when the thread asks, in Wait), so a round costs one io_uring_enter:
//   - listeners: one multishot accept each. A connection it takes belongs
//     to this ring: where several threads share the listening socket, a
//     thread stuck in a busy script would hold new clients that another
//     thread must serve (with BUSY replies), so there (multishot_accept
//     off) the loop keeps a multishot poll on the socket instead and
//     accepts with accept4 as the epoll loop does;
//   - streams: one multishot receive each, into a ring of provided buffers
//     (IOSQE_BUFFER_SELECT); each completion's buffer is copied into the
//     stream's input and handed back at once. A receive whose completion
//     lacks IORING_CQE_F_MORE has ended (ENOBUFS when the ring ran dry, a
//     cancel for backpressure) and is re-armed after the round's
//     completions, when the buffers are back;
//   - sends: Send() queues an SQE (one send in flight per stream, the bytes
//     passed meanwhile go after it); the round's sends are submitted
//     together by the next Wait(), which also waits. Short sends are
//     re-armed for the rest;
//   - waits: the first wait of a round asks for the round's sends plus a
//     batch of input for at most batch_window_us, so a busy thread is woken
//     per batch of clients rather than per client.
// The buffers of a send in flight belong to the loop: a stream closed
// meanwhile keeps its slot until the kernel is done with it.
//
// Thread-safety: as IoLoop; BindThread() makes the calling thread the
// ring's only submitter.
#ifndef DAXKV_KV_URING_LOOP_H_
#define DAXKV_KV_URING_LOOP_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/statusor.h"
#include "kv/io_loop.h"

struct io_uring_cqe;

namespace daxkv::kv {

struct UringOptions {
  unsigned sq_entries = 1024;
  unsigned cq_entries = 8192;
  // Provided receive buffers: a power of two, and their size.
  unsigned buffers = 256;
  unsigned buffer_size = 16 * 1024;
  // Batching of wake-ups (UringLoop::Wait): how long the first wait of a
  // round may wait for its batch (0: no batching), and the largest batch.
  unsigned batch_window_us = 50;
  unsigned max_batch = 16;
  // Listeners: multishot accept (true) or multishot poll + accept4 (for a
  // socket other threads share; see above).
  bool multishot_accept = true;
};

class UringLoop final : public IoLoop {
 public:
  // What the loop did (tests, and the figures in docs/).
  struct Counters {
    uint64_t waits = 0;          // Wait() calls (one io_uring_enter each)
    uint64_t enters_extra = 0;   // beyond one per Wait: closes, full SQ,
                                 // batch waits that timed out
    uint64_t recv_rearms = 0;    // receives re-armed after they ended
    uint64_t enobufs = 0;        // ... of which ended on an empty ring
    uint64_t recv_buffers = 0;   // completions that carried a buffer
    uint64_t partial_sends = 0;  // sends re-armed for their rest
  };

  // NotSupported, with the reason, when this kernel (or its settings:
  // kernel.io_uring_disabled, seccomp) cannot run the loop.
  static StatusOr<std::unique_ptr<UringLoop>> Create(
      const UringOptions& options = {});
  ~UringLoop() override;
  UringLoop(const UringLoop&) = delete;
  UringLoop& operator=(const UringLoop&) = delete;

  std::string_view name() const override { return "io_uring"; }
  Status BindThread() override;
  Status AddListener(int fd, Listener* l) override;
  void RemoveListener(int fd) override;
  Status AddStream(int fd, Stream* s) override;
  void CloseStream(int fd) override;
  void SetReceiving(int fd, bool on) override;
  ssize_t Send(int fd, std::string* data) override;
  int Wait(int timeout_ms) override;
  bool Dispatch() override;
  void Wake() override;

  const Counters& counters() const { return counters_; }

 private:
  struct Ring;
  struct Slot;
  enum Op : uint64_t { kRecv = 1, kSend = 2, kAccept = 3, kWake = 4 };

  UringLoop(std::unique_ptr<Ring> ring, const UringOptions& options);
  Slot* Find(int fd) const;
  Slot* NewSlot(int fd);
  // Retires the slot of fd: cancels its requests, submits at once (the fd
  // is closed next and its number may come back).
  void Retire(int fd);
  void ArmRecv(Slot* s);
  void ArmSend(Slot* s, bool poll_first);
  void ArmAccept(Slot* s);
  void ArmWake();
  void Cancel(Slot* s, Op op);
  // Returns true for a Wake().
  bool Complete(const io_uring_cqe* cqe);
  void OnRecv(Slot* s, const io_uring_cqe* cqe);
  void OnSend(Slot* s, int res);
  void OnAccept(Slot* s, const io_uring_cqe* cqe);
  void Deliver(Slot* s, const char* data, size_t n);
  void RecycleBuffer(unsigned bid);

  std::unique_ptr<Ring> ring_;
  UringOptions options_;
  int wakefd_ = -1;
  std::unique_ptr<Slot> wake_;
  std::vector<std::unique_ptr<Slot>> slots_;  // by fd
  // Closed slots the kernel may still name; freed once idle.
  std::vector<std::unique_ptr<Slot>> retired_;
  std::vector<Slot*> rearm_;  // receives to re-arm after this Dispatch
  unsigned sends_armed_ = 0;  // send SQEs queued since the last Wait
  unsigned batch_ = 1;        // new input the next Wait asks for
  Counters counters_;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_URING_LOOP_H_
