#include "kv/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "base/byte_size.h"
#include "dax/region.h"
#include "kv/function_store.h"
#include "kv/replica_resume.h"
#include "kv/script_engine.h"

namespace daxkv::kv {
namespace {

void PrintBacking(const dax::RegionInfo& r) {
  std::printf("pool: %s (%s, %s)\n", r.path.c_str(),
              dax::BackingKindName(r.kind), HumanBytes(r.size).c_str());
  std::printf("backing: %s, granularity: %s, MAP_SYNC: %s\n",
              dax::BackingKindName(r.kind), dax::GranularityName(r.granularity),
              r.map_sync ? "yes" : "no");
  std::printf(
      "durability: every acknowledged write is persisted before its "
      "reply (group commit per event-loop round) via %s\n",
      r.persistence.c_str());
  if (r.granularity == dax::Granularity::kPage) {
    std::printf(
        "note: page-granularity backing: persistence is msync(2), "
        "honest but slower than DAX; use /dev/daxX.Y or an fsdax "
        "file for cache-line persistence\n");
  }
}

// Recovery progress for large pools: at most one line per second.
std::function<void(uint64_t, uint64_t)> ProgressPrinter() {
  auto last = std::make_shared<std::atomic<int64_t>>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
  return [last](uint64_t done, uint64_t total) {
    int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count();
    int64_t prev = last->load();
    if (now - prev < 1000 || !last->compare_exchange_strong(prev, now)) return;
    std::printf(
        "recovery: %.0f%% (%s of %s scanned)\n",
        total ? 100.0 * static_cast<double>(done) / static_cast<double>(total)
              : 100.0,
        HumanBytes(done).c_str(), HumanBytes(total).c_str());
    std::fflush(stdout);
  };
}

// *in_use: the bind failed with EADDRINUSE.
StatusOr<int> ListenSocket(const std::string& host, int port, bool* in_use) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
  addrinfo* res = nullptr;
  std::string port_s = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), port_s.c_str(), &hints, &res);
  if (rc != 0) {
    return InvalidArgumentError("bind address '" + host +
                                "': " + gai_strerror(rc));
  }
  // SO_REUSEADDR only (TIME_WAIT); never SO_REUSEPORT, which would let a
  // second server bind the port and take half of the clients.
  int fd =
      socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const char* step = nullptr;
  if (fd < 0) {
    step = "socket";
  } else if (bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
    step = "bind";
  } else if (listen(fd, 511) != 0) {
    step = "listen";
  }
  int err = errno;
  freeaddrinfo(res);
  *in_use =
      step != nullptr && std::strcmp(step, "bind") == 0 && err == EADDRINUSE;
  if (step != nullptr) {
    if (fd >= 0) close(fd);
    // Redis's wording ("... 127.0.0.1:6379: bind: Address already in use").
    return IOError("Could not create server TCP listening socket " + host +
                   ":" + port_s + ": " + step + ": " + std::strerror(err));
  }
  return fd;
}

// A server killed a moment ago may still hold the port: with io_uring the
// kernel tears the dead process's ring down asynchronously, and requests
// in it (a poll or accept on the listening socket) keep that socket
// listening meanwhile. So a port in use is tried again for up to
// kBindRetry before the start fails (Redis's wording, as at once).
constexpr auto kBindRetry = std::chrono::seconds(3);

