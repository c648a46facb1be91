#include "kv/replication.h"

#include <cstdio>
#include <random>
#include <utility>

#include "kv/command.h"
#include "kv/repl_master.h"
#include "kv/replica_link.h"
#include "kv/replica_resume.h"
#include "kv/server_state.h"

namespace daxkv::kv {
namespace {

constexpr char kNoReplid[] = "0000000000000000000000000000000000000000";

void Field(std::string* o, std::string_view name, std::string_view value) {
  InfoField(o, name, value);
}

void Field(std::string* o, std::string_view name, int64_t value) {
  InfoField(o, name, std::to_string(value));
}

// ROLE's word for a replica's link state (Redis's replicationGetSlaveState
// via roleCommand).
const char* RoleState(LinkState s) {
  switch (s) {
    case LinkState::kNone:
      return "none";
    case LinkState::kConnect:
      return "connect";
    case LinkState::kConnecting:
      return "connecting";
    case LinkState::kHandshake:
      return "handshake";
    case LinkState::kSync:
      return "sync";
    case LinkState::kConnected:
      return "connected";
  }
  return "unknown";
}

}  // namespace

std::string RandomReplid() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  std::string s(40, '0');
  for (char& c : s) c = kHex[gen() & 15];
  return s;
}

Replication::Replication(ServerState* server)
    : server_(server), master_(std::make_unique<ReplMaster>(server)) {
  MutexLock l(&mu_);
  replid_ = RandomReplid();
  replid2_ = kNoReplid;
}

Replication::~Replication() { Shutdown(); }

void Replication::Shutdown() {
  StopLink();
  master_->DisconnectAll();
}

std::string Replication::replid() const {
  MutexLock l(&mu_);
  return replid_;
}

bool Replication::CanContinue(const std::string& replid,
                              int64_t offset) const {
  MutexLock l(&mu_);
  if (replica_.load()) return false;
  if (replid == replid_) return true;
  // Our previous history (before a promotion) up to where it ended.
  return replid == replid2_ && offset <= second_offset_;
}

int64_t Replication::AheadOfPromotion(const std::string& replid,
                                      int64_t offset) const {
  MutexLock l(&mu_);
  if (replica_.load() || second_offset_ < 0 || replid != replid2_) return 0;
  return offset > second_offset_ ? offset - second_offset_ : 0;
}

void Replication::StopLink() {
  MutexLock l(&link_mu_);
  shut_down_ = true;
  if (link_ != nullptr) {
    link_->Stop();
    link_.reset();
  }
}

void Replication::ReplicaOf(const std::string& host, int port) {
  MutexLock l(&link_mu_);
  if (link_ != nullptr) {
    link_->Stop();
    link_.reset();
  }
  if (host.empty() && replica_.load()) {
    // Durability: promoted, we take writes the old master's history never
    // had: the resume point goes (durably) while writes are still refused.
    Status s = ForgetReplicaResumePoint(server_->db());
    if (!s.ok()) {
      std::fprintf(stderr, "replication: deleting the resume point: %s\n",
                   s.ToString().c_str());
    }
  }
  {
    MutexLock m(&mu_);
    const bool was_replica = replica_.load();
    host_ = host;
    port_ = port;
    if (host.empty()) {
      // Promoted (REPLICAOF NO ONE): a new history starts at our offset;
      // the old master's id stays valid up to it (Redis's
      // shiftReplicationId), for replicas that follow us.
      // The backlog goes on with the stream the link applied: a replica
      // that was behind us continues from its offset.
      if (was_replica && have_master_replid_) {
        replid2_ = replid_;
        second_offset_ = processed_.load() + 1;
        master_->ContinueHistory(processed_.load());
      } else {
        master_->StartHistory(processed_.load());
      }
      replid_ = RandomReplid();
      have_master_replid_ = false;
      // The stream is recorded from the promotion on, before any client
      // may write (replica_ below): a replica of the old master continues
      // with +CONTINUE from our offset, so a write missing from the
      // backlog would never reach it, while WAIT counted its ACK.
      master_->Activate();
      state_ = LinkState::kNone;
      replica_.store(false);
      loading_.store(false);
      return;
    }
    if (!was_replica && !seeded_) {
      // Redis keeps its own history as the cached master's, so a replica
      // of a former replica can continue partially; daxkv starts fresh.
      have_master_replid_ = false;
    }
    seeded_ = false;
    state_ = LinkState::kConnect;
    link_down_since_ms_ = server_->NowMs();
    replica_.store(true);
  }
  // Our replicas resync with us once we have synced with our master.
  master_->DisconnectAll();
  if (shut_down_) return;
  link_ = std::make_unique<ReplicaLink>(server_, this, host, port);
  link_->Start();
}

