// ScopedFd: closes a file descriptor when it goes out of scope.
//
// Thread-safety: thread-compatible; move-only.
#ifndef DAXKV_DAX_SCOPED_FD_H_
#define DAXKV_DAX_SCOPED_FD_H_

#include <unistd.h>

#include <utility>

namespace daxkv::dax {

class ScopedFd {
 public:
  ScopedFd() = default;
  // Takes ownership of `fd` (which may be -1: "none").
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) close(fd_);
  }
  ScopedFd(ScopedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace daxkv::dax

#endif  // DAXKV_DAX_SCOPED_FD_H_
