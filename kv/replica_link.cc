#include "kv/replica_link.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <shared_mutex>

#include "kv/command.h"
#include "kv/executor.h"
#include "kv/repl_load.h"
#include "kv/resp_parser.h"
#include "kv/server_state.h"
#include "rdb/sync_payload.h"

namespace daxkv::kv {
namespace {

// Waits for `events` on fd; false on timeout.
bool WaitFd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  int rc = poll(&p, 1, timeout_ms);
  return rc > 0;
}

}  // namespace

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string EncodeRespCommand(std::initializer_list<std::string_view> argv) {
  std::string s = "*" + std::to_string(argv.size()) + "\r\n";
  for (std::string_view a : argv) {
    s += "$" + std::to_string(a.size()) + "\r\n";
    s.append(a);
    s += "\r\n";
  }
  return s;
}

ReplicaLink::ReplicaLink(ServerState* server, Replication* repl,
                         std::string host, int port)
    : server_(server), repl_(repl), host_(std::move(host)), port_(port) {
  master_.authenticated = true;
  master_.is_master = true;
  master_.addr = host_ + ":" + std::to_string(port_);
  master_.round_woken = &woken_;  // delivered after the link's Sync
}

ReplicaLink::~ReplicaLink() { Stop(); }

void ReplicaLink::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ReplicaLink::Stop() {
  stop_.store(true);
  {
    MutexLock l(&fd_mu_);
    if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
  }
  if (thread_.joinable()) thread_.join();
}

void ReplicaLink::SleepInterruptible(int ms) {
  for (int waited = 0; waited < ms && !stopping(); waited += kReplPollMs) {
    std::this_thread::sleep_for(std::chrono::milliseconds(kReplPollMs));
  }
}

void ReplicaLink::Run() {
  while (!stopping()) {
    repl_->SetLinkState(LinkState::kConnecting);
    Status s = Session();
    {
      MutexLock l(&fd_mu_);
      if (fd_ >= 0) close(fd_);
      fd_ = -1;
    }
    repl_->SetLoading(false);
    repl_->SetLinkState(LinkState::kConnect);
    if (stopping()) break;
    std::fprintf(stderr, "replication: link with master %s:%d lost: %s\n",
                 host_.c_str(), port_, s.ToString().c_str());
    SleepInterruptible(1000);
  }
}

Status ReplicaLink::Session() {
  in_.clear();
  in_pos_ = 0;
  in_block_ = false;
  block_.clear();
  group_.clear();
  DAXKV_RETURN_IF_ERROR(Connect());
  repl_->SetLinkState(LinkState::kHandshake);
  DAXKV_RETURN_IF_ERROR(Handshake());
  bool full = false;
  DAXKV_RETURN_IF_ERROR(Psync(&full));
  if (full) {
    repl_->SetLinkState(LinkState::kSync);
    Status s = LoadFullSync();
    repl_->NoteSyncDone(true, s);
    DAXKV_RETURN_IF_ERROR(s);
  } else {
    repl_->NoteSyncDone(false, OkStatus());
  }
  std::fprintf(stderr,
               "replication: MASTER <-> REPLICA sync done (%s) with %s:%d, "
               "offset %lld\n",
               full ? "full" : "partial", host_.c_str(), port_,
               static_cast<long long>(processed_));
  repl_->SetLinkState(LinkState::kConnected);
  last_ack_ms_ = 0;
  // The master client is listed (CLIENT LIST, flags=M) and can be killed
  // (CLIENT KILL TYPE master: the link reconnects and resyncs partially).
  master_.id = server_->NextClientId();
  master_.created_ms = server_->NowMs();
  master_.last_interaction_ms = master_.created_ms;
  master_.kill_requested.store(false);
  {
    MutexLock l(&fd_mu_);
    master_.fd = fd_;
  }
  server_->Register(&master_, [] {});  // the link polls kill_requested
  Status s = Stream();
  server_->Unregister(&master_);
  master_.fd = -1;
  return s;
}

Status ReplicaLink::Connect() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(port_);
  int rc = getaddrinfo(host_.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) return IOError("resolving " + host_ + ": " + gai_strerror(rc));
  int fd =
      socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int err = 0;
  if (fd < 0) {
    err = errno;
  } else if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    err = errno;
    if (err == EINPROGRESS && WaitFd(fd, POLLOUT, 10000)) {
      socklen_t len = sizeof(err);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    } else if (err == EINPROGRESS) {
      err = ETIMEDOUT;
    }
  }
  freeaddrinfo(res);
  if (err != 0) {
    if (fd >= 0) close(fd);
    return IOError("connecting to MASTER " + host_ + ":" + port + ": " +
                   std::strerror(err));
  }
  MutexLock l(&fd_mu_);
  fd_ = fd;
  if (stopping()) shutdown(fd_, SHUT_RDWR);
  return OkStatus();
}