bool Replication::IsReplicaOf(const std::string& host, int port) const {
  MutexLock l(&mu_);
  return replica_.load() && host_ == host && port_ == port;
}

bool Replication::MasterAddress(std::string* host, int* port) const {
  MutexLock l(&mu_);
  if (!replica_.load()) return false;
  *host = host_;
  *port = port_;
  return true;
}

std::string Replication::masterauth() const {
  MutexLock l(&mu_);
  return masterauth_;
}
void Replication::set_masterauth(std::string s) {
  MutexLock l(&mu_);
  masterauth_ = std::move(s);
}
std::string Replication::masteruser() const {
  MutexLock l(&mu_);
  return masteruser_;
}
void Replication::set_masteruser(std::string s) {
  MutexLock l(&mu_);
  masteruser_ = std::move(s);
}

void Replication::SetLinkState(LinkState s) {
  MutexLock l(&mu_);
  if (s != LinkState::kConnected && state_ == LinkState::kConnected) {
    link_down_since_ms_ = server_->NowMs();
  }
  state_ = s;
}

void Replication::SetLoading(bool on) { loading_.store(on); }

void Replication::SetMasterReplid(std::string replid) {
  MutexLock l(&mu_);
  replid_ = std::move(replid);
  have_master_replid_ = true;
}

void Replication::ForgetMasterReplid() {
  MutexLock l(&mu_);
  have_master_replid_ = false;
}

void Replication::SeedResumePoint(std::string master_replid, int64_t offset) {
  MutexLock l(&mu_);
  replid_ = std::move(master_replid);
  have_master_replid_ = true;
  seeded_ = true;
  processed_.store(offset);
  durable_.store(offset);
}

void Replication::SetOffsets(int64_t processed, int64_t durable) {
  processed_.store(processed);
  durable_.store(durable);
}

void Replication::NoteMasterIo() { last_io_ms_.store(server_->NowMs()); }

void Replication::NoteSyncProgress(uint64_t total, uint64_t read) {
  sync_total_.store(total);
  sync_read_.store(read);
}

void Replication::NoteSyncDone(bool full, const Status& s) {
  if (s.ok()) {
    (full ? full_syncs_ : partial_syncs_).fetch_add(1);
    MutexLock l(&mu_);
    last_sync_error_.clear();
    return;
  }
  sync_failures_.fetch_add(1);
  std::string text = s.ToString();
  for (char& c : text) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  std::fprintf(stderr, "replication: MASTER <-> REPLICA sync failed: %s\n",
               text.c_str());
  MutexLock l(&mu_);
  last_sync_error_ = std::move(text);
}

void Replication::NoteStreamError(const std::string& what) {
  stream_errors_.fetch_add(1);
  std::fprintf(stderr,
               "replication: a command from the master failed on this "
               "replica (it no longer matches the master): %s\n",
               what.c_str());
  MutexLock l(&mu_);
  last_stream_error_ = what;
  for (char& c : last_stream_error_) {
    if (c == '\r' || c == '\n') c = ' ';
  }
}

