#include "kv/net_io.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace daxkv::kv {
namespace {

constexpr int kPollMs = 100;
constexpr size_t kRecvChunk = 1 << 16;
constexpr std::string_view kTimedOut = "timed out";

// Waits up to one poll slice for `events`, within the limits: the status
// says why the wait must end (stopping, out of time), OK otherwise.
Status WaitSlice(int fd, short events, const IoLimits& limits,
                 int64_t idle_since) {
  if (limits.stop != nullptr && limits.stop->load()) {
    return IOError("stopping");
  }
  int slice = kPollMs;
  if (limits.idle_timeout_ms >= 0) {
    const int64_t left = idle_since + limits.idle_timeout_ms - SteadyMs();
    if (left <= 0) return IoTimeoutError();
    slice = static_cast<int>(std::min<int64_t>(left, kPollMs));
  }
  WaitFd(fd, events, slice);
  return OkStatus();
}

}  // namespace

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void AppendRespCommand(std::span<const std::string_view> argv,
                       std::string* out) {
  *out += "*" + std::to_string(argv.size()) + "\r\n";
  for (std::string_view a : argv) {
    *out += "$" + std::to_string(a.size()) + "\r\n";
    out->append(a);
    *out += "\r\n";
  }
}

std::string EncodeRespCommand(std::initializer_list<std::string_view> argv) {
  std::string s;
  AppendRespCommand(std::span<const std::string_view>(argv.begin(), argv.end()),
                    &s);
  return s;
}

bool WaitFd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  return poll(&p, 1, timeout_ms) > 0;
}

Status IoTimeoutError() { return IOError(kTimedOut); }

bool IsIoTimeout(const Status& s) {
  return s.code() == StatusCode::kIOError && s.message() == kTimedOut;
}

Status ConnectTcp(const std::string& host, const std::string& port,
                  int timeout_ms, int* fd) {
  *fd = -1;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) return IOError("resolving " + host + ": " + gai_strerror(rc));
  int err = 0;
  for (addrinfo* a = res; a != nullptr && *fd < 0; a = a->ai_next) {
    int s = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) {
      err = errno;
    } else if (connect(s, a->ai_addr, a->ai_addrlen) == 0 ||
               errno == EINPROGRESS) {
      *fd = s;
    } else {
      err = errno;
      close(s);
    }
  }
  freeaddrinfo(res);
  if (*fd < 0) return IOError(std::strerror(err));
  if (!WaitFd(*fd, POLLOUT, timeout_ms)) return IoTimeoutError();
  socklen_t len = sizeof(err);
  getsockopt(*fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return IOError(std::strerror(err));
  return OkStatus();
}

Status SendAll(int fd, std::string_view data, const IoLimits& limits) {
  int64_t idle_since = SteadyMs();
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      idle_since = SteadyMs();
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      DAXKV_RETURN_IF_ERROR(WaitSlice(fd, POLLOUT, limits, idle_since));
    } else {
      return IOError(std::strerror(n == 0 ? EPIPE : errno));
    }
  }
  return OkStatus();
}

Status RecvSome(int fd, int timeout_ms, std::string* buf, size_t* pos,
                size_t* n) {
  *n = 0;
  if (!WaitFd(fd, POLLIN, timeout_ms)) return OkStatus();
  if (*pos > 0 && *pos * 2 >= buf->size()) {
    buf->erase(0, *pos);
    *pos = 0;
  }
  const size_t old = buf->size();
  buf->resize(old + kRecvChunk);
  const ssize_t r = recv(fd, buf->data() + old, kRecvChunk, 0);
  buf->resize(old + (r > 0 ? static_cast<size_t>(r) : 0));
  if (r == 0) return IOError("connection closed");
  if (r < 0) {
    if (errno == EAGAIN || errno == EINTR) return OkStatus();
    return IOError(std::strerror(errno));
  }
  *n = static_cast<size_t>(r);
  return OkStatus();
}

bool TakeLine(const std::string& buf, size_t* pos, std::string* line) {
  const size_t nl = buf.find('\n', *pos);
  if (nl == std::string::npos) return false;
  line->assign(buf, *pos, nl - *pos);
  if (!line->empty() && line->back() == '\r') line->pop_back();
  *pos = nl + 1;
  return true;
}

Status ReadLine(int fd, const IoLimits& limits, std::string* buf, size_t* pos,
                std::string* line) {
  int64_t idle_since = SteadyMs();
  while (!TakeLine(*buf, pos, line)) {
    DAXKV_RETURN_IF_ERROR(WaitSlice(fd, POLLIN, limits, idle_since));
    size_t n = 0;
    DAXKV_RETURN_IF_ERROR(RecvSome(fd, 0, buf, pos, &n));
    if (n > 0) idle_since = SteadyMs();
  }
  return OkStatus();
}

}  // namespace daxkv::kv
