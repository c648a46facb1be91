// ServerState: what command handlers share across connections and threads:
// the engine, runtime settings, statistics, the client registry and the lock
// that gives EXEC blocks Redis's isolation.
//
// Thread-safety: all members are safe to use from any thread as documented
// per member.
#ifndef DAXKV_KV_SERVER_STATE_H_
#define DAXKV_KV_SERVER_STATE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "base/clock.h"
#include "base/mutex.h"
#include "engine/db.h"
#include "kv/access_clock.h"
#include "kv/acl_log.h"
#include "kv/block_registry.h"
#include "kv/client.h"
#include "kv/command_stats.h"
#include "kv/io_loop.h"
#include "kv/latency_monitor.h"
#include "kv/migrate_cache.h"
#include "kv/monitor.h"
#include "kv/pubsub.h"
#include "kv/replication.h"
#include "kv/server_config.h"
#include "kv/slowlog.h"
#include "kv/watch_registry.h"

namespace daxkv::kv {

class ExpiryEffects;

class ScriptEngine;

// A statistics counter bumped on every request by every I/O thread: one
// cache line per thread slot, so threads do not bounce a shared line.
class ShardedCounter {
 public:
  void fetch_add(uint64_t n,
                 std::memory_order order = std::memory_order_relaxed);
  uint64_t load() const;
  void Reset();

 private:
  static constexpr int kSlots = 16;
  struct alignas(64) Slot {
    std::atomic<uint64_t> v{0};
  };
  Slot slots_[kSlots];
};

struct ServerStats {
  ShardedCounter connections_received;
  ShardedCounter rejected_connections;
  ShardedCounter commands_processed;
  ShardedCounter net_input_bytes;
  ShardedCounter net_output_bytes;
  ShardedCounter keyspace_hits;
  ShardedCounter keyspace_misses;
  ShardedCounter syncs;
  ShardedCounter client_output_limit_disconnects;
  ShardedCounter misconf_rejections;  // commands refused with -MISCONF
  // Pipelined collection writes run as one Txn (kv/write_run.h): the runs
  // committed, and the commands they ran.
  ShardedCounter write_runs;
  ShardedCounter write_run_commands;

  void Reset();
};

class ServerState {
 public:
  // REQUIRES: `db` and `clock` outlive the state.
  ServerState(engine::DB* db, const ServerConfig& config,
              const Clock* clock = SystemClock());
  ~ServerState();

  engine::DB& db() { return *db_; }
  const ServerConfig& config() const { return config_; }
  RuntimeSettings& settings() { return settings_; }
  ServerStats& stats() { return stats_; }
  // INFO commandstats / errorstats, indexed by a spec's position in
  // CommandTable::Default().all().
  CommandStats& command_stats() { return command_stats_; }
  SlowLog& slowlog() { return slowlog_; }
  AclLog& acl_log() { return acl_log_; }
  LatencyMonitor& latency() { return latency_; }
  MonitorFeed& monitors() { return monitors_; }
  // Redis's run_id: 40 random hex digits, new at each start (INFO server;
  // Sentinel tells restarted instances apart by it).
  const std::string& run_id() const { return run_id_; }

  // Why the server cannot keep its durability promise, or OK: the engine's
  // sticky DB::BackgroundError(), or the first group commit (Sync) that
  // failed here. While it is non-OK write commands are refused with
  // -MISCONF (as Redis after a failed save); it lasts until a restart.
  Status PersistenceError();
  // Records a failed group commit (the first one is kept) and logs it.
  void NotePersistenceError(const Status& s);

  // Every "now" the server reads: TTLs, idle times, INFO, TIME. The same
  // clock as the engine's Options::clock, so expiry agrees.
  const Clock& clock() const { return *clock_; }
  int64_t NowMs() const { return clock_->NowMs(); }

  int64_t start_time_ms() const { return start_ms_; }
  std::atomic<int64_t>& last_save_s() { return last_save_s_; }

  // Last access per key (OBJECT IDLETIME).
  AccessClock& access_clock() { return access_clock_; }

  // Shared by every I/O thread round; exclusive while an EXEC block or a
  // script runs. Timed, so that a thread waiting for its round can serve
  // BUSY replies while a script runs long (kv/io_thread.cc).
  std::shared_timed_mutex& exec_lock() { return exec_lock_; }

  // Who WATCHes which keys (every write marks the watchers).
  WatchRegistry& watches() { return watches_; }

  // Pub/sub subscriptions of every client.
  PubSubRegistry& pubsub() { return pubsub_; }