void Replication::ResumePoint(std::string* replid, int64_t* offset) const {
  MutexLock l(&mu_);
  if (!have_master_replid_) {
    *replid = "?";
    *offset = -1;
    return;
  }
  // What the engine holds (applied), whether or not a Sync covered it
  // yet: resuming from the durable offset would apply commands twice.
  *replid = replid_;
  *offset = processed_.load() + 1;
}

void Replication::AppendInfo(std::string* o) const {
  MutexLock l(&mu_);
  const int64_t now = server_->NowMs();
  o->append("# Replication\r\n");
  if (replica_.load()) {
    Field(o, "role", "slave");
    Field(o, "master_host", host_);
    Field(o, "master_port", port_);
    const bool up = state_ == LinkState::kConnected;
    Field(o, "master_link_status", up ? "up" : "down");
    const int64_t io = last_io_ms_.load();
    Field(o, "master_last_io_seconds_ago", io == 0 ? -1 : (now - io) / 1000);
    Field(o, "master_sync_in_progress", state_ == LinkState::kSync ? 1 : 0);
    Field(o, "slave_read_repl_offset", processed_.load());
    Field(o, "slave_repl_offset", processed_.load());
    if (state_ == LinkState::kSync) {
      const int64_t total = static_cast<int64_t>(sync_total_.load());
      const int64_t read = static_cast<int64_t>(sync_read_.load());
      Field(o, "master_sync_total_bytes", total == 0 ? -1 : total);
      Field(o, "master_sync_read_bytes", read);
      Field(o, "master_sync_left_bytes", total == 0 ? -1 : total - read);
      char perc[32];
      std::snprintf(perc, sizeof(perc), "%.2f",
                    total == 0 ? 0.0 : 100.0 * read / total);
      Field(o, "master_sync_perc", perc);
      Field(o, "master_sync_last_io_seconds_ago",
            io == 0 ? -1 : (now - io) / 1000);
    }
    if (!up) {
      Field(o, "master_link_down_since_seconds",
            (now - link_down_since_ms_) / 1000);
    }
    Field(o, "slave_priority", server_->settings().replica_priority.load());
    Field(o, "slave_read_only", read_only_.load() ? 1 : 0);
    Field(o, "replica_announced", 1);
  } else {
    Field(o, "role", "master");
  }
  master_->AppendInfo(o, now);
  Field(o, "master_failover_state", "no-failover");
  Field(o, "master_replid", replid_);
  Field(o, "master_replid2", replid2_);
  Field(o, "master_repl_offset",
        replica_.load() ? processed_.load() : master_->offset());
  Field(o, "second_repl_offset", second_offset_);
  master_->AppendBacklogInfo(o);
  // daxkv's own fields.
  Field(o, "daxkv_repl_durable_offset", durable_.load());
  Field(o, "daxkv_repl_full_syncs", static_cast<int64_t>(full_syncs_.load()));
  Field(o, "daxkv_repl_partial_syncs",
        static_cast<int64_t>(partial_syncs_.load()));
  Field(o, "daxkv_repl_sync_failures",
        static_cast<int64_t>(sync_failures_.load()));
  Field(o, "daxkv_repl_last_sync_error",
        last_sync_error_.empty() ? "none" : last_sync_error_);
  Field(o, "daxkv_repl_stream_errors",
        static_cast<int64_t>(stream_errors_.load()));
  Field(o, "daxkv_repl_last_stream_error",
        last_stream_error_.empty() ? "none" : last_stream_error_);
}

void Replication::ReplyRole(ReplyWriter& out) const {
  MutexLock l(&mu_);
  if (!replica_.load()) {
    out.ArrayHeader(3);
    out.Bulk("master");
    out.Integer(master_->offset());
    master_->ReplyRoleReplicas(out);
    return;
  }
  out.ArrayHeader(5);
  out.Bulk("slave");
  out.Bulk(host_);
  out.Integer(port_);
  out.Bulk(RoleState(state_));
  out.Integer(state_ == LinkState::kConnected ? processed_.load() : -1);
}

}  // namespace daxkv::kv
