// Client: the protocol-level state of one connection (authentication, RESP
// version, MULTI queue, WATCHed keys, name), independent of sockets so the
// in-process executor in tests drives it the same way the server does.
//
// Thread-safety: owned by one I/O thread. Fields read by other threads
// (CLIENT LIST, CLIENT KILL, INFO) are atomics or guarded by info_mu.
#ifndef DAXKV_KV_CLIENT_H_
#define DAXKV_KV_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "kv/pubsub_client.h"

namespace daxkv::kv {

struct CommandSpec;
class Waiter;
class CommandNotes;

struct Client {
  uint64_t id = 0;
  std::atomic<int> resp{2};
  bool authenticated = false;
  // The replication link's client applying the master's stream: writes
  // pass a read-only replica's check and run while loading.
  bool is_master = false;
  // The link's resume record (kv/replica_resume.h) for the master's
  // command it applies alone: a FUNCTION change writes it in its own
  // system batch. Empty otherwise.
  std::string resume_record;
  int fd = -1;
  // Redis's Lua client: redis.call's commands run as it (shown as "lua"
  // by MONITOR).
  bool script_client = false;
  // In MONITOR mode (kv/monitor.h): CLIENT LIST's flag O, read from any
  // thread; set and cleared by the client's own thread.
  std::atomic<bool> monitor{false};
  std::string addr = "127.0.0.1:0";   // peer ip:port
  std::string laddr = "127.0.0.1:0";  // local ip:port
  int64_t created_ms = 0;
  std::atomic<int64_t> last_interaction_ms{0};

  // MULTI state.
  // Leaves MULTI (EXEC, DISCARD, RESET, an aborted EXEC): drops the queue.
  // The WATCHed keys are dropped with it by DiscardTransaction()
  // (kv/command.h), which also unregisters them.
  void EndMulti() {
    in_multi = false;
    multi_error = false;
    queued.clear();
    queued_bytes = 0;
    multi_has_write = false;
    multi_has_nonstale = false;
    multi_queued.store(-1, std::memory_order_relaxed);
  }
  // CLIENT REPLY (Redis's CLIENT_REPLY_OFF / _SKIP_NEXT / _SKIP): OFF drops
  // every command's reply, SKIP the next command's; published messages
  // still go out. A dropped command that blocked drops its served reply
  // too (drop_blocked_reply). The client's I/O thread only.
  bool reply_off = false;
  bool reply_skip_next = false;
  bool reply_skip = false;
  bool drop_blocked_reply = false;
  bool in_multi = false;
  bool multi_error = false;  // a queued command was rejected: EXECABORT
  std::vector<std::vector<std::string>> queued;
  bool multi_has_write = false;  // a write command is queued
  // A command without kCmdStale is queued: EXEC gets -MASTERDOWN on a
  // replica refusing stale reads (Redis's cmd_inv_flags & CMD_STALE).
  bool multi_has_nonstale = false;
  // Argument bytes held by `queued` and key bytes by `watched`: bounded by
  // the query buffer limit (see Connection).
  size_t queued_bytes = 0;
  size_t watched_bytes = 0;
  // WATCHed keys with the version seen (0 = absent), registered in the
  // server's WatchRegistry.
  std::vector<std::pair<std::string, uint64_t>> watched;
  // Set (from any thread) when a watched key was written or flushed after
  // WATCH: the next EXEC fails (expiry is seen at EXEC from the versions).
  std::atomic<bool> watch_dirty{false};

  // Channels, patterns and shard channels subscribed to, and the mailbox
  // publishers on other threads deliver to (kv/pubsub.h).
  PubSubClient pubsub;

  // Blocking pops (kv/block_registry.h). `blocked`: the command this
  // client is blocked in (set by it, owner thread only); its input waits
  // until the waiter's reply is delivered. `unblock_notify` wakes the
  // owner thread for that delivery (set by Connection; empty in tests).
  // `round_woken`: the owner thread's deliveries to clients this client's
  // commands served, run after the round's Sync (null: run at once).
  std::shared_ptr<Waiter> blocked;
  // CLIENT LIST's flag b (read from any thread): `blocked` is set.
  std::atomic<bool> blocked_flag{false};
  std::function<void()> unblock_notify;
  // The slow log's view of the command `blocked` is in: its arguments
  // (redacted) and the time of its first run, logged once it is served.
  std::vector<std::string> blocked_slowlog_args;
  uint64_t blocked_micros = 0;
  std::vector<std::function<void(bool durable)>>* round_woken = nullptr;

  // Set by handlers; the connection acts on them after the reply is queued.
  bool close_after_reply = false;
  // Close at once, unsent replies dropped (Redis's CLIENT_CLOSE_ASAP): the
  // client went over its output limit, or its MULTI queue and WATCHed keys
  // over the query buffer limit.
  bool close_asap = false;
  // Set by a command that read or wrote the engine: the round must
  // DB::Sync() before its replies leave.
  bool touched_db = false;
  // Set by CLIENT KILL from any thread.
  std::atomic<bool> kill_requested{false};

  // The I/O thread's shared hold on the server's exec lock during a round
  // (null outside the server, e.g. in tests). EXEC trades it for an
  // exclusive hold.
  std::shared_lock<std::shared_timed_mutex>* round_lock = nullptr;

  // Master side of replication (kv/repl_effects.h): a replica's own
  // connection (after PSYNC/SYNC); the effects of the running command
  // while replicas are attached, and its hold on the master's order mutex.
  std::atomic<bool> is_replica{false};  // read by CLIENT LIST/KILL
  bool repl_recording = false;
  bool repl_wrap = false;  // an EXEC block or a script: MULTI/EXEC around
  int repl_effect_count = 0;
  int64_t repl_woff = 0;  // stream offset after this client's last write
  std::string repl_effects;
  std::unique_lock<Mutex>* repl_order = nullptr;
  // REPLICAOF run inside EXEC (Sentinel's failover block): the target
  // ("" = NO ONE) the block leaves, made effective once EXEC has released
  // the exec lock (kv/cmd_replication.cc, RunDeferredReplicaOf).
  bool replicaof_deferred = false;
  // While a RunStoreTxn body runs: RunCommand's counting, held back until
  // the Txn commits (kv/command_notes.h); null otherwise.
  CommandNotes* notes = nullptr;
  std::string replicaof_host;
  int replicaof_port = 0;

  // Read by CLIENT LIST / INFO from other threads.
  mutable Mutex info_mu;
  std::string name GUARDED_BY(info_mu);
  // For container commands ("client|list").
  std::string last_subcommand GUARDED_BY(info_mu);
  std::atomic<const CommandSpec*> last_command{nullptr};
  std::atomic<uint64_t> query_buffer_bytes{0};
  // Commands queued since MULTI, -1 outside MULTI (CLIENT LIST multi=).
  std::atomic<int> multi_queued{-1};
  std::atomic<uint64_t> output_buffer_bytes{0};

  std::string GetName() const {
    MutexLock l(&info_mu);
    return name;
  }
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_CLIENT_H_
