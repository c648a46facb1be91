// Userfaultfd: a userfaultfd(2) descriptor with the ioctls faultbench and
// tests need (seeds 000 MINOR+CONTINUE, 002 MOVE, 003 WP_ASYNC).
//
// Open() negotiates UFFDIO_API with the features asked for; a feature the
// kernel lacks is NotSupported naming it, decided from the feature bits the
// kernel reports (never from its version).
//
// UffdHandler runs a thread that reads fault messages and resolves each with
// a caller-supplied function (UFFDIO_COPY, ZEROPAGE, CONTINUE, ...): one
// round trip per fault, as a lazy-restore or live-migration handler would.
//
// Thread-safety: the ioctl methods may be called from any thread
// concurrently (the kernel serialises); Register/Unregister must not race
// with faults on the same range. A Userfaultfd must outlive its handler.
#ifndef DAXKV_PROBE_UFFD_H_
#define DAXKV_PROBE_UFFD_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"
#include "base/statusor.h"

namespace daxkv::probe {

// Registration modes (UFFDIO_REGISTER_MODE_*).
inline constexpr uint64_t kUffdMissing = 1 << 0;
inline constexpr uint64_t kUffdWriteProtect = 1 << 1;
inline constexpr uint64_t kUffdMinor = 1 << 2;

// A page fault reported by the kernel.
struct UffdFault {
  uint64_t address = 0;  // page-aligned unless UFFD_FEATURE_EXACT_ADDRESS
  bool write = false;
  bool write_protect = false;  // a WP fault (sync WP mode)
  bool minor = false;          // a MINOR fault: the page is in the cache
};

class Userfaultfd {
 public:
  // Opens a descriptor (/dev/userfaultfd, else the syscall) and enables
  // `features` (UFFD_FEATURE_* bits). NotSupported names missing bits.
  static StatusOr<std::unique_ptr<Userfaultfd>> Open(uint64_t features);
  // The feature bits this kernel offers (a throwaway UFFDIO_API handshake).
  static StatusOr<uint64_t> AvailableFeatures();

  ~Userfaultfd();
  Userfaultfd(const Userfaultfd&) = delete;
  Userfaultfd& operator=(const Userfaultfd&) = delete;

  int fd() const { return fd_; }
  uint64_t features() const { return features_; }  // as negotiated

  // REQUIRES: page-aligned; `modes` a set of kUffd* bits.
  Status Register(void* addr, size_t len, uint64_t modes);
  Status Unregister(void* addr, size_t len);

  // Resolve faults. `wake` false passes the DONTWAKE mode.
  Status Copy(void* dst, const void* src, size_t len, bool wake = true);
  Status ZeroPage(void* dst, size_t len, bool wake = true);
  Status Continue(void* addr, size_t len, bool wake = true);
  // UFFDIO_MOVE: moves anonymous pages; returns the bytes moved.
  // REQUIRES: features() includes UFFD_FEATURE_MOVE.
  StatusOr<size_t> Move(void* dst, void* src, size_t len,
                        bool allow_src_holes = false);
  Status WriteProtect(void* addr, size_t len, bool protect);
  Status Wake(void* addr, size_t len);

  // Waits up to timeout_ms (-1 forever) for one fault message. NotFound on
  // timeout; Aborted when `stop_fd` (if >= 0) becomes readable.
  StatusOr<UffdFault> ReadFault(int timeout_ms, int stop_fd = -1);

 private:
  Userfaultfd(int fd, uint64_t features) : fd_(fd), features_(features) {}
  int fd_;
  uint64_t features_;
};

// Resolves faults on a thread of its own until destroyed.
class UffdHandler {
 public:
  using Resolver = std::function<Status(Userfaultfd&, const UffdFault&)>;

  // REQUIRES: `uffd` outlives the handler.
  static StatusOr<std::unique_ptr<UffdHandler>> Start(Userfaultfd* uffd,
                                                      Resolver resolve);
  // Stops and joins the thread.
  ~UffdHandler();

  // Faults read from the descriptor and passed to the resolver (counted
  // before resolving, so a woken faulting thread already sees its own).
  uint64_t faults_handled() const {
    return handled_.load(std::memory_order_acquire);
  }
  // The first resolver error, or OK. A failing resolver stops the thread,
  // and the faulting thread stays blocked: callers check this and time out.
  Status error() const;

 private:
  UffdHandler(Userfaultfd* uffd, Resolver resolve, int stop_fd)
      : uffd_(uffd), resolve_(std::move(resolve)), stop_fd_(stop_fd) {}
  void Run();

  Userfaultfd* uffd_;
  Resolver resolve_;
  int stop_fd_;
  std::atomic<uint64_t> handled_{0};
  mutable std::mutex mu_;
  Status error_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace daxkv::probe

#endif  // DAXKV_PROBE_UFFD_H_
