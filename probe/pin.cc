#include "probe/pin.h"

#include <fcntl.h>
#include <liburing.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

namespace daxkv::probe {

struct PinnedBuffers::Ring {
  io_uring ring;
  bool registered = false;
};

StatusOr<std::unique_ptr<PinnedBuffers>> PinnedBuffers::Pin(void* addr,
                                                            size_t len,
                                                            size_t chunk) {
  if (len == 0 || chunk == 0) {
    return InvalidArgumentError("PinnedBuffers: empty range or chunk");
  }
  std::unique_ptr<PinnedBuffers> p(new PinnedBuffers());
  p->ring_ = std::make_unique<Ring>();
  int rc = io_uring_queue_init(4, &p->ring_->ring, 0);
  if (rc < 0) {
    p->ring_.reset();
    return NotSupportedError(std::string("io_uring_queue_init: ") +
                             std::strerror(-rc));
  }
  std::vector<iovec> iovs;
  char* base = static_cast<char*>(addr);
  for (size_t off = 0; off < len; off += chunk) {
    iovs.push_back({base + off, std::min(chunk, len - off)});
  }
  rc = io_uring_register_buffers(&p->ring_->ring, iovs.data(),
                                 static_cast<unsigned>(iovs.size()));
  if (rc < 0) {
    std::string what = "io_uring_register_buffers of " + std::to_string(len) +
                       " bytes: " + std::strerror(-rc);
    if (rc == -ENOMEM) return NoSpaceError(what + " (RLIMIT_MEMLOCK?)");
    return IOError(what);
  }
  p->ring_->registered = true;
  p->bytes_ = len;
  return p;
}

PinnedBuffers::~PinnedBuffers() {
  if (!ring_) return;
  if (ring_->registered) io_uring_unregister_buffers(&ring_->ring);
  io_uring_queue_exit(&ring_->ring);
}

StatusOr<uint64_t> TimeFork(const std::function<void()>& while_child_alive) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    return IOError(std::string("pipe2: ") + std::strerror(errno));
  }
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = fork();
  auto t1 = std::chrono::steady_clock::now();
  if (pid < 0) {
    int err = errno;
    close(pipefd[0]);
    close(pipefd[1]);
    return IOError(std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    // Only async-signal-safe calls: wait for the parent to close its end.
    close(pipefd[1]);
    char c;
    while (read(pipefd[0], &c, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  close(pipefd[0]);
  if (while_child_alive) while_child_alive();
  close(pipefd[1]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return IOError(std::string("waitpid: ") + std::strerror(errno));
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return InternalError("forked child did not exit cleanly");
  }
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
}

}  // namespace daxkv::probe