Status ReplicaLink::SendAll(std::string_view data) {
  int fd;
  {
    MutexLock l(&fd_mu_);
    fd = fd_;
  }
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (stopping()) return IOError("stopping");
      WaitFd(fd, POLLOUT, kReplPollMs);
    } else {
      return IOError(std::string("writing to MASTER: ") + std::strerror(errno));
    }
  }
  return OkStatus();
}

Status ReplicaLink::ReadMore(int timeout_ms, size_t* n) {
  *n = 0;
  int fd;
  {
    MutexLock l(&fd_mu_);
    fd = fd_;
  }
  if (stopping()) return IOError("stopping");
  if (!WaitFd(fd, POLLIN, timeout_ms)) return OkStatus();
  if (in_pos_ > 0 && in_pos_ * 2 >= in_.size()) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  const size_t old = in_.size();
  in_.resize(old + (1 << 16));
  ssize_t r = recv(fd, in_.data() + old, 1 << 16, 0);
  in_.resize(old + (r > 0 ? static_cast<size_t>(r) : 0));
  if (r == 0) return IOError("MASTER closed the connection");
  if (r < 0) {
    if (errno == EAGAIN || errno == EINTR) return OkStatus();
    return IOError(std::string("reading from MASTER: ") + std::strerror(errno));
  }
  *n = static_cast<size_t>(r);
  repl_->NoteMasterIo();
  return OkStatus();
}

Status ReplicaLink::ReadLine(std::string* line) {
  const int64_t deadline = SteadyMs() + kReplTimeoutMs;
  for (;;) {
    size_t nl = in_.find('\n', in_pos_);
    if (nl != std::string::npos) {
      line->assign(in_, in_pos_, nl - in_pos_);
      if (!line->empty() && line->back() == '\r') line->pop_back();
      in_pos_ = nl + 1;
      return OkStatus();
    }
    if (SteadyMs() > deadline) return IOError("timeout reading from MASTER");
    size_t n = 0;
    DAXKV_RETURN_IF_ERROR(ReadMore(kReplPollMs, &n));
  }
}

Status ReplicaLink::Command(std::initializer_list<std::string_view> argv,
                            std::string* reply) {
  DAXKV_RETURN_IF_ERROR(SendAll(EncodeRespCommand(argv)));
  do {  // empty lines are the master's keepalives
    DAXKV_RETURN_IF_ERROR(ReadLine(reply));
  } while (reply->empty());
  return OkStatus();
}

Status ReplicaLink::Handshake() {
  std::string r;
  DAXKV_RETURN_IF_ERROR(Command({"PING"}, &r));
  // As Redis: an authentication error to PING is fine (AUTH follows).
  if (r[0] == '-' && r.rfind("-NOAUTH", 0) != 0 && r.rfind("-NOPERM", 0) != 0 &&
      r.rfind("-ERR operation not permitted", 0) != 0) {
    return FailedPreconditionError("Error reply to PING from master: " + r);
  }
  const std::string pass = repl_->masterauth();
  if (!pass.empty()) {
    const std::string user = repl_->masteruser();
    if (user.empty()) {
      DAXKV_RETURN_IF_ERROR(Command({"AUTH", pass}, &r));
    } else {
      DAXKV_RETURN_IF_ERROR(Command({"AUTH", user, pass}, &r));
    }
    if (r[0] == '-') {
      return FailedPreconditionError("Unable to AUTH to MASTER: " + r);
    }
  }
  // Errors to REPLCONF are not fatal (older masters), as in Redis.
  DAXKV_RETURN_IF_ERROR(Command(
      {"REPLCONF", "listening-port", std::to_string(server_->config().port)},
      &r));
  DAXKV_RETURN_IF_ERROR(
      Command({"REPLCONF", "capa", "eof", "capa", "psync2"}, &r));
  return OkStatus();
}

Status ReplicaLink::Psync(bool* full) {
  std::string replid;
  int64_t offset = 0;
  repl_->ResumePoint(&replid, &offset);
  std::string r;
  DAXKV_RETURN_IF_ERROR(Command({"PSYNC", replid, std::to_string(offset)}, &r));
  if (r.rfind("+FULLRESYNC ", 0) == 0) {
    // +FULLRESYNC <replid> <offset>
    size_t sp = r.find(' ', 12);
    int64_t off = 0;
    if (sp == std::string::npos || sp - 12 != 40 ||
        !ParseInt64(std::string_view(r).substr(sp + 1), &off)) {
      return CorruptionError("bad FULLRESYNC reply from MASTER: " + r);
    }
    replid_ = r.substr(12, 40);
    processed_ = off;
    group_end_ = processed_;
    *full = true;
    return OkStatus();
  }
  if (r.rfind("+CONTINUE", 0) == 0) {
    replid_ = replid;
    if (r.size() >= 10 + 40) replid_ = r.substr(10, 40);
    repl_->SetMasterReplid(replid_);
    processed_ = offset - 1;
    durable_ = processed_;
    group_end_ = processed_;
    *full = false;
    return OkStatus();
  }
  return FailedPreconditionError("unexpected reply to PSYNC from MASTER: " + r);
}

}  // namespace daxkv::kv
