#include "probe/uffd.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "probe/linux_compat.h"

namespace daxkv::probe {
namespace {

std::string Errno(int err) { return std::strerror(err); }

#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

StatusOr<int> OpenRaw() {
  int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
  if (dev >= 0) {
    int fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
    close(dev);
    if (fd >= 0) return fd;
  }
  int fd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  if (fd < 0) {
    return NotSupportedError(std::string("userfaultfd: ") + Errno(errno));
  }
  return fd;
}

Status IoctlStatus(int rc, const char* name, void* addr, size_t len) {
  if (rc == 0) return OkStatus();
  int err = errno;
  std::string what = std::string(name) + " at " +
                     std::to_string(reinterpret_cast<uintptr_t>(addr)) +
                     " len " + std::to_string(len) + ": " + Errno(err);
  if (err == EINVAL || err == ENOTTY) return NotSupportedError(what);
  if (err == EEXIST) return AlreadyExistsError(what);
  return IOError(what);
}

}  // namespace

StatusOr<uint64_t> Userfaultfd::AvailableFeatures() {
  DAXKV_ASSIGN_OR_RETURN(int fd, OpenRaw());
  uffdio_api api{};
  api.api = UFFD_API;
  int rc = ioctl(fd, UFFDIO_API, &api);
  int err = errno;
  close(fd);
  if (rc != 0) return IOError(std::string("UFFDIO_API: ") + Errno(err));
  return static_cast<uint64_t>(api.features);
}

StatusOr<std::unique_ptr<Userfaultfd>> Userfaultfd::Open(uint64_t features) {
  DAXKV_ASSIGN_OR_RETURN(uint64_t available, AvailableFeatures());
  if ((available & features) != features) {
    char hex[32];
    std::snprintf(hex, sizeof(hex), "%#llx",
                  static_cast<unsigned long long>(features & ~available));
    return NotSupportedError(std::string("userfaultfd features ") + hex +
                             " not offered by this kernel");
  }
  DAXKV_ASSIGN_OR_RETURN(int fd, OpenRaw());
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = features;
  if (ioctl(fd, UFFDIO_API, &api) != 0) {
    int err = errno;
    close(fd);
    return NotSupportedError(std::string("UFFDIO_API with features: ") +
                             Errno(err));
  }
  return std::unique_ptr<Userfaultfd>(new Userfaultfd(fd, api.features));
}

Userfaultfd::~Userfaultfd() { close(fd_); }

Status Userfaultfd::Register(void* addr, size_t len, uint64_t modes) {
  uffdio_register reg{};
  reg.range.start = reinterpret_cast<uint64_t>(addr);
  reg.range.len = len;
  reg.mode = modes;
  return IoctlStatus(ioctl(fd_, UFFDIO_REGISTER, &reg), "UFFDIO_REGISTER", addr,
                     len);
}

Status Userfaultfd::Unregister(void* addr, size_t len) {
  uffdio_range range{reinterpret_cast<uint64_t>(addr), len};
  return IoctlStatus(ioctl(fd_, UFFDIO_UNREGISTER, &range), "UFFDIO_UNREGISTER",
                     addr, len);
}

Status Userfaultfd::Copy(void* dst, const void* src, size_t len, bool wake) {
  uffdio_copy c{};
  c.dst = reinterpret_cast<uint64_t>(dst);
  c.src = reinterpret_cast<uint64_t>(src);
  c.len = len;
  c.mode = wake ? 0 : UFFDIO_COPY_MODE_DONTWAKE;
  return IoctlStatus(ioctl(fd_, UFFDIO_COPY, &c), "UFFDIO_COPY", dst, len);
}

Status Userfaultfd::ZeroPage(void* dst, size_t len, bool wake) {
  uffdio_zeropage z{};
  z.range.start = reinterpret_cast<uint64_t>(dst);
  z.range.len = len;
  z.mode = wake ? 0 : UFFDIO_ZEROPAGE_MODE_DONTWAKE;
  return IoctlStatus(ioctl(fd_, UFFDIO_ZEROPAGE, &z), "UFFDIO_ZEROPAGE", dst,
                     len);
}

Status Userfaultfd::Continue(void* addr, size_t len, bool wake) {
  uffdio_continue c{};
  c.range.start = reinterpret_cast<uint64_t>(addr);
  c.range.len = len;
  c.mode = wake ? 0 : UFFDIO_CONTINUE_MODE_DONTWAKE;
  return IoctlStatus(ioctl(fd_, UFFDIO_CONTINUE, &c), "UFFDIO_CONTINUE", addr,
                     len);
}

StatusOr<size_t> Userfaultfd::Move(void* dst, void* src, size_t len,
                                   bool allow_src_holes) {
  uffdio_move m{};
  m.dst = reinterpret_cast<uint64_t>(dst);
  m.src = reinterpret_cast<uint64_t>(src);
  m.len = len;
  m.mode = allow_src_holes ? UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES : 0;
  DAXKV_RETURN_IF_ERROR(
      IoctlStatus(ioctl(fd_, UFFDIO_MOVE, &m), "UFFDIO_MOVE", dst, len));
  return static_cast<size_t>(m.move);
}

Status Userfaultfd::WriteProtect(void* addr, size_t len, bool protect) {
  uffdio_writeprotect wp{};
  wp.range.start = reinterpret_cast<uint64_t>(addr);
  wp.range.len = len;
  wp.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0;
  return IoctlStatus(ioctl(fd_, UFFDIO_WRITEPROTECT, &wp),
                     "UFFDIO_WRITEPROTECT", addr, len);
}

Status Userfaultfd::Wake(void* addr, size_t len) {
  uffdio_range range{reinterpret_cast<uint64_t>(addr), len};
  return IoctlStatus(ioctl(fd_, UFFDIO_WAKE, &range), "UFFDIO_WAKE", addr, len);
}

StatusOr<UffdFault> Userfaultfd::ReadFault(int timeout_ms, int stop_fd) {
  for (;;) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    int n = poll(fds, stop_fd >= 0 ? 2 : 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IOError(std::string("poll userfaultfd: ") + Errno(errno));
    if (n == 0) return NotFoundError("no userfaultfd message before timeout");
    if (stop_fd >= 0 && (fds[1].revents & POLLIN)) {
      return AbortedError("userfaultfd reader stopped");
    }
    uffd_msg msg;
    ssize_t r = read(fd_, &msg, sizeof(msg));
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (r != sizeof(msg)) {
      return IOError(std::string("read userfaultfd: ") +
                     (r < 0 ? Errno(errno) : "short message"));
    }
    if (msg.event != UFFD_EVENT_PAGEFAULT) continue;  // fork/remap events
    UffdFault f;
    f.address = msg.arg.pagefault.address;
    f.write = msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE;
    f.write_protect = msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP;
    f.minor = msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR;
    return f;
  }
}

StatusOr<std::unique_ptr<UffdHandler>> UffdHandler::Start(Userfaultfd* uffd,
                                                          Resolver resolve) {
  int stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0) return IOError(std::string("eventfd: ") + Errno(errno));
  std::unique_ptr<UffdHandler> h(
      new UffdHandler(uffd, std::move(resolve), stop_fd));
  h->thread_ = std::thread([raw = h.get()] { raw->Run(); });
  return h;
}

UffdHandler::~UffdHandler() {
  uint64_t one = 1;
  if (write(stop_fd_, &one, sizeof(one)) != sizeof(one)) {
    // The eventfd cannot overflow with one write; nothing else to do.
  }
  thread_.join();
  close(stop_fd_);
}

Status UffdHandler::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

void UffdHandler::Run() {
  for (;;) {
    StatusOr<UffdFault> fault = uffd_->ReadFault(-1, stop_fd_);
    if (!fault.ok() && fault.status().code() == StatusCode::kAborted) return;
    // Counted before resolving: once woken, the faulting thread may look.
    if (fault.ok()) handled_.fetch_add(1, std::memory_order_release);
    Status s = fault.ok() ? resolve_(*uffd_, *fault) : fault.status();
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = s;
      return;
    }
  }
}

}  // namespace daxkv::probe
