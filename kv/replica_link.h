// ReplicaLink: the thread that keeps this server a replica of one master:
// connects, performs Redis's handshake (PING, AUTH, REPLCONF
// listening-port and capa eof/psync2, PSYNC), loads a full sync's RDB
// (kv/repl_load.h) or continues a partial one, then applies the master's
// command stream through the normal executor as the master client (no
// replies, writes allowed on a read-only replica), and sends
// REPLCONF ACK <offset> every second and on GETACK.
//
// Durability: the master's commands are applied in groups (what one read
// brought, at most kMaxGroupCommands; a MULTI/EXEC block is never split),
// each ONE engine Txn that also writes the resume record "<replid>
// <offset>" (kv/replica_resume.h) as a system entry: after a crash at any
// point the pool holds exactly the commands up to its recorded offset. The
// ACKed offset is always one a DB::Sync() has covered: the link commits a
// group, syncs, and only then advances the durable offset it reports.
//
// A dropped link is retried every second with PSYNC <replid> <offset+1>
// (partial resync from the offset kept in memory, which is the recorded
// one; a restart reads it from the pool).
//
// Thread-safety: Start/Stop from any one thread at a time (Replication
// holds its link mutex); everything else runs on the link thread.
#ifndef DAXKV_KV_REPLICA_LINK_H_
#define DAXKV_KV_REPLICA_LINK_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "kv/client.h"
#include "kv/net_io.h"
#include "kv/replication.h"

namespace daxkv::kv {

class ServerState;

// Redis's repl-timeout default: a master silent this long is gone (it
// PINGs every repl-ping-replica-period, 10 s).
inline constexpr int64_t kReplTimeoutMs = 60000;
// How often the link looks at its stop flag and ACK timer.
inline constexpr int kReplPollMs = 100;
inline constexpr int64_t kReplAckPeriodMs = 1000;
// A group (one engine Txn) ends at this many commands: bounds the Txn's
// record and how long readers of its keys wait for it.
inline constexpr size_t kMaxGroupCommands = 512;

class ReplicaLink {
 public:
  ReplicaLink(ServerState* server, Replication* repl, std::string host,
              int port);
  ~ReplicaLink();  // Stop()s

  void Start();
  // Closes the connection and joins the thread.
  void Stop();

 private:
  void Run();
  // One connection's life: handshake, sync, stream until an error.
  Status Session();
  Status Connect();
  Status Handshake();
  // Sends a command and reads its one-line reply.
  Status Command(std::initializer_list<std::string_view> argv,
                 std::string* reply);
  Status SendAll(std::string_view data);
  // Reads more bytes into in_ (waits at most timeout_ms; 0 bytes read on
  // timeout). IOError when the master closed the link.
  Status ReadMore(int timeout_ms, size_t* n);
  Status ReadLine(std::string* line);
  Status Psync(bool* full);
  Status LoadFullSync();
  Status Stream();
  // Applies every complete command in in_; *getack when one asked for an
  // ACK.
  Status ApplyInput(bool* getack);
  // Runs one master command alone (outside a group: the full sync's
  // FLUSHALL, and commands that cannot run in a Txn); its error reply, if
  // any, is returned (and logged and counted as a stream error).
  Status Apply(std::span<const std::string_view> argv);
  // Adds a command (or, with argv empty, stream bytes that change nothing:
  // PING, GETACK) to the group.
  void AddToGroup(std::span<const std::string_view> argv, size_t bytes);
  // Applies the group and writes the resume record at its end offset, in
  // one engine Txn; then processed_ is that offset. With the group empty
  // and nothing new, does nothing (`force`: writes the record anyway).
  Status CommitGroup(bool force = false);
  // Writes the resume record for processed_ alone (after a full sync, or
  // a command applied alone).
  Status CommitRecordOnly() { return CommitGroup(true); }
  // The stream up to `end` is applied: processed_ = end, and its bytes
  // join the backlog.
  void MarkApplied(int64_t end);
  // Syncs the committed groups (DB::Sync via SyncRound): then durable_ =
  // processed_ and served clients get their replies.
  Status SyncCommitted();
  void DeliverServed(bool durable);
  Status SendAck();
  bool stopping() const { return stop_.load(); }
  void SleepInterruptible(int ms);

  ServerState* server_;
  Replication* repl_;
  const std::string host_;
  const int port_;
  std::atomic<bool> stop_{false};
  Mutex fd_mu_;
  int fd_ GUARDED_BY(fd_mu_) = -1;
  std::thread thread_;
  // Link-thread state.
  std::string in_;
  size_t in_pos_ = 0;
  std::string replid_;  // the master's
  int64_t processed_ = 0;
  // Stream bytes past processed_ (parsed, not yet applied): each goes to
  // the backlog (ReplMaster::AppendApplied) once applied.
  std::string unapplied_;
  int64_t durable_ = 0;
  int64_t last_ack_ms_ = 0;
  Client master_;
  bool in_block_ = false;  // between the master's MULTI and EXEC
  std::vector<std::vector<std::string>> block_;
  size_t block_bytes_ = 0;  // stream bytes of the block so far
  // The group being gathered: its commands and the offset it ends at.
  std::vector<std::vector<std::string>> group_;
  int64_t group_end_ = 0;
  // Replies to clients blocked on this replica that a group's pushes
  // served: delivered after the Sync that makes the pops durable.
  std::vector<std::function<void(bool durable)>> woken_;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_REPLICA_LINK_H_
