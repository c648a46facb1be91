// Pinning anonymous memory the way a real I/O stack does: registering it as
// io_uring fixed buffers (FOLL_PIN / FOLL_LONGTERM). A pinned page cannot be
// shared copy-on-write with a child, so fork() copies it at once (the
// kernel's "early COW of pinned pages at fork()", which keeps a child from
// seeing DMA into the parent's pinned buffers): PinnedBuffers plus
// TimeFork() measure that cost.
//
// Thread-safety: a PinnedBuffers is thread-compatible. TimeFork() forks the
// whole process: call it where no other thread holds a lock the child
// needs (the child calls only _exit).
#ifndef DAXKV_PROBE_PIN_H_
#define DAXKV_PROBE_PIN_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "base/status.h"
#include "base/statusor.h"

namespace daxkv::probe {

class PinnedBuffers {
 public:
  // Registers [addr, addr+len) as fixed buffers of a new io_uring, in
  // chunks of at most `chunk` bytes (the kernel caps one buffer at 1 GiB).
  // REQUIRES: anonymous or shmem memory, page-aligned. NotSupported when
  // io_uring is unavailable; NoSpace when RLIMIT_MEMLOCK is too small.
  static StatusOr<std::unique_ptr<PinnedBuffers>> Pin(void* addr, size_t len,
                                                      size_t chunk = size_t{64}
                                                                     << 20);
  // Unregisters (unpins) and closes the ring.
  ~PinnedBuffers();
  PinnedBuffers(const PinnedBuffers&) = delete;
  PinnedBuffers& operator=(const PinnedBuffers&) = delete;

  size_t bytes() const { return bytes_; }

 private:
  PinnedBuffers() = default;
  struct Ring;
  std::unique_ptr<Ring> ring_;
  size_t bytes_ = 0;
};

// fork()s a child that waits (touching no memory) until `while_child_alive`
// returns in the parent, then _exit(0)s; returns the nanoseconds the parent
// spent inside fork() (page-table copy, and early COW of pinned pages). The
// child is reaped before returning.
StatusOr<uint64_t> TimeFork(
    const std::function<void()>& while_child_alive = nullptr);

}  // namespace daxkv::probe

#endif  // DAXKV_PROBE_PIN_H_
