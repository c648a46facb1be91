#include "kv/io_thread.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "kv/executor.h"
#include "kv/net_io.h"
#include "kv/script_engine.h"
#include "kv/script_section.h"

namespace daxkv::kv {
namespace {

constexpr int kHousekeepingMs = 1000;
// How often a thread waiting for its round looks for a busy script.
constexpr int kBusyPollMs = 20;

std::string FormatAddr(const sockaddr_storage& ss) {
  char ip[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
    port = ntohs(a->sin6_port);
  }
  return std::string(ip) + ":" + std::to_string(port);
}

bool IsLoopback(const std::string& ip) {
  return ip.rfind("127.", 0) == 0 || ip == "::1" ||
         ip.rfind("::ffff:127.", 0) == 0;
}

constexpr std::string_view kDenied =
    "-DENIED daxkv is running in protected mode because protected mode is "
    "enabled and no password is set for the default user. In this mode "
    "connections are only accepted from the loopback interface. To accept "
    "other connections, set a password with --requirepass, or disable "
    "protected mode with --protected_mode=no (only if the port is not "
    "reachable from untrusted networks).\r\n";

}  // namespace

class IoThread::Listener final : public IoLoop::Listener {
 public:
  Listener(IoThread& owner, int fd) : owner_(owner), fd_(fd) {}
  void OnAccept(int fd) override { owner_.Accept(fd); }
  int fd() const { return fd_; }

