#include "kv/server_state.h"

#include <poll.h>

#include <cstdio>
#include <random>
#include <vector>

#include "kv/command.h"
#include "kv/repl_effects.h"
#include "kv/repl_master.h"
#include "kv/script_engine.h"

namespace daxkv::kv {

void ShardedCounter::fetch_add(uint64_t n, std::memory_order order) {
  static std::atomic<int> next_slot{0};
  thread_local int slot = next_slot.fetch_add(1) % kSlots;
  slots_[slot].v.fetch_add(n, order);
}

uint64_t ShardedCounter::load() const {
  uint64_t sum = 0;
  for (const Slot& s : slots_) sum += s.v.load(std::memory_order_relaxed);
  return sum;
}

void ShardedCounter::Reset() {
  for (Slot& s : slots_) s.v.store(0, std::memory_order_relaxed);
}

void ServerStats::Reset() {
  connections_received.Reset();
  rejected_connections.Reset();
  commands_processed.Reset();
  net_input_bytes.Reset();
  net_output_bytes.Reset();
  keyspace_hits.Reset();
  keyspace_misses.Reset();
  syncs.Reset();
  client_output_limit_disconnects.Reset();
  misconf_rejections.Reset();
  write_runs.Reset();
  write_run_commands.Reset();
}

namespace {

std::string RandomHex(size_t digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::string s(digits, '0');
  for (char& c : s) c = kHex[rd() & 15];
  return s;
}

}  // namespace

ServerState::ServerState(engine::DB* db, const ServerConfig& config,
                         const Clock* clock)
    : db_(db),
      config_(config),
      settings_(config),
      command_stats_(CommandTable::Default().all().size()),
      run_id_(RandomHex(40)),
      clock_(clock),
      start_ms_(clock->NowMs()),
      last_save_s_(start_ms_ / 1000),
      access_clock_(start_ms_),
      scripts_(std::make_unique<ScriptEngine>()),
      replication_(std::make_unique<Replication>(this)),
      expiry_effects_(std::make_unique<ExpiryEffects>(*this)) {
  db_->SetExpiryListener(expiry_effects_.get());
}

// The link thread runs commands against this state: it stops first.
ServerState::~ServerState() {
  DetachFromEngine();
  replication_->Shutdown();
}

void ServerState::DetachFromEngine() {
  if (expiry_effects_ == nullptr) return;
  db_->SetExpiryListener(nullptr);
  expiry_effects_.reset();
}

Status ServerState::PersistenceError() {
  if (has_persistence_error_.load(std::memory_order_acquire)) {
    MutexLock l(&persistence_mu_);
    return persistence_error_;
  }
  Status s = db_->BackgroundError();
  if (!s.ok() && !logged_background_error_.exchange(true)) {
    std::fprintf(stderr,
                 "daxkv-server: the engine cannot persist (%s): write "
                 "commands are refused until a restart\n",
                 s.ToString().c_str());
  }
  return s;
}

void ServerState::NotePersistenceError(const Status& s) {
  MutexLock l(&persistence_mu_);
  if (has_persistence_error_.load()) return;
  persistence_error_ = s;
  has_persistence_error_.store(true, std::memory_order_release);
  std::fprintf(stderr,
               "daxkv-server: a group commit failed (%s): write commands are "
               "refused until a restart\n",
               s.ToString().c_str());
}

void ServerState::Register(Client* c, std::function<void()> wake) {
  MutexLock l(&clients_mu_);
  clients_[c->id] = Entry{c, std::move(wake)};
}

void ServerState::Unregister(Client* c) {
  if (c->is_replica) replication_->master().Detach(c->id);
  watches_.UnwatchAll(c);
  pubsub_.UnsubscribeEverything(c);
  monitors_.Remove(c);
  MutexLock l(&clients_mu_);
  clients_.erase(c->id);
}

size_t ServerState::ClientCount() const {
  MutexLock l(&clients_mu_);
  return clients_.size();
}

size_t ServerState::LiveClientCount() const {
  std::vector<pollfd> fds;
  {
    // A registered client's fd stays open until after Unregister.
    MutexLock l(&clients_mu_);
    fds.reserve(clients_.size());
    for (const auto& [id, e] : clients_) {
      if (e.client->fd >= 0) fds.push_back({e.client->fd, POLLRDHUP, 0});
    }
    if (poll(fds.data(), fds.size(), 0) < 0) return clients_.size();
  }
  size_t live = 0;
  for (const pollfd& p : fds) {
    live += (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) == 0;
  }
  return live;
}

void ServerState::ForEachClient(const std::function<void(Client&)>& fn) const {
  MutexLock l(&clients_mu_);
  for (const auto& [id, e] : clients_) fn(*e.client);
}

int ServerState::KillClients(const std::function<bool(const Client&)>& select) {
  MutexLock l(&clients_mu_);
  int n = 0;
  for (const auto& [id, e] : clients_) {
    if (!select(*e.client)) continue;
    e.client->kill_requested.store(true);
    if (e.wake) e.wake();
    ++n;
  }
  return n;
}

void ServerState::SampleOps(int64_t now_ms) {
  MutexLock l(&sample_mu_);
  if (now_ms - sample_ms_ < 1000) return;
  uint64_t ops = stats_.commands_processed.load();
  if (sample_ms_ != 0 && ops >= sample_ops_) {
    ops_per_sec_.store((ops - sample_ops_) * 1000 /
                       static_cast<uint64_t>(now_ms - sample_ms_));
  }
  sample_ms_ = now_ms;
  sample_ops_ = ops;
}

bool ServerState::RequestShutdown() {
  if (!shutdown_handler_) return false;
  shutdown_handler_();
  return true;
}

}  // namespace daxkv::kv
