#include "kv/replica_link.h"

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <shared_mutex>

#include "kv/command.h"
#include "kv/executor.h"
#include "kv/repl_load.h"
#include "kv/repl_master.h"
#include "kv/resp_parser.h"
#include "kv/server_state.h"
#include "rdb/sync_payload.h"

namespace daxkv::kv {

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
  unapplied_.clear();
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
  int fd = -1;
  const std::string port = std::to_string(port_);
  Status s = ConnectTcp(host_, port, 10000, &fd);
  if (!s.ok()) {
    if (fd >= 0) close(fd);
    return IOError("connecting to MASTER " + host_ + ":" + port + ": " +
                   std::string(s.message()));
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
  return kv::SendAll(fd, data, {.stop = &stop_})
      .WithContext("writing to MASTER");
}

Status ReplicaLink::ReadMore(int timeout_ms, size_t* n) {
  *n = 0;
  int fd;
  {
    MutexLock l(&fd_mu_);
    fd = fd_;
  }
  if (stopping()) return IOError("stopping");
  Status s = RecvSome(fd, timeout_ms, &in_, &in_pos_, n);
  if (!s.ok()) return s.WithContext("reading from MASTER");
  if (*n > 0) repl_->NoteMasterIo();
  return OkStatus();
}

Status ReplicaLink::ReadLine(std::string* line) {
  const int64_t deadline = SteadyMs() + kReplTimeoutMs;
  while (!TakeLine(in_, &in_pos_, line)) {
    if (SteadyMs() > deadline) return IOError("timeout reading from MASTER");
    size_t n = 0;
    DAXKV_RETURN_IF_ERROR(ReadMore(kReplPollMs, &n));
  }
  return OkStatus();
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
    repl_->master().FollowFrom(processed_, /*full_sync=*/true);
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
    repl_->master().FollowFrom(processed_, /*full_sync=*/false);
    *full = false;
    return OkStatus();
  }
  return FailedPreconditionError("unexpected reply to PSYNC from MASTER: " + r);
}

}  // namespace daxkv::kv