 private:
  IoThread& owner_;
  int fd_;
};

Status CreateIoThreads(ServerState& server, const std::vector<int>& listen_fds,
                       IoThreadGroup* group,
                       std::vector<std::unique_ptr<IoThread>>* threads) {
  const auto serving = static_cast<size_t>(EffectiveThreads(server.config()));
  group->serving = serving;
  for (size_t t = 0; t < serving + (serving == 1 ? 1 : 0); ++t) {
    DAXKV_ASSIGN_OR_RETURN(auto thread,
                           IoThread::Create(server, listen_fds, group));
    group->threads.push_back(thread.get());
    threads->push_back(std::move(thread));
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<IoThread>> IoThread::Create(
    ServerState& server, const std::vector<int>& listen_fds,
    IoThreadGroup* group) {
  // Every group has two threads or more (CreateIoThreads' standby), so the
  // listening sockets are always shared.
  DAXKV_ASSIGN_OR_RETURN(
      auto loop, CreateIoLoop(server.io_engine, /*shared_listeners=*/true));
  std::unique_ptr<IoThread> t(new IoThread(server, std::move(loop), group));
  for (int fd : listen_fds) {
    t->listeners_.push_back(std::make_unique<Listener>(*t, fd));
    DAXKV_RETURN_IF_ERROR(
        t->loop_->AddListener(fd, t->listeners_.back().get()));
  }
  return t;
}

IoThread::IoThread(ServerState& server, std::unique_ptr<IoLoop> loop,
                   IoThreadGroup* group)
    : server_(server),
      loop_(std::move(loop)),
      group_(group),
      round_lock_(server.exec_lock(), std::defer_lock),
      kept_exclusive_(server.exec_lock(), std::defer_lock) {}

IoThread::~IoThread() {
  Stop();
  Join();
  for (Connection* c : conns_) delete c;
  MutexLock l(&adopt_mu_);
  for (const Accepted& a : adopted_) close(a.fd);
}

void IoThread::Start() {
  thread_ = std::thread([this] { Run(); });
}

void IoThread::Stop() {
  stop_.store(true);
  loop_->Wake();
}

void IoThread::Join() {
  if (thread_.joinable()) thread_.join();
}

void IoThread::MarkPending(Connection* c) { pending_.push_back(c); }
void IoThread::MarkClosed(Connection* c) { closed_.push_back(c); }
void IoThread::MarkResume(Connection* c) { resume_.push_back(c); }

void IoThread::MailArrived(Connection* c) {
  bool first;
  {
    MutexLock l(&mail_mu_);
    first = mail_.empty();
    mail_.push_back(c);
  }
  if (first) loop_->Wake();  // later ones find the wake-up pending
}

void IoThread::Unblocked(Connection* c) {
  bool first;
  {
    MutexLock l(&unblocked_mu_);
    first = unblocked_.empty();
    unblocked_.push_back(c);
  }
  if (first) loop_->Wake();
}

void IoThread::MarkBlocked(Connection* c) {
  if (std::find(blocked_.begin(), blocked_.end(), c) == blocked_.end()) {
    blocked_.push_back(c);
  }
}

void IoThread::ServeUnblocked() {
  std::vector<Connection*> unblocked;
  {
    MutexLock l(&unblocked_mu_);
    unblocked.swap(unblocked_);
  }
  for (Connection* c : unblocked) c->Unblock();
}

int IoThread::BlockWaitMs(int timeout_ms, int64_t now_ms) const {
  int64_t wait = timeout_ms;
  for (const Connection* c : blocked_) {
    const int64_t deadline = c->block_deadline_ms();
    if (deadline != 0)
      wait = std::min(wait, std::max<int64_t>(deadline - now_ms, 0));
  }
  return static_cast<int>(wait);
}

void IoThread::ExpireBlocks(int64_t now_ms) {
  std::vector<Connection*> blocked;
  blocked.swap(blocked_);
  for (Connection* c : blocked) {
    // A client that blocks again while its input runs is queued anew.
    if (c->ExpireBlock(now_ms) && !c->closed()) {
      if (std::find(blocked_.begin(), blocked_.end(), c) == blocked_.end()) {
        blocked_.push_back(c);
      }
    }
  }
}

// Durability: runs after the round's Sync() (FinishRound): the pops these
// replies report were committed (sync = false) by this round's commands and
// are on the medium now; a crash before this point loses pops nobody was
// told about (and the pushes that made them, in the same batch).
void IoThread::DeliverWoken(bool durable) {
  std::vector<std::function<void(bool)>> woken;
  woken.swap(woken_);
  for (auto& deliver : woken) deliver(durable);
}

void IoThread::RequestHousekeeping() {
  housekeeping_requested_.store(true);
  loop_->Wake();
}

void IoThread::ServeMail() {
  std::vector<Connection*> mail;
  {
    MutexLock l(&mail_mu_);
    mail.swap(mail_);
  }
  for (Connection* c : mail) c->DeliverMail();
}

void IoThread::Run() {
  Status bound = loop_->BindThread();
  if (!bound.ok()) {  // the probe at start-up set up the same loop
    std::fprintf(stderr, "daxkv-server: I/O thread: %s\n",
                 bound.ToString().c_str());
    return;
  }
  SetKeptExclusiveHold(&kept_exclusive_);
  while (!stop_.load()) Round(100);
  Drain();
  SetKeptExclusiveHold(nullptr);
}

void IoThread::Round(int timeout_ms) {
  const int wait = BlockWaitMs(timeout_ms, server_.NowMs());
  int n = loop_->Wait(resume_.empty() ? wait : 0);
  bool woken = false;
  const bool expiring =
      !blocked_.empty() && BlockWaitMs(1, server_.NowMs()) == 0;
  if (n > 0 || !resume_.empty() || expiring) {
    bool undispatched = n > 0;
    LockRound(&undispatched, &woken);
    if (undispatched) woken |= loop_->Dispatch();
    if (woken) {
      ServeAdopted();
      ServeMail();
      ServeUnblocked();
    }
    if (expiring) ExpireBlocks(server_.NowMs());
    // Connections closed meanwhile are still allocated: FinishRound frees
    // them only after this.
    std::vector<Connection*> resume;
    resume.swap(resume_);
    for (Connection* c : resume) c->ResumeInput();
    UnlockRound();
  }
  FinishRound();
  int64_t now = server_.NowMs();
  // Woken for a CLIENT KILL: look at the clients now. A wake-up for mail
  // or a new connection does not scan them all.
  if (housekeeping_requested_.exchange(false) ||
      now - last_housekeeping_ms_ >= kHousekeepingMs) {
    last_housekeeping_ms_ = now;
    Housekeeping();
    FinishRound();
  }
}

// Ends the round's hold of the exec lock: the shared one, or the
// exclusive one a script kept (kv/script_section.h).
void IoThread::UnlockRound() {
  if (kept_exclusive_.owns_lock()) {
    kept_exclusive_.unlock();
  } else {
    round_lock_.unlock();
  }
}

// Takes the round lock. While a script runs past busy-reply-threshold (it
// holds the exec lock exclusively), serves this thread's clients without
// the lock meanwhile, as Redis serves clients from inside a busy script:
// ExecuteCommand sees the lock is not held and answers BUSY, except SCRIPT
// KILL and SHUTDOWN NOSAVE, which touch no data. *undispatched says the
// events of the last Wait() are still to be dispatched (cleared if this
// dispatches them); *woken collects Dispatch()'s wake-ups.
void IoThread::LockRound(bool* undispatched, bool* woken) {
  constexpr auto kPoll = std::chrono::milliseconds(kBusyPollMs);
  while (!round_lock_.try_lock_for(kPoll)) {
    if (!server_.scripts().busy()) continue;
    if (*undispatched) {
      *undispatched = false;
    } else if (loop_->Wait(kBusyPollMs) <= 0) {
      continue;
    }
    if (loop_->Dispatch()) {
      *woken = true;
      ServeAdopted();
    }
    FinishRound();
  }
}

// Durability: one Sync covers every write (sync=false) applied in the
// round by this thread, and any other thread's write a read here observed;
// a crash before it returns loses only writes nobody was told about.
void IoThread::FinishRound() {
  bool touched = !woken_.empty();
  for (Connection* c : pending_) {
    if (!c->closed() && c->client().touched_db) {
      touched = true;
      c->client().touched_db = false;
    }
  }
  if (touched) {
    if (!SyncRound(server_)) {
      // Not durable: no reply may claim otherwise. Drop these clients.
      for (Connection* c : pending_) c->Close();
      pending_.clear();
      DeliverWoken(false);
    }
  }
  DeliverWoken(true);
  for (size_t i = 0; i < pending_.size(); ++i) pending_[i]->FlushReplies();
  pending_.clear();
  if (!closed_.empty()) {
    // A closed client is unsubscribed (no more mail comes for it), but
    // mail queued before may still name it.
    MutexLock l(&mail_mu_);
    for (Connection* c : closed_) std::erase(mail_, c);
  }
  if (!closed_.empty()) {
    MutexLock l(&unblocked_mu_);
    for (Connection* c : closed_) std::erase(unblocked_, c);
  }
  for (Connection* c : closed_) {
    conns_.erase(c);
    std::erase(resume_, c);
    std::erase(blocked_, c);
    delete c;
  }
  closed_.clear();
}

void IoThread::Accept(int fd) {
  sockaddr_storage peer{};
  socklen_t len = sizeof(peer);
  getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len);
  server_.stats().connections_received.fetch_add(1);
  std::string addr = FormatAddr(peer);
  std::string ip = addr.substr(0, addr.rfind(':'));
  if (!Admit(fd, ip)) return;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_storage local{};
  len = sizeof(local);
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  IoThread* to = this;
  // While a script is busy its thread is inside Lua: this one (not that
  // one) serves the newcomer, with BUSY replies.
  if (!server_.scripts().busy()) {
    to = group_->threads[group_->next.fetch_add(1) % group_->serving];
  }
  if (to == this) {
    Serve(fd, std::move(addr), FormatAddr(local));
  } else {
    to->Adopt(fd, std::move(addr), FormatAddr(local));
  }
}

void IoThread::Adopt(int fd, std::string addr, std::string laddr) {
  {
    MutexLock l(&adopt_mu_);
    adopted_.push_back({fd, std::move(addr), std::move(laddr)});
  }
  loop_->Wake();
}

void IoThread::ServeAdopted() {
  std::vector<Accepted> adopted;
  {
    MutexLock l(&adopt_mu_);
    adopted.swap(adopted_);
  }
  for (Accepted& a : adopted) {
    Serve(a.fd, std::move(a.addr), std::move(a.laddr));
  }
}

void IoThread::Serve(int fd, std::string addr, std::string laddr) {
  auto* c =
      new Connection(server_, *this, fd, std::move(addr), std::move(laddr));
  c->client().round_lock = &round_lock_;
  c->client().round_woken = &woken_;
  conns_.insert(c);
  Status s = c->Start();
  if (!s.ok()) {
    std::fprintf(stderr, "daxkv-server: %s\n", s.ToString().c_str());
    c->Close();
  }
}

// Protected mode and maxclients, with Redis's replies; false = rejected.
bool IoThread::Admit(int fd, const std::string& peer_ip) {
  RuntimeSettings& s = server_.settings();
  std::string_view reject;
  if (s.protected_mode.load() && !s.auth_required() && !IsLoopback(peer_ip)) {
    reject = kDenied;
  } else if (server_.ClientCount() >=
                 static_cast<size_t>(s.maxclients.load()) &&
             server_.LiveClientCount() >=
                 static_cast<size_t>(s.maxclients.load())) {
    reject = "-ERR max number of clients reached\r\n";
  }
  if (reject.empty()) return true;
  server_.stats().rejected_connections.fetch_add(1);
  ssize_t r = write(fd, reject.data(), reject.size());
  (void)r;
  close(fd);
  return false;
}

// Idle timeouts and CLIENT KILL requests from other threads.
void IoThread::Housekeeping() {
  int64_t now = server_.NowMs();
  server_.SampleOps(now);
  server_.migrate_cache().CloseIdle(SteadyMs());
  int64_t timeout_ms =
      static_cast<int64_t>(server_.settings().timeout.load()) * 1000;
  std::vector<Connection*> victims;
  for (Connection* c : conns_) {
    if (c->closed()) continue;
    // As Redis, the idle timeout spares subscribers: they only listen.
    // Blocked clients wait for their own timeout, as in Redis.
    const bool idle = timeout_ms > 0 && c->idle_ms(now) > timeout_ms &&
                      !c->client().pubsub.subscribed() &&
                      c->client().blocked == nullptr;
    if (c->client().kill_requested.load() || idle) {
      victims.push_back(c);
    }
  }
  for (Connection* c : victims) c->Close();
}

void IoThread::Drain() {
  for (auto& l : listeners_) loop_->RemoveListener(l->fd());
  listeners_.clear();
  {
    MutexLock l(&adopt_mu_);
    for (const Accepted& a : adopted_) close(a.fd);
    adopted_.clear();
  }
  // Requests already read are answered; then every client is closed. Two
  // rounds: io_uring submits the first one's replies with the next wait.
  for (int round = 0; round < 2; ++round) {
    round_lock_.lock();
    loop_->Wait(0);
    loop_->Dispatch();
    UnlockRound();
    FinishRound();
  }
  std::vector<Connection*> all(conns_.begin(), conns_.end());
  for (Connection* c : all) c->Close();
  FinishRound();
}

}  // namespace daxkv::kv
