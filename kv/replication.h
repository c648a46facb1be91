// Replication: this server's role in Redis replication and what INFO
// replication and ROLE report. As a replica it owns the ReplicaLink (the
// thread that talks to the master, kv/replica_link.h); REPLICAOF starts,
// repoints and stops it.
//
// Offsets (docs/replication.md): `processed` is the master's stream offset
// of the last command applied; `durable` the last one made durable by a
// DB::Sync() after it was applied. Only `durable` is ever acknowledged to
// the master (REPLCONF ACK).
//
// Thread-safety: every method may be called from any thread.
#ifndef DAXKV_KV_REPLICATION_H_
#define DAXKV_KV_REPLICATION_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "base/mutex.h"
#include "base/status.h"
#include "kv/resp_writer.h"

namespace daxkv::kv {

class ServerState;
class ReplicaLink;
struct CommandContext;
class ReplMaster;

// Redis's repl_state, as ROLE names it for a replica.
enum class LinkState {
  kNone,
  kConnect,
  kConnecting,
  kHandshake,
  kSync,
  kConnected
};

class Replication {
 public:
  explicit Replication(ServerState* server);
  ~Replication();  // stops the link thread

  // REPLICAOF host port (an empty host: REPLICAOF NO ONE). Starts, repoints
  // or stops the link thread.
  void ReplicaOf(const std::string& host, int port);
  // Stops the link for good (server shutdown): REPLICAOF host port no
  // longer starts one.
  void Shutdown();

  bool IsReplicaOf(const std::string& host, int port) const;
  // The master this server replicates; false on a master.
  bool MasterAddress(std::string* host, int* port) const;
  // The master side: backlog and attached replicas (kv/repl_master.h).
  ReplMaster& master() { return *master_; }
  // Our replication id, and whether PSYNC <replid> <offset> (offset: the
  // first byte the replica lacks) may continue our history.
  std::string replid() const;
  bool CanContinue(const std::string& replid, int64_t offset) const;
  // Bytes of our previous master's stream that a replica asking PSYNC
  // <replid> <offset> holds beyond the offset we were promoted at (0 when
  // none): a failover promoted us although that replica was ahead, and
  // its full sync drops them.
  int64_t AheadOfPromotion(const std::string& replid, int64_t offset) const;
  LinkState link_state() const {
    MutexLock l(&mu_);
    return state_;
  }
  // Server start (kv/replica_resume.h): the master's replid and the offset
  // of the last command the pool holds, saved at the last clean shutdown.
  // The next REPLICAOF resumes from it (PSYNC replid offset+1).
  void SeedResumePoint(std::string master_replid, int64_t offset);
  bool is_replica() const { return replica_.load(); }
  // Client writes are refused (-READONLY) while this is true.
  bool refuses_writes() const { return replica_.load() && read_only_.load(); }
  // A full sync is loading the master's RDB (-LOADING for clients).
  bool loading() const { return loading_.load(); }

  std::string masterauth() const;
  void set_masterauth(std::string s);
  std::string masteruser() const;
  void set_masteruser(std::string s);
  std::atomic<bool>& read_only() { return read_only_; }
  // replica-serve-stale-data: answer from the data set while the link to
  // the master is down (yes), or refuse all but kCmdStale commands (no).
  std::atomic<bool>& serve_stale_data() { return serve_stale_data_; }
  // A replica whose link is not up, told not to serve stale data: clients
  // get -MASTERDOWN (Redis's repl_state != REPL_STATE_CONNECTED test).
  bool refuses_stale() const EXCLUDES(mu_) {
    return replica_.load() && !serve_stale_data_.load() &&
           link_state() != LinkState::kConnected;
  }

  // INFO's "# Replication" section and ROLE's reply.
  void AppendInfo(std::string* out) const;
  void ReplyRole(ReplyWriter& out) const;

  // --- reported by the link thread ---
  void SetLinkState(LinkState s);
  void SetLoading(bool on);
  // The master's replication id and offset after +FULLRESYNC / +CONTINUE.
  void SetMasterReplid(std::string replid);
  // A full sync began changing the data set: until it completes, no
  // offset of any history describes it (the next PSYNC is "? -1").
  void ForgetMasterReplid();
  void SetOffsets(int64_t processed, int64_t durable);
  void NoteMasterIo();
  void NoteSyncProgress(uint64_t total, uint64_t read);
  void NoteSyncDone(bool full, const Status& s);
  // A master command that failed here (replica diverges): logged, counted.
  void NoteStreamError(const std::string& what);
  // Where the link resumes after a dropped connection ("?" = full sync).
  void ResumePoint(std::string* replid, int64_t* offset) const;
  int64_t durable_offset() const { return durable_.load(); }

 private:
  void StopLink() EXCLUDES(mu_);

  ServerState* server_;
  std::atomic<bool> replica_{false};
  std::atomic<bool> read_only_{true};
  std::atomic<bool> serve_stale_data_{true};
  std::atomic<bool> loading_{false};
  std::atomic<int64_t> processed_{0};
  std::atomic<int64_t> durable_{0};
  std::atomic<int64_t> last_io_ms_{0};
  std::atomic<uint64_t> sync_total_{0}, sync_read_{0};
  std::atomic<uint64_t> full_syncs_{0}, partial_syncs_{0}, sync_failures_{0};
  std::atomic<uint64_t> stream_errors_{0};
  mutable Mutex mu_;
  std::string host_ GUARDED_BY(mu_);
  int port_ GUARDED_BY(mu_) = 0;
  LinkState state_ GUARDED_BY(mu_) = LinkState::kNone;
  int64_t link_down_since_ms_ GUARDED_BY(mu_) = 0;
  std::string replid_ GUARDED_BY(mu_);   // ours, or the master's
  std::string replid2_ GUARDED_BY(mu_);  // the previous master's
  int64_t second_offset_ GUARDED_BY(mu_) = -1;
  bool have_master_replid_ GUARDED_BY(mu_) = false;
  bool seeded_ GUARDED_BY(mu_) = false;  // SeedResumePoint, until REPLICAOF
  std::string masterauth_ GUARDED_BY(mu_);
  std::string masteruser_ GUARDED_BY(mu_);
  std::string last_sync_error_ GUARDED_BY(mu_);
  std::string last_stream_error_ GUARDED_BY(mu_);
  // Link threads are created and joined under link_mu_ (REPLICAOF from two
  // clients at once).
  Mutex link_mu_;
  std::unique_ptr<ReplicaLink> link_ GUARDED_BY(link_mu_);
  std::unique_ptr<ReplMaster> master_;
  bool shut_down_ GUARDED_BY(link_mu_) = false;
};

// EXEC calls it once its block released the exec lock: applies the
// block's REPLICAOF, if it ran one (kv/cmd_replication.cc).
void RunDeferredReplicaOf(CommandContext& ctx);

// 40 random hex characters (Redis's getRandomHexChars for a replid).
std::string RandomReplid();

}  // namespace daxkv::kv

#endif  // DAXKV_KV_REPLICATION_H_