StatusOr<int> ListenSocketRetrying(const std::string& host, int port) {
  const auto deadline = std::chrono::steady_clock::now() + kBindRetry;
  bool said = false;
  for (;;) {
    bool in_use = false;
    StatusOr<int> fd = ListenSocket(host, port, &in_use);
    if (fd.ok() || !in_use || std::chrono::steady_clock::now() >= deadline) {
      return fd;
    }
    if (!said) {
      std::fprintf(stderr,
                   "daxkv-server: %s:%d in use; retrying for up to %lld s\n",
                   host.c_str(), port,
                   static_cast<long long>(kBindRetry.count()));
      said = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<std::string> SplitBind(const std::string& bind) {
  std::vector<std::string> out;
  std::istringstream in(bind);
  std::string h;
  while (in >> h) out.push_back(h);
  return out;
}

}  // namespace

StatusOr<std::unique_ptr<Server>> Server::Open(const ServerConfig& config) {
  std::unique_ptr<Server> s(new Server);
  s->config_ = config;
  s->config_.threads = EffectiveThreads(config);
  // Bind first, as Redis does: a port in use fails (after kBindRetry),
  // before a long recovery of the pool.
  DAXKV_RETURN_IF_ERROR(s->Bind());
  dax::OpenOptions ro;
  ro.create_if_missing = true;
  ro.create_size = config.pool_size;
  ro.require_dax = config.require_dax;
  auto region = dax::OpenRegion(config.pool, ro);
  if (!region.ok())
    return region.status().WithContext("opening pool " + config.pool);
  PrintBacking((*region)->info());
  engine::Options eo;
  eo.recovery_progress = ProgressPrinter();
  eo.segment_size = EffectiveSegmentSize(config);
  eo.format_over_existing_data = config.format_over_existing_data;
  auto start = std::chrono::steady_clock::now();
  auto db = engine::DB::Open(std::move(*region), eo);
  if (!db.ok())
    return db.status().WithContext("opening the daxkv pool " + config.pool);
  s->db_ = std::move(*db);
  int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count();
  engine::Stats st = s->db_->GetStats();
  std::printf(
      "recovery: %lld ms, %llu records, %llu keys (last shutdown %s; index "
      "from %s)\n",
      static_cast<long long>(ms),
      static_cast<unsigned long long>(st.recovered_records),
      static_cast<unsigned long long>(st.keys),
      st.clean_shutdown ? "clean" : "not clean: crash recovery ran",
      st.index_recovery.c_str());
  s->state_ = std::make_unique<ServerState>(s->db_.get(), s->config_);
  s->state_->recovery_ms = ms;
  for (const auto& [name, value] : config.runtime_settings) {
    const std::string error = ApplyRuntimeSetting(*s->state_, name, value);
    if (!error.empty()) {
      return InvalidArgumentError("invalid value '" + value +
                                  "' for setting '" + name + "': " + error);
    }
  }
  std::string warnings;
  auto functions = LoadStoredFunctions(
      *s->db_, s->state_->scripts().functions(), &warnings);
  if (!functions.ok()) {
    return functions.status().WithContext("loading the function libraries");
  }
  if (!warnings.empty()) std::fprintf(stderr, "%s", warnings.c_str());
  if (*functions > 0) {
    std::printf("loaded %zu function librar%s from the pool\n", *functions,
                *functions == 1 ? "y" : "ies");
  }
  Replication& repl = s->state_->replication();
  repl.set_masterauth(config.masterauth);
  repl.set_masteruser(config.masteruser);
  repl.read_only().store(config.replica_read_only);
  repl.serve_stale_data().store(config.replica_serve_stale_data);
  int64_t resume = -1;
  DAXKV_RETURN_IF_ERROR(LoadReplicaResumePoint(*s->db_, repl, &resume)
                            .WithContext("reading the replica resume point"));
  if (resume >= 0) {
    std::printf("replica resume point: offset %lld (the pool's data is the "
                "master's at that offset)\n",
                static_cast<long long>(resume));
  }
  s->state_->set_shutdown_handler([] { kill(getpid(), SIGTERM); });
  DAXKV_RETURN_IF_ERROR(s->CreateThreads());
  return s;
}

Status Server::Bind() {
  std::vector<std::string> hosts = SplitBind(config_.bind);
  if (hosts.empty()) return InvalidArgumentError("--bind names no address");
  for (const auto& h : hosts) {
    DAXKV_ASSIGN_OR_RETURN(int fd, ListenSocketRetrying(h, config_.port));
    listen_fds_.push_back(fd);
  }
  return OkStatus();
}

Status Server::CreateThreads() {
  std::string note;
  DAXKV_ASSIGN_OR_RETURN(state_->io_engine,
                         ResolveIoEngine(config_.io_engine, &note));
  if (!note.empty()) std::fprintf(stderr, "daxkv-server: %s\n", note.c_str());
  return CreateIoThreads(*state_, listen_fds_, &group_, &threads_);
}

void Server::StopThreads() {
  for (auto& t : threads_) t->Stop();
  for (auto& t : threads_) t->Join();
  threads_.clear();
  group_.threads.clear();
  for (int fd : listen_fds_) close(fd);
  listen_fds_.clear();
}

Server::~Server() {
  StopThreads();
  state_.reset();
  db_.reset();
}

Status Server::Run() {
  for (auto& t : threads_) t->Start();
  if (!config_.replicaof.empty()) {
    std::string host;
    int port = 0;
    if (ParseReplicaOf(config_.replicaof, &host, &port)) {
      state_->replication().ReplicaOf(host, port);
      std::printf("replica of %s:%d (replicaof)\n", host.c_str(), port);
    }
  }
  std::printf("listening on %s port %d with %d I/O thread%s (%s)\n",
              config_.bind.c_str(), config_.port, config_.threads,
              config_.threads == 1 ? "" : "s",
              std::string(IoEngineName(state_->io_engine)).c_str());
  if (config_.protected_mode && config_.requirepass.empty()) {
    std::printf(
        "protected mode: only loopback clients are accepted (no "
        "password set)\n");
  }
  std::printf("Ready to accept connections\n");
  std::fflush(stdout);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  std::printf("received %s: draining clients and closing the pool\n",
              sig == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  state_->BeginShutdown();
  // The replication link writes to the engine: it stops before the pool
  // closes (and no REPLICAOF can start another from here on).
  state_->replication().Shutdown();
  StopThreads();
  // A replica's resume point needs nothing here: each group commit of the
  // link wrote it with the commands it covers.
  Status s = db_->Sync();
  state_->DetachFromEngine();
  db_.reset();
  std::printf("daxkv-server stopped%s\n", s.ok() ? " cleanly" : "");
  std::fflush(stdout);
  return s;
}

}  // namespace daxkv::kv
