// ReplMaster: the master side of Redis replication (docs/replication.md).
// It keeps the replication backlog (the stream of write effects, offsets
// as Redis counts them), serves each attached replica from a thread of
// its own (the RDB of a full sync, then the stream), and records the
// offsets replicas acknowledge (REPLCONF ACK; WAIT, INFO).
//
// Ordering: while a replica is (or was) attached, every write command
// runs under order_mu() and appends its effects before releasing it, so
// the stream orders any two writes of one key as the engine committed
// them (kv/repl_effects.h). Durability: bytes are handed to replicas only
// up to durable_offset(): what a DB::Sync() that started after they were
// appended has covered (the round Sync of the I/O threads, or the feeds'
// own Sync when the rounds are idle), the point where the writer's reply
// leaves too.
//
// Thread-safety: every method may be called from any thread.
#ifndef DAXKV_KV_REPL_MASTER_H_
#define DAXKV_KV_REPL_MASTER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/statusor.h"
#include "kv/resp_writer.h"

namespace daxkv::kv {

class ServerState;
class SnapshotJob;
class Waiter;

class ReplMaster {
 public:
  explicit ReplMaster(ServerState* server);
  ~ReplMaster();  // disconnects every replica

  // True once a replica asked for a sync: writes then record effects.
  bool active() const { return active_.load(std::memory_order_acquire); }
  Mutex& order_mu() { return order_mu_; }

  // Appends one or more RESP commands to the backlog. REQUIRES: order_mu()
  // held, or the exec lock held exclusively.
  void Append(std::string_view resp);
  // master_repl_offset: bytes of stream ever appended.
  int64_t offset() const;
  // A DB::Sync() that started when offset() was `upto` succeeded.
  void MarkDurable(int64_t upto);

  // A new history at `offset`: empty backlog.
  void StartHistory(int64_t offset);
  // The history goes on at `offset` (a promotion, a partial resync with
  // our master): the backlog is kept when it ends there, else a new
  // history starts there.
  void ContinueHistory(int64_t offset);
  // While this server is a replica, the backlog holds the master's stream
  // as the link applied it (Redis's PSYNC2 backlog): once promoted, a
  // replica that was behind us continues partially instead of syncing
  // fully. FollowFrom: the link's session starts at `offset`, after a full
  // sync (StartHistory) or a partial one (ContinueHistory). REQUIRES: no
  // replica attached (a replica serves none).
  void FollowFrom(int64_t offset, bool full_sync);
  void AppendApplied(std::string_view resp);
  // This server becomes a replica: every replica is disconnected.
  void DisconnectAll();

  // REPLCONF from replica client `id`.
  void NoteListeningPort(uint64_t id, int port);
  void NoteAck(uint64_t id, int64_t offset);

  // PSYNC/SYNC after the handshake. `fd` is the client's socket (dup'ed:
  // the feed owns its copy). For a partial resync `next` is the first
  // offset the replica lacks; Continue returns false when the backlog
  // does not hold it.
  // `greeting` (the reply line) is sent first.
  bool Continue(uint64_t id, int fd, const std::string& ip, int64_t next,
                std::string greeting);
  // A full sync from `job`, begun at `offset` (kv/repl_snapshot.h): the
  // replica's thread sends `greeting`, serializes the rest of the job
  // while writers go on, then sends the RDB and the stream from `offset`.
  // REQUIRES: the exec lock held exclusively.
  void StartFull(uint64_t id, int fd, const std::string& ip,
                 std::unique_ptr<SnapshotJob> job, int64_t offset,
                 std::string greeting);
  // Before a write command runs (order_mu() held): the running snapshots
  // serialize the keys it may touch (every argument of `argv`, and of
  // `queued` for EXEC), or everything when `all` (scripts, FLUSHALL).
  bool snapshotting() const { return snapshots_.load() > 0; }
  void Preserve(std::span<const std::string_view> argv, bool all);
  // Marks the master active (REQUIRES: the exec lock held exclusively, so
  // no write runs without recording its effects) and starts the cron.
  void Activate();
  // The replica's client disconnected.
  void Detach(uint64_t id);

  // Replicas whose acknowledged offset is >= offset (WAIT).
  int CountAcked(int64_t offset) const;
  // Asks every replica for an ACK (WAIT): REPLCONF GETACK * in the stream.
  void RequestAcks();
  // A blocked WAIT (registered in the server's BlockRegistry, no keys):
  // replied CountAcked(offset) once `n` replicas acknowledged `offset`
  // (its timeout is the registry's).
  void AddAckWaiter(std::shared_ptr<Waiter> waiter, int64_t offset, int n);

  // INFO replication's replica lines and backlog fields; ROLE's list.
  int connected() const;
  void AppendInfo(std::string* out, int64_t now_ms) const;
  // repl_backlog_active .. repl_backlog_histlen.
  void AppendBacklogInfo(std::string* out) const;
  void ReplyRoleReplicas(ReplyWriter& out) const;

  int64_t backlog_size() const { return backlog_size_.load(); }
  void set_backlog_size(int64_t n) { backlog_size_.store(n); }
  int64_t ping_period_s() const { return ping_period_s_.load(); }
  void set_ping_period_s(int64_t n) { ping_period_s_.store(n); }

 private:
  struct Feed;
  void Attach(std::shared_ptr<Feed> feed);
  void RunFeed(const std::shared_ptr<Feed>& feed);
  Status Stream(Feed& feed);
  StatusOr<std::string> FinishSnapshot(Feed& feed);
  void ReleaseSnapshot(Feed& feed);
  void Trim() REQUIRES(mu_);
  void ResetLocked(int64_t offset) REQUIRES(mu_);
  void Cron();
  int CountAckedLocked(int64_t offset) const REQUIRES(mu_);
  void RecordAck(uint64_t id, int64_t offset);
  // Replies to the WAITs now satisfied.
  void ServeAckWaiters() EXCLUDES(mu_);
  std::shared_ptr<Feed> NewFeed(uint64_t id, int fd, const std::string& ip);

  ServerState* server_;
  std::atomic<bool> active_{false};
  std::atomic<bool> following_{false};  // the backlog holds our master's
  std::atomic<int64_t> backlog_size_{1 << 20};
  std::atomic<int64_t> ping_period_s_{10};
  Mutex order_mu_;
  std::atomic<int> snapshots_{0};
  std::vector<SnapshotJob*> jobs_ GUARDED_BY(order_mu_);
  mutable Mutex mu_;
  std::condition_variable_any cv_;  // durable_ moved, or a feed must stop
  std::string backlog_ GUARDED_BY(mu_);
  int64_t start_ GUARDED_BY(mu_) = 0;  // offset of backlog_[0]
  int64_t offset_ GUARDED_BY(mu_) = 0;
  int64_t durable_ GUARDED_BY(mu_) = 0;
  int64_t last_append_ms_ GUARDED_BY(mu_) = 0;
  std::vector<std::shared_ptr<Feed>> feeds_ GUARDED_BY(mu_);
  // REPLCONF listening-port.
  std::map<uint64_t, int> ports_ GUARDED_BY(mu_);
  int64_t last_ping_ms_ GUARDED_BY(mu_) = 0;
  struct AckWaiter {
    std::shared_ptr<Waiter> waiter;
    int64_t offset;
    int n;
  };
  std::vector<AckWaiter> ack_waiters_ GUARDED_BY(mu_);
  bool stop_cron_ GUARDED_BY(mu_) = false;
  std::thread cron_;  // started by the first sync; syncs and PINGs
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_REPL_MASTER_H_