  // Clients blocked in BLPOP and friends (kv/block_registry.h).
  BlockRegistry& blocked() { return blocked_; }

  // EVAL's Lua state and script cache (see kv/script_engine.h for which
  // methods need the exec lock held exclusively).
  ScriptEngine& scripts() { return *scripts_; }

  // Client registry (CLIENT LIST/KILL, INFO clients). Unregister also
  // unwatches the client's keys and unsubscribes it from everything.
  uint64_t NextClientId() { return next_client_id_.fetch_add(1) + 1; }
  void Register(Client* c, std::function<void()> wake);
  void Unregister(Client* c);
  size_t ClientCount() const;
  // Registered clients whose peer has not hung up: a client that closed its
  // socket counts until its I/O thread sees the EOF, which may lag behind a
  // new connection accepted on another thread (maxclients).
  size_t LiveClientCount() const;
  // Calls fn for each client under the registry lock.
  void ForEachClient(const std::function<void(Client&)>& fn) const;
  // Sets kill_requested on each client fn selects and wakes its thread.
  int KillClients(const std::function<bool(const Client&)>& select);

  // SHUTDOWN: the server installs the action (tests leave it unset).
  void set_shutdown_handler(std::function<void()> fn) {
    shutdown_handler_ = std::move(fn);
  }
  bool RequestShutdown();
  // Set once the server starts shutting down (signal or SHUTDOWN): long
  // waits inside a command (DEBUG SLEEP) end early.
  void BeginShutdown() { shutting_down_.store(true); }
  bool shutting_down() const { return shutting_down_.load(); }
  const std::atomic<bool>& shutdown_flag() const { return shutting_down_; }

  // Samples total_commands_processed (called about once a second by the
  // I/O threads); InstantaneousOps() is the rate over the last sample.
  void SampleOps(int64_t now_ms);
  uint64_t InstantaneousOps() const { return ops_per_sec_.load(); }

  // Leaves the engine's hooks (the expiry listener); idempotent. After it
  // the DB may be closed before this state is destroyed (the destructor
  // calls it otherwise). REQUIRES: the DB is still open.
  void DetachFromEngine();

  // Role in replication (REPLICAOF, INFO replication, ROLE).
  Replication& replication() { return *replication_; }

  // MIGRATE's cached connections to its targets.
  MigrateCache& migrate_cache() { return migrate_cache_; }

  // Time Server::Open spent opening the region and recovering the pool
  // (INFO daxkv open_ms).
  int64_t recovery_ms = 0;
  // The I/O threads' loop (the io-engine setting resolved at start-up;
  // INFO server's io_engine). Set before any I/O thread is created.
  IoEngine io_engine = IoEngine::kEpoll;

 private:
  struct Entry {
    Client* client;
    std::function<void()> wake;
  };

  engine::DB* db_;
  ServerConfig config_;
  RuntimeSettings settings_;
  ServerStats stats_;
  CommandStats command_stats_;
  SlowLog slowlog_;
  AclLog acl_log_;
  LatencyMonitor latency_;
  MonitorFeed monitors_;
  std::string run_id_;
  const Clock* clock_;
  int64_t start_ms_;
  std::atomic<int64_t> last_save_s_;
  std::shared_timed_mutex exec_lock_;
  AccessClock access_clock_;
  WatchRegistry watches_;
  PubSubRegistry pubsub_;
  BlockRegistry blocked_;
  std::unique_ptr<ScriptEngine> scripts_;
  std::atomic<uint64_t> next_client_id_{0};
  mutable Mutex clients_mu_;
  std::map<uint64_t, Entry> clients_ GUARDED_BY(clients_mu_);
  std::function<void()> shutdown_handler_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> has_persistence_error_{false};
  std::atomic<bool> logged_background_error_{false};
  Mutex persistence_mu_;
  Status persistence_error_ GUARDED_BY(persistence_mu_);
  Mutex sample_mu_;
  int64_t sample_ms_ GUARDED_BY(sample_mu_) = 0;
  uint64_t sample_ops_ GUARDED_BY(sample_mu_) = 0;
  std::atomic<uint64_t> ops_per_sec_{0};
  MigrateCache migrate_cache_;
  // Last: destroyed first, so the link thread stops before what it uses.
  std::unique_ptr<Replication> replication_;
  // The engine's expiry reclaim as DELs in the master's stream; removed
  // from the engine first thing in the destructor.
  std::unique_ptr<ExpiryEffects> expiry_effects_;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_SERVER_STATE_H_
