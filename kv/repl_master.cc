#include "kv/repl_master.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>

#include "kv/block_registry.h"
#include "kv/command.h"
#include "kv/net_io.h"
#include "kv/repl_snapshot.h"
#include "kv/replica_link.h"
#include "kv/server_state.h"

namespace daxkv::kv {
namespace {

// Redis's client-output-buffer-limit for replicas (256 MiB hard): a
// replica that lags more than this behind the stream is disconnected
// (it resyncs), rather than pinning the backlog without bound.
constexpr int64_t kReplicaLagLimit = int64_t{256} << 20;
constexpr size_t kChunk = 1 << 20;
constexpr int kPollMs = 100;
constexpr std::string_view kPing = "*1\r\n$4\r\nPING\r\n";

Status SendToReplica(int fd, std::string_view data,
                     const std::atomic<bool>& stop) {
  return SendAll(fd, data, {.stop = &stop}).WithContext("writing to REPLICA");
}

}  // namespace

struct ReplMaster::Feed {
  uint64_t id = 0;
  int fd = -1;  // ours (a dup of the client's)
  std::string ip;
  int port = 0;
  std::string greeting;              // +FULLRESYNC / +CONTINUE line
  std::unique_ptr<SnapshotJob> job;  // a full sync's, until serialized
  bool full = false;
  int64_t next = 0;  // next stream offset to send; guarded by ReplMaster::mu_
  std::atomic<int64_t> ack{0};
  std::atomic<int64_t> ack_ms{0};
  std::atomic<bool> online{false};
  std::atomic<bool> stop{false};
  std::thread thread;
};

ReplMaster::ReplMaster(ServerState* server) : server_(server) {}

ReplMaster::~ReplMaster() {
  DisconnectAll();
  {
    MutexLock l(&mu_);
    stop_cron_ = true;
  }
  cv_.notify_all();
  if (cron_.joinable()) cron_.join();
}

void ReplMaster::Activate() {
  active_.store(true, std::memory_order_release);
  MutexLock l(&mu_);
  if (!cron_.joinable()) cron_ = std::thread([this] { Cron(); });
}

void ReplMaster::Append(std::string_view resp) {
  MutexLock l(&mu_);
  backlog_.append(resp);
  offset_ += static_cast<int64_t>(resp.size());
  last_append_ms_ = SteadyMs();
  Trim();
}

int64_t ReplMaster::offset() const {
  MutexLock l(&mu_);
  return offset_;
}

void ReplMaster::MarkDurable(int64_t upto) {
  {
    MutexLock l(&mu_);
    if (upto <= durable_) return;
    durable_ = upto;
  }
  cv_.notify_all();
}

// Keeps repl-backlog-size bytes, and more while an attached replica still
// needs them (up to kReplicaLagLimit behind). Amortized: trims only once
// the backlog is half again over its size.
void ReplMaster::Trim() {
  const int64_t limit = std::max<int64_t>(backlog_size_.load(), 16 * 1024);
  if (static_cast<int64_t>(backlog_.size()) <= limit + limit / 2) return;
  int64_t keep_from = std::min(offset_ - limit, durable_);
  for (const auto& f : feeds_) {
    if (f->next < keep_from && offset_ - f->next <= kReplicaLagLimit) {
      keep_from = f->next;
    }
  }
  if (keep_from <= start_) return;
  backlog_.erase(0, static_cast<size_t>(keep_from - start_));
  start_ = keep_from;
}

void ReplMaster::ResetLocked(int64_t offset) {
  backlog_.clear();
  start_ = offset_ = durable_ = offset;
}

void ReplMaster::StartHistory(int64_t offset) {
  MutexLock l(&mu_);
  ResetLocked(offset);
}

void ReplMaster::ContinueHistory(int64_t offset) {
  MutexLock l(&mu_);
  if (offset_ != offset) ResetLocked(offset);
}

void ReplMaster::FollowFrom(int64_t offset, bool full_sync) {
  following_.store(true);
  if (full_sync) {
    StartHistory(offset);
  } else {
    ContinueHistory(offset);
  }
}

void ReplMaster::AppendApplied(std::string_view resp) {
  MutexLock l(&mu_);
  backlog_.append(resp);
  offset_ += static_cast<int64_t>(resp.size());
  // Durability: no replica reads these bytes while we are one; the link
  // has synced them before a promotion can serve them (it stops, and
  // syncs what it committed, before REPLICAOF NO ONE goes on).
  durable_ = offset_;
  Trim();
}

void ReplMaster::DisconnectAll() {
  std::vector<uint64_t> ids;
  {
    MutexLock l(&mu_);
    for (const auto& f : feeds_) ids.push_back(f->id);
  }
  for (uint64_t id : ids) Detach(id);
  active_.store(false, std::memory_order_release);
}

void ReplMaster::NoteListeningPort(uint64_t id, int port) {
  MutexLock l(&mu_);
  ports_[id] = port;
}

void ReplMaster::NoteAck(uint64_t id, int64_t offset) {
  RecordAck(id, offset);
  ServeAckWaiters();
}

void ReplMaster::RecordAck(uint64_t id, int64_t offset) {
  MutexLock l(&mu_);
  for (const auto& f : feeds_) {
    if (f->id != id) continue;
    if (offset > f->ack.load()) f->ack.store(offset);
    f->ack_ms.store(server_->NowMs());
  }
}

std::shared_ptr<ReplMaster::Feed> ReplMaster::NewFeed(uint64_t id, int fd,
                                                      const std::string& ip) {
  auto feed = std::make_shared<Feed>();
  feed->id = id;
  feed->fd = dup(fd);
  feed->ip = ip;
  feed->ack_ms.store(server_->NowMs());
  return feed;
}

bool ReplMaster::Continue(uint64_t id, int fd, const std::string& ip,
                          int64_t next, std::string greeting) {
  auto feed = NewFeed(id, fd, ip);
  feed->greeting = std::move(greeting);
  {
    MutexLock l(&mu_);
    if (next < start_ || next > offset_) {
      close(feed->fd);
      return false;
    }
    feed->next = next;
    feed->ack.store(next);
  }
  Attach(std::move(feed));
  return true;
}

void ReplMaster::StartFull(uint64_t id, int fd, const std::string& ip,
                           std::unique_ptr<SnapshotJob> job, int64_t offset,
                           std::string greeting) {
  auto feed = NewFeed(id, fd, ip);
  feed->greeting = std::move(greeting);
  {
    MutexLock order(&order_mu_);
    jobs_.push_back(job.get());
    snapshots_.fetch_add(1);
  }
  feed->job = std::move(job);
  feed->full = true;
  feed->next = offset;
  Attach(std::move(feed));
}

void ReplMaster::Attach(std::shared_ptr<Feed> feed) {
  MutexLock l(&mu_);
  auto port = ports_.find(feed->id);
  if (port != ports_.end()) feed->port = port->second;
  feeds_.push_back(feed);
  feed->thread = std::thread([this, feed] { RunFeed(feed); });
}

void ReplMaster::Detach(uint64_t id) {
  std::shared_ptr<Feed> feed;
  {
    MutexLock l(&mu_);
    ports_.erase(id);
    for (auto it = feeds_.begin(); it != feeds_.end(); ++it) {
      if ((*it)->id != id) continue;
      feed = *it;
      feeds_.erase(it);
      break;
    }
  }
  if (feed == nullptr) return;
  feed->stop.store(true);
  shutdown(feed->fd, SHUT_RDWR);
  cv_.notify_all();
  feed->thread.join();
  close(feed->fd);
}

void ReplMaster::Preserve(std::span<const std::string_view> argv, bool all) {
  // Held through the caller's std::unique_lock (ReplOrderHold,
  // ExpiryEffects), which the analysis does not follow.
  order_mu_.AssertHeld();
  for (SnapshotJob* job : jobs_) {
    if (all) {
      job->PreserveAll();
    } else {
      job->Preserve(argv);
    }
  }
}

// Serializes the rest of the feed's snapshot (writers go on) and makes it
// durable (it may hold writes of the round that asked for the sync).
StatusOr<std::string> ReplMaster::FinishSnapshot(Feed& feed) {
  const int64_t start = SteadyMs();
  StatusOr<std::string> rdb = feed.job->Finish(order_mu_, feed.stop);
  const size_t keys = feed.job->keys();
  const size_t ahead = feed.job->preserved_by_writers();
  ReleaseSnapshot(feed);
  if (rdb.ok()) {
    std::fprintf(stderr,
                 "replication: RDB for replica %s:%d: %zu keys, %zu bytes, "
                 "built in %lld ms while serving writes (%zu keys "
                 "serialized ahead of a write)\n",
                 feed.ip.c_str(), feed.port, keys, rdb->size(),
                 static_cast<long long>(SteadyMs() - start), ahead);
    // Durability: the RDB may hold writes whose round has not synced yet;
    // it leaves only after this Sync, so a replica never holds a value a
    // crash of the master could lose.
    Status synced = server_->db().Sync();
    if (!synced.ok()) rdb = synced;
  }
  return rdb;
}

void ReplMaster::ReleaseSnapshot(Feed& feed) {
  if (feed.job == nullptr) return;
  {
    MutexLock order(&order_mu_);
    jobs_.erase(std::find(jobs_.begin(), jobs_.end(), feed.job.get()));
    snapshots_.fetch_sub(1);
  }
  feed.job.reset();
}

void ReplMaster::RunFeed(const std::shared_ptr<Feed>& feed) {
  Status s = SendToReplica(feed->fd, feed->greeting, feed->stop);
  if (s.ok() && feed->full) {
    // The disk-based framing ($<len>): the payload is complete first.
    StatusOr<std::string> rdb = FinishSnapshot(*feed);
    s = rdb.status();
    if (s.ok()) {
      s = SendToReplica(feed->fd, "$" + std::to_string(rdb->size()) + "\r\n",
                        feed->stop);
    }
    if (s.ok()) s = SendToReplica(feed->fd, *rdb, feed->stop);
    if (s.ok()) {
      std::fprintf(stderr,
                   "replication: Synchronization with replica %s:%d "
                   "succeeded\n",
                   feed->ip.c_str(), feed->port);
    }
  }
  ReleaseSnapshot(*feed);  // when the replica went away first
  feed->online.store(true);
  if (s.ok()) s = Stream(*feed);
  if (!feed->stop.load()) {
    std::fprintf(stderr,
                 "replication: Connection with replica %s:%d lost: %s\n",
                 feed->ip.c_str(), feed->port, s.ToString().c_str());
    // The I/O thread sees the hang-up and detaches the client.
    shutdown(feed->fd, SHUT_RDWR);
  }
}

Status ReplMaster::Stream(Feed& feed) {
  std::string chunk;
  Status s;
  mu_.Lock();
  while (s.ok() && !feed.stop.load()) {
    cv_.wait_for(mu_, std::chrono::milliseconds(kPollMs), [&] {
      mu_.AssertHeld();  // wait_for holds it while it asks
      return feed.stop.load() || durable_ > feed.next;
    });
    if (feed.stop.load()) break;
    if (feed.next < start_) {
      s = IOError("the replica fell behind the backlog and its output limit");
      break;
    }
    if (durable_ <= feed.next) continue;
    const size_t n =
        static_cast<size_t>(std::min<int64_t>(durable_ - feed.next, kChunk));
    chunk.assign(backlog_, static_cast<size_t>(feed.next - start_), n);
    mu_.Unlock();
    s = SendToReplica(feed.fd, chunk, feed.stop);
    mu_.Lock();
    if (s.ok()) feed.next += static_cast<int64_t>(n);
  }
  mu_.Unlock();
  return s;
}

// Makes the stream durable when no I/O round does (a PING, or a write of
// a client whose round has not synced yet), and PINGs the replicas every
// repl-ping-replica-period, as Redis's replicationCron.
void ReplMaster::Cron() {
  mu_.Lock();
  while (!stop_cron_) {
    cv_.wait_for(mu_, std::chrono::milliseconds(kPollMs));
    if (stop_cron_) break;
    const int64_t now = SteadyMs();
    const bool ping =
        !feeds_.empty() && now - last_ping_ms_ >= ping_period_s_.load() * 1000;
    const bool lagging = durable_ < offset_ && now - last_append_ms_ >= 20;
    if (!ack_waiters_.empty()) {
      mu_.Unlock();
      ServeAckWaiters();
      mu_.Lock();
    }
    if (!ping && !lagging) continue;
    mu_.Unlock();
    if (ping) {
      MutexLock order(&order_mu_);
      Append(kPing);
    }
    // Durability: stream bytes up to `upto` reach replicas only once this
    // Sync (started after they were appended) covered the writes they
    // describe; a crash before it leaves them unsent.
    const int64_t upto = offset();
    if (server_->db().Sync().ok()) MarkDurable(upto);
    mu_.Lock();
    if (ping) last_ping_ms_ = now;
  }
  mu_.Unlock();
}

int ReplMaster::CountAcked(int64_t offset) const {
  MutexLock l(&mu_);
  return CountAckedLocked(offset);
}

int ReplMaster::CountAckedLocked(int64_t offset) const {
  int n = 0;
  for (const auto& f : feeds_) {
    if (f->online.load() && f->ack.load() >= offset) ++n;
  }
  return n;
}

void ReplMaster::AddAckWaiter(std::shared_ptr<Waiter> waiter, int64_t offset,
                              int n) {
  {
    MutexLock l(&mu_);
    ack_waiters_.push_back({std::move(waiter), offset, n});
  }
  ServeAckWaiters();  // an ACK may have come in meanwhile
}

void ReplMaster::ServeAckWaiters() {
  std::vector<std::pair<std::shared_ptr<Waiter>, int>> ready;
  {
    MutexLock l(&mu_);
    auto it = ack_waiters_.begin();
    while (it != ack_waiters_.end()) {
      const int acked = CountAckedLocked(it->offset);
      // use_count 1: the client and the registry let go (timeout,
      // disconnect, CLIENT UNBLOCK).
      if (acked >= it->n || it->waiter.use_count() == 1) {
        if (acked >= it->n) ready.emplace_back(std::move(it->waiter), acked);
        it = ack_waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& [w, acked] : ready) {
    // Not cancelled meanwhile (a timeout replies itself).
    if (server_->blocked().Cancel(w)) {
      w->Deliver(":" + std::to_string(acked) + "\r\n");
    }
  }
}

void ReplMaster::RequestAcks() {
  if (connected() == 0) return;
  MutexLock order(&order_mu_);
  Append(EncodeRespCommand({"REPLCONF", "GETACK", "*"}));
}

int ReplMaster::connected() const {
  MutexLock l(&mu_);
  return static_cast<int>(feeds_.size());
}

void ReplMaster::AppendInfo(std::string* o, int64_t now_ms) const {
  MutexLock l(&mu_);
  InfoField(o, "connected_slaves", std::to_string(feeds_.size()));
  for (size_t i = 0; i < feeds_.size(); ++i) {
    const Feed& f = *feeds_[i];
    const bool online = f.online.load();
    InfoField(o, "slave" + std::to_string(i),
              "ip=" + f.ip + ",port=" + std::to_string(f.port) +
                  ",state=" + (online ? "online" : "wait_bgsave") +
                  ",offset=" + std::to_string(f.ack.load()) +
                  ",lag=" + std::to_string((now_ms - f.ack_ms.load()) / 1000));
  }
}

void ReplMaster::AppendBacklogInfo(std::string* o) const {
  MutexLock l(&mu_);
  const bool active = active_.load() || following_.load();
  InfoField(o, "repl_backlog_active", active ? "1" : "0");
  InfoField(o, "repl_backlog_size", std::to_string(backlog_size_.load()));
  InfoField(o, "repl_backlog_first_byte_offset",
            std::to_string(active ? start_ + 1 : 0));
  InfoField(o, "repl_backlog_histlen",
            std::to_string(active ? backlog_.size() : 0));
}

void ReplMaster::ReplyRoleReplicas(ReplyWriter& out) const {
  MutexLock l(&mu_);
  out.ArrayHeader(static_cast<int64_t>(feeds_.size()));
  for (const auto& f : feeds_) {
    out.ArrayHeader(3);
    out.Bulk(f->ip);
    out.Bulk(std::to_string(f->port));
    out.Bulk(std::to_string(f->ack.load()));
  }
}

}  // namespace daxkv::kv
