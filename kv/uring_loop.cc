#include "kv/uring_loop.h"

#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace daxkv::kv {
namespace {

constexpr uint16_t kBufGroup = 1;
constexpr size_t kKeepCapacity = 1u << 20;
constexpr uint64_t kOpMask = 7;

Status Unsupported(const std::string& what, int err) {
  return NotSupportedError(what + ": " + std::strerror(err));
}

}  // namespace

struct UringLoop::Ring {
  io_uring ring{};
  bool initialized = false;
  io_uring_buf_ring* br = nullptr;  // the provided receive buffers' ring
  char* bufs = nullptr;             // their memory
  int mask = 0;

  ~Ring() {
    if (initialized) io_uring_queue_exit(&ring);
    std::free(br);
    std::free(bufs);
  }
};

struct UringLoop::Slot {
  int fd = -1;
  Listener* listener = nullptr;
  Stream* stream = nullptr;
  bool want_recv = true;
  bool recv_armed = false;
  bool send_armed = false;
  bool accept_armed = false;
  bool wake_armed = false;
  std::string sending;  // in flight from `sent` on
  size_t sent = 0;
  std::string queued;  // passed while a send was in flight: goes after it
  bool busy() const {
    return recv_armed || send_armed || accept_armed || wake_armed;
  }
};

namespace {

uint64_t Tag(const void* slot, uint64_t op) {
  return reinterpret_cast<uintptr_t>(slot) | op;
}

// liburing 2.4's io_uring_setup_buf_ring, which Debian 12's 2.3 lacks: a
// page-aligned ring of `entries` buffer descriptors, registered as group
// `bgid`. Returns 0 or -errno.
int SetupBufRing(io_uring* ring, unsigned entries, uint16_t bgid,
                 io_uring_buf_ring** out) {
  const size_t bytes =
      std::max<size_t>(4096, entries * sizeof(io_uring_buf) + 4095) / 4096 *
      4096;
  auto* br = static_cast<io_uring_buf_ring*>(std::aligned_alloc(4096, bytes));
  if (br == nullptr) return -ENOMEM;
  std::memset(br, 0, bytes);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uintptr_t>(br);
  reg.ring_entries = entries;
  reg.bgid = bgid;
  int rc = io_uring_register_buf_ring(ring, &reg, 0);
  if (rc != 0) {
    std::free(br);
    return rc < 0 ? rc : -rc;
  }
  io_uring_buf_ring_init(br);
  *out = br;
  return 0;
}

// The opcodes the loop uses, and the features it relies on.
Status CheckKernel(io_uring* ring, const io_uring_params& p) {
  if ((p.features & IORING_FEAT_NODROP) == 0 ||
      (p.features & IORING_FEAT_EXT_ARG) == 0 ||
      (p.features & IORING_FEAT_FAST_POLL) == 0) {
    return NotSupportedError(
        "io_uring lacks NODROP, EXT_ARG or FAST_POLL (Linux < 5.11)");
  }
  io_uring_probe* probe = io_uring_get_probe_ring(ring);
  if (probe == nullptr)
    return NotSupportedError("io_uring opcode probe failed");
  const struct {
    int op;
    const char* name;
  } need[] = {{IORING_OP_ACCEPT, "ACCEPT"},
              {IORING_OP_RECV, "RECV"},
              {IORING_OP_SEND, "SEND"},
              {IORING_OP_POLL_ADD, "POLL_ADD"},
              {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"}};
  Status s = OkStatus();
  for (const auto& n : need) {
    if (!io_uring_opcode_supported(probe, n.op)) {
      s = NotSupportedError(std::string("io_uring lacks IORING_OP_") + n.name);
      break;
    }
  }
  io_uring_free_probe(probe);
  return s;
}

}  // namespace

StatusOr<std::unique_ptr<UringLoop>> UringLoop::Create(const UringOptions& o) {
  auto r = std::make_unique<Ring>();
  io_uring_params p{};
  // Single issuer, completions run only when the owner waits; disabled
  // until BindThread() names the owner.
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
            IORING_SETUP_R_DISABLED | IORING_SETUP_CQSIZE |
            IORING_SETUP_SUBMIT_ALL;
  p.cq_entries = o.cq_entries;
  int rc = io_uring_queue_init_params(o.sq_entries, &r->ring, &p);
  // ENOSYS: no io_uring; EPERM: kernel.io_uring_disabled or seccomp;
  // EINVAL: flags this kernel lacks (DEFER_TASKRUN: Linux < 6.1).
  if (rc < 0) return Unsupported("io_uring_queue_init", -rc);
  r->initialized = true;
  DAXKV_RETURN_IF_ERROR(CheckKernel(&r->ring, p));
  if ((o.buffers & (o.buffers - 1)) != 0 || o.buffers == 0 ||
      o.buffers > 32768) {
    return InvalidArgumentError("io_uring buffers: a power of two <= 32768");
  }
  rc = SetupBufRing(&r->ring, o.buffers, kBufGroup, &r->br);
  if (rc < 0) return Unsupported("io_uring provided buffer ring", -rc);
  r->mask = io_uring_buf_ring_mask(o.buffers);
  r->bufs = static_cast<char*>(
      std::aligned_alloc(4096, size_t{o.buffers} * o.buffer_size));
  if (r->bufs == nullptr) return Unsupported("io_uring buffers", ENOMEM);
  std::unique_ptr<UringLoop> loop(new UringLoop(std::move(r), o));
  for (unsigned b = 0; b < o.buffers; ++b) loop->RecycleBuffer(b);
  loop->wakefd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (loop->wakefd_ < 0) return Unsupported("eventfd", errno);
  loop->ArmWake();
  return loop;
}

UringLoop::UringLoop(std::unique_ptr<Ring> ring, const UringOptions& options)
    : ring_(std::move(ring)), options_(options), wake_(new Slot) {}

UringLoop::~UringLoop() {
  // The ring goes first: no request may outlive the buffers it names.
  ring_.reset();
  if (wakefd_ >= 0) close(wakefd_);
}

Status UringLoop::BindThread() {
  // liburing 2.3 declares io_uring_enable_rings but does not export it.
  if (syscall(__NR_io_uring_register, ring_->ring.ring_fd,
              IORING_REGISTER_ENABLE_RINGS, nullptr, 0) != 0) {
    return Unsupported("io_uring ENABLE_RINGS", errno);
  }
  // Saves the ring fd lookup on every enter; optional.
  (void)io_uring_register_ring_fd(&ring_->ring);
  return OkStatus();
}

void UringLoop::RecycleBuffer(unsigned bid) {
  io_uring_buf_ring_add(
      ring_->br, ring_->bufs + size_t{bid} * options_.buffer_size,
      options_.buffer_size, static_cast<uint16_t>(bid), ring_->mask, 0);
  io_uring_buf_ring_advance(ring_->br, 1);
}

namespace {
io_uring_sqe* GetSqe(io_uring* ring, uint64_t* extra_enters) {
  io_uring_sqe* sqe = io_uring_get_sqe(ring);
  while (sqe == nullptr) {  // the SQ is full: submit what it holds
    io_uring_submit(ring);
    ++*extra_enters;
    sqe = io_uring_get_sqe(ring);
  }
  return sqe;
}
}  // namespace

void UringLoop::ArmWake() {
  io_uring_sqe* sqe = GetSqe(&ring_->ring, &counters_.enters_extra);
  io_uring_prep_poll_multishot(sqe, wakefd_, POLLIN);
  io_uring_sqe_set_data64(sqe, Tag(wake_.get(), kWake));
  wake_->wake_armed = true;
}

void UringLoop::ArmRecv(Slot* s) {
  io_uring_sqe* sqe = GetSqe(&ring_->ring, &counters_.enters_extra);
  io_uring_prep_recv_multishot(sqe, s->fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kBufGroup;
  io_uring_sqe_set_data64(sqe, Tag(s, kRecv));
  s->recv_armed = true;
}

void UringLoop::ArmSend(Slot* s, bool poll_first) {
  io_uring_sqe* sqe = GetSqe(&ring_->ring, &counters_.enters_extra);
  io_uring_prep_send(sqe, s->fd, s->sending.data() + s->sent,
                     s->sending.size() - s->sent, MSG_NOSIGNAL);
  if (poll_first) sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
  io_uring_sqe_set_data64(sqe, Tag(s, kSend));
  s->send_armed = true;
  ++sends_armed_;
}

void UringLoop::ArmAccept(Slot* s) {
  io_uring_sqe* sqe = GetSqe(&ring_->ring, &counters_.enters_extra);
  if (options_.multishot_accept) {
    io_uring_prep_multishot_accept(sqe, s->fd, nullptr, nullptr,
                                   SOCK_NONBLOCK | SOCK_CLOEXEC);
  } else {
    io_uring_prep_poll_multishot(sqe, s->fd, POLLIN);
  }
  io_uring_sqe_set_data64(sqe, Tag(s, kAccept));
  s->accept_armed = true;
}

// The cancel's own completion is skipped on success, and ignored (user
// data 0) when the request had ended already.
void UringLoop::Cancel(Slot* s, Op op) {
  io_uring_sqe* sqe = GetSqe(&ring_->ring, &counters_.enters_extra);
  io_uring_prep_cancel64(sqe, Tag(s, op), 0);
  io_uring_sqe_set_data64(sqe, 0);
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

UringLoop::Slot* UringLoop::Find(int fd) const {
  return fd >= 0 && static_cast<size_t>(fd) < slots_.size() ? slots_[fd].get()
                                                            : nullptr;
}

UringLoop::Slot* UringLoop::NewSlot(int fd) {
  if (static_cast<size_t>(fd) >= slots_.size()) slots_.resize(fd + 1);
  if (slots_[fd] != nullptr) Retire(fd);
  slots_[fd] = std::make_unique<Slot>();
  slots_[fd]->fd = fd;
  return slots_[fd].get();
}

void UringLoop::Retire(int fd) {
  std::unique_ptr<Slot> s = std::move(slots_[fd]);
  s->stream = nullptr;
  s->listener = nullptr;
  s->queued.clear();
  if (s->recv_armed) Cancel(s.get(), kRecv);
  if (s->send_armed) Cancel(s.get(), kSend);
  if (s->accept_armed) Cancel(s.get(), kAccept);
  // SQEs still queued name the fd by number: they go before it is closed.
  if (io_uring_sq_ready(&ring_->ring) > 0) {
    io_uring_submit(&ring_->ring);
    ++counters_.enters_extra;
  }
  // Kept even when idle: a callback on the stack may still use it.
  retired_.push_back(std::move(s));
}

Status UringLoop::AddListener(int fd, Listener* l) {
  Slot* s = NewSlot(fd);
  s->listener = l;
  ArmAccept(s);
  return OkStatus();
}

void UringLoop::RemoveListener(int fd) {
  if (Find(fd) != nullptr) Retire(fd);
}

Status UringLoop::AddStream(int fd, Stream* stream) {
  Slot* s = NewSlot(fd);
  s->stream = stream;
  ArmRecv(s);
  return OkStatus();
}

void UringLoop::CloseStream(int fd) {
  if (Find(fd) != nullptr) Retire(fd);
  close(fd);
}

void UringLoop::SetReceiving(int fd, bool on) {
  Slot* s = Find(fd);
  if (s == nullptr || s->want_recv == on) return;
  s->want_recv = on;
  if (on && !s->recv_armed) ArmRecv(s);
  // Its last completion (-ECANCELED, no F_MORE) re-arms it if wanted again.
  if (!on && s->recv_armed) Cancel(s, kRecv);
}

ssize_t UringLoop::Send(int fd, std::string* data) {
  Slot* s = Find(fd);
  if (s == nullptr) {
    errno = EBADF;
    return -1;
  }
  if (data->empty()) return 0;
  if (s->send_armed) {
    s->queued.append(*data);
    data->clear();
    return 0;
  }
  s->sending.swap(*data);  // *data gets the last send's (empty) buffer
  data->clear();
  s->sent = 0;
  ArmSend(s, false);
  return 0;
}

namespace {
// Waits until `n` completions are ready or `ns` passed (timeout < 0:
// forever); one io_uring_enter that also submits the queued SQEs.
void WaitFor(io_uring* ring, unsigned n, int64_t ns) {
  if (ns < 0) {
    io_uring_submit_and_wait(ring, n);
    return;
  }
  __kernel_timespec ts{};
  ts.tv_sec = ns / 1000000000;
  ts.tv_nsec = ns % 1000000000;
  io_uring_cqe* cqe = nullptr;
  io_uring_submit_and_wait_timeout(ring, &cqe, n, &ts, nullptr);
}
}  // namespace

// The round's sends mostly complete as they are submitted: waiting for one
// completion would return at once, for a round with nothing to run. So the
// first wait asks for those sends plus a batch of new input (half what the
// last round received: the thread is woken once per batch, not per
// client), for at most batch_window_us; only then, nothing being ready, a
// plain wait for one completion.
int UringLoop::Wait(int timeout_ms) {
  std::erase_if(retired_, [](const auto& s) { return !s->busy(); });
  io_uring* ring = &ring_->ring;
  ++counters_.waits;
  const unsigned sends = sends_armed_;
  sends_armed_ = 0;
  if (io_uring_cq_ready(ring) > 0) timeout_ms = 0;
  if (timeout_ms == 0) {
    io_uring_submit_and_get_events(ring);
    return static_cast<int>(io_uring_cq_ready(ring));
  }
  const int64_t window = int64_t{options_.batch_window_us} * 1000;
  const int64_t limit = timeout_ms < 0 ? -1 : int64_t{timeout_ms} * 1000000;
  if (window > 0 && (limit < 0 || window < limit)) {
    WaitFor(ring, sends + batch_, window);
    if (io_uring_cq_ready(ring) > 0) {
      return static_cast<int>(io_uring_cq_ready(ring));
    }
    ++counters_.enters_extra;
  }
  WaitFor(ring, 1, limit);
  return static_cast<int>(io_uring_cq_ready(ring));
}

bool UringLoop::Dispatch() {
  io_uring* ring = &ring_->ring;
  bool woken = false;
  unsigned head;
  unsigned n = 0;
  io_uring_cqe* cqe;
  const uint64_t inputs = counters_.recv_buffers;
  io_uring_for_each_cqe(ring, head, cqe) {
    ++n;
    woken |= Complete(cqe);
  }
  io_uring_cq_advance(ring, n);
  batch_ = static_cast<unsigned>(std::clamp<uint64_t>(
      (counters_.recv_buffers - inputs) / 2, 1, options_.max_batch));
  // Buffers are back in the ring now: receives that ended re-arm.
  for (Slot* s : rearm_) {
    if (s->stream != nullptr && s->want_recv && !s->recv_armed) {
      ++counters_.recv_rearms;
      ArmRecv(s);
    }
  }
  rearm_.clear();
  return woken;
}

bool UringLoop::Complete(const io_uring_cqe* cqe) {
  const uint64_t data = io_uring_cqe_get_data64(cqe);
  if (data == 0) return false;  // a cancel that found nothing
  Slot* s = reinterpret_cast<Slot*>(data & ~kOpMask);
  const bool more = (cqe->flags & IORING_CQE_F_MORE) != 0;
  switch (data & kOpMask) {
    case kRecv:
      OnRecv(s, cqe);
      return false;
    case kSend:
      OnSend(s, cqe->res);
      return false;
    case kAccept:
      OnAccept(s, cqe);
      return false;
    case kWake: {
      uint64_t v;
      while (read(wakefd_, &v, sizeof(v)) > 0) {
      }
      s->wake_armed = more;
      if (!more) ArmWake();
      return true;
    }
  }
  return false;
}

void UringLoop::OnRecv(Slot* s, const io_uring_cqe* cqe) {
  if ((cqe->flags & IORING_CQE_F_MORE) == 0) s->recv_armed = false;
  const int res = cqe->res;
  if (cqe->flags & IORING_CQE_F_BUFFER) {
    const unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    ++counters_.recv_buffers;
    if (res > 0) {
      Deliver(s, ring_->bufs + size_t{bid} * options_.buffer_size,
              static_cast<size_t>(res));
    }
    RecycleBuffer(bid);
  }
  if (s->stream != nullptr) {
    if (res == 0) {
      s->stream->OnError(0);  // the peer closed
    } else if (res == -ENOBUFS) {
      ++counters_.enobufs;  // the ring ran dry: re-armed below
    } else if (res < 0 && res != -ECANCELED && res != -EINTR) {
      s->stream->OnError(-res);
    }
  }
  if (!s->recv_armed && s->stream != nullptr && s->want_recv) {
    rearm_.push_back(s);
  }
}

void UringLoop::Deliver(Slot* s, const char* data, size_t n) {
  while (n > 0 && s->stream != nullptr) {
    std::span<char> space = s->stream->InputSpace();
    const size_t k = std::min(n, space.size());
    std::memcpy(space.data(), data, k);
    data += k;
    n -= k;
    s->stream->OnInput(k);
  }
}

void UringLoop::OnSend(Slot* s, int res) {
  s->send_armed = false;
  if (s->stream == nullptr) return;  // closed: the rest is dropped
  if (res == 0 || (res < 0 && res != -EAGAIN && res != -EINTR)) {
    s->stream->OnError(res == 0 ? EPIPE : -res);
    return;
  }
  if (res > 0) s->sent += static_cast<size_t>(res);
  if (s->sent < s->sending.size()) {
    if (res > 0) ++counters_.partial_sends;
    ArmSend(s, true);  // the socket is full: wait for room first
  } else {
    s->sent = 0;
    if (s->sending.capacity() > kKeepCapacity) {
      std::string().swap(s->sending);
    } else {
      s->sending.clear();
    }
    if (!s->queued.empty()) {
      s->sending.swap(s->queued);
      ArmSend(s, false);
    }
  }
  if (res > 0) s->stream->OnSent(static_cast<size_t>(res));
}

void UringLoop::OnAccept(Slot* s, const io_uring_cqe* cqe) {
  if ((cqe->flags & IORING_CQE_F_MORE) == 0) s->accept_armed = false;
  if (!options_.multishot_accept) {
    // Readiness of a shared socket: take what is there (EAGAIN: another
    // thread took it).
    while (cqe->res > 0 && s->listener != nullptr) {
      int fd = accept4(s->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) break;
      s->listener->OnAccept(fd);
    }
  } else if (cqe->res >= 0) {
    if (s->listener != nullptr) {
      s->listener->OnAccept(cqe->res);
    } else {
      close(cqe->res);
    }
  }
  if (!s->accept_armed && s->listener != nullptr) ArmAccept(s);
}

void UringLoop::Wake() {
  uint64_t one = 1;
  ssize_t r = write(wakefd_, &one, sizeof(one));
  (void)r;  // EAGAIN means a wake-up is already pending
}

}  // namespace daxkv::kv
