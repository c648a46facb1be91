#include "kv/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kv/block_registry.h"
#include "kv/executor.h"
#include "kv/key_prefetch.h"

namespace daxkv::kv {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
// Stop running commands for (and reading from) a client with this many
// unsent replies (it is not reading them); resume once they drain.
constexpr size_t kOutputBackpressure = 64ull << 20;
// An output buffer grown past this (a large reply) is freed once drained.
constexpr size_t kKeepCapacity = 1u << 20;

}  // namespace

Connection::Connection(ServerState& server, ConnectionOwner& owner, int fd,
                       std::string addr, std::string laddr)
    : server_(server),
      owner_(owner),
      parser_(limits_),
      lookahead_(limits_),
      writer_(&out_, 2) {
  client_.id = server.NextClientId();
  client_.fd = fd;
  client_.addr = std::move(addr);
  client_.laddr = std::move(laddr);
  client_.created_ms = server.NowMs();
  client_.last_interaction_ms = client_.created_ms;
  client_.authenticated = !server.settings().auth_required();
}

Connection::~Connection() {
  if (!closed_) Close();
}

Status Connection::Start() {
  DAXKV_RETURN_IF_ERROR(owner_.loop().AddStream(client_.fd, this));
  registered_ = true;
  ConnectionOwner* owner = &owner_;
  client_.pubsub.mailbox.set_notify(
      [owner, this] { owner->MailArrived(this); });
  client_.unblock_notify = [owner, this] { owner->Unblocked(this); };
  server_.Register(&client_, [owner] { owner->RequestHousekeeping(); });
  return OkStatus();
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  if (client_.blocked != nullptr) {
    // A disconnect only unregisters; a reply already on its way is dropped.
    client_.blocked->Detach();
    server_.blocked().Cancel(client_.blocked);
    client_.blocked.reset();
    client_.blocked_flag.store(false, std::memory_order_relaxed);
  }
  if (registered_) {
    server_.Unregister(&client_);
    owner_.loop().CloseStream(client_.fd);  // closes the fd
  } else {
    close(client_.fd);
  }
  owner_.MarkClosed(this);
}

int64_t Connection::idle_ms(int64_t now_ms) const {
  return now_ms - client_.last_interaction_ms.load(std::memory_order_relaxed);
}

// Replies drained below the backpressure mark: run what was paused.
void Connection::OnSent(size_t n) {
  if (closed_ || !AfterSent(n)) return;
  if (paused_ && !OutputFull()) ProcessInput();
}

void Connection::OnError(int err) { Close(); }

void Connection::ResumeInput() {
  resume_marked_ = false;
  if (closed_ || !paused_ || OutputFull()) return;
  ProcessInput();
  if (!closed_) UpdateReceiving();
}

bool Connection::OutputFull() const { return unsent() >= kOutputBackpressure; }

void Connection::DeliverMail() {
  if (closed_) return;
  size_t before = out_.size();
  DrainMailbox(server_, client_, writer_);
  if (CloseIfOverLimits()) return;
  if (out_.size() != before && !pending_) {
    pending_ = true;
    owner_.MarkPending(this);
  }
}

void Connection::Unblock() {
  if (closed_ || client_.blocked == nullptr) return;
  std::string reply;
  bool close = false;
  bool served = false;
  if (!client_.blocked->TakeReply(&reply, &close, &served)) return;
  if (close) {  // the pop it reports could not be made durable
    Close();
    return;
  }
  EndBlockForSlowLog(server_, client_, served);
  EndBlock(reply);
}

int64_t Connection::block_deadline_ms() const {
  return client_.blocked == nullptr ? 0 : client_.blocked->deadline_ms();
}

bool Connection::ExpireBlock(int64_t now_ms) {
  const int64_t deadline = block_deadline_ms();
  if (closed_ || deadline == 0) return false;
  if (now_ms < deadline) return true;
  // Not cancelled: a pusher holds it, and its outcome (the served reply,
  // or this timeout's) comes through Unblock().
  if (server_.blocked().Cancel(client_.blocked)) {
    EndBlockForSlowLog(server_, client_, false);
    EndBlock(client_.blocked->TimeoutReply());
  }
  return false;
}

void Connection::EndBlock(const std::string& reply) {
  client_.blocked.reset();
  client_.blocked_flag.store(false, std::memory_order_relaxed);
  if (!client_.drop_blocked_reply) out_.append(reply);  // CLIENT REPLY
  client_.drop_blocked_reply = false;
  if (CloseIfOverLimits()) return;
  if (!pending_) {
    pending_ = true;
    owner_.MarkPending(this);
  }
  ProcessInput();
  if (!closed_) UpdateReceiving();
}

// Redis's checkClientOutputBufferLimits, with the limits of the client's
// class (pubsub once it subscribes to anything, else normal).
bool Connection::OverOutputLimit() {
  const RuntimeSettings& s = server_.settings();
  const bool pubsub = client_.pubsub.subscribed();
  const uint64_t hard =
      (pubsub ? s.pubsub_output_limit : s.client_output_limit).load();
  const uint64_t soft =
      (pubsub ? s.pubsub_output_soft_limit : s.client_output_soft_limit).load();
  const size_t used = unsent();
  if (hard != 0 && used >= hard) return true;
  if (soft == 0 || used < soft) {
    soft_limit_since_ms_ = 0;
    return false;
  }
  const int64_t now = server_.NowMs();
  if (soft_limit_since_ms_ == 0) {
    soft_limit_since_ms_ = now;
    return false;
  }
  const int64_t secs =
      (pubsub ? s.pubsub_output_soft_seconds : s.client_output_soft_seconds)
          .load();
  return now - soft_limit_since_ms_ > secs * 1000;
}

bool Connection::CloseIfOverLimits() {
  if (!client_.close_asap && OverOutputLimit()) {
    client_.close_asap = true;
    server_.stats().client_output_limit_disconnects.fetch_add(1);
  }
  if (!client_.close_asap) return false;
  Close();
  return true;
}

void Connection::EnsureReadSpace() {
  size_t want = kReadChunk;
  size_t pending = parser_.pending_bulk_bytes(in_end_ - in_start_);
  if (pending > want) want = pending;
  if (in_start_ > 0 && (in_start_ == in_end_ || in_cap_ - in_end_ < want)) {
    std::memmove(in_.get(), in_.get() + in_start_, in_end_ - in_start_);
    in_end_ -= in_start_;
    in_start_ = 0;
  }
  if (in_cap_ - in_end_ >= want) return;
  size_t cap = in_cap_ == 0 ? kReadChunk : in_cap_;
  while (cap - in_end_ < want) cap *= 2;
  std::unique_ptr<char[]> bigger(new char[cap]);
  if (in_end_ > 0) std::memcpy(bigger.get(), in_.get(), in_end_);
  in_ = std::move(bigger);
  in_cap_ = cap;
}

std::span<char> Connection::InputSpace() {
  EnsureReadSpace();
  return {in_.get() + in_end_, in_cap_ - in_end_};
}

void Connection::OnInput(size_t n) {
  if (closed_) return;
  in_end_ += n;
  server_.stats().net_input_bytes.fetch_add(n, std::memory_order_relaxed);
  client_.last_interaction_ms.store(server_.NowMs(), std::memory_order_relaxed);
  ProcessInput();
}

void Connection::ProcessInput() {
  limits_.max_bulk =
      static_cast<int64_t>(server_.settings().proto_max_bulk_len.load());
  size_t before = out_.size();
  // A run of GETs read together, looked up together; dropped on return.
  std::optional<GetBatch> gets;
  bool runs_off = false;
  size_t prefetched_to = 0;  // input offset the last key window reached
  while (in_start_ < in_end_ && !client_.close_after_reply && !OutputFull() &&
         client_.blocked == nullptr) {
    bool authed = client_.authenticated || !server_.settings().auth_required();
    auto r = parser_.Parse(in_.get() + in_start_, in_end_ - in_start_, authed);
    if (r == RequestParser::Result::kIncomplete) break;
    if (r == RequestParser::Result::kError) {
      writer_.Error(parser_.error());
      client_.close_after_reply = true;
      break;
    }
    const auto& argv = parser_.args();
    size_t consumed = parser_.consumed();
    if (!argv.empty()) {
      const CommandSpec* spec = last_command_.Find(argv[0]);
      const size_t ran = RunWrites(spec, argv, &runs_off);
      if (ran > 0) {
        consumed = ran;
      } else {
        GetBatch* batch = BatchGets(argv, &gets);
        if (batch == nullptr && authed) {
          PrefetchKeyWindow(spec, argv, &prefetched_to);
        }
        ExecuteLookedUp(server_, client_, spec, argv, writer_, batch);
      }
    }
    in_start_ += consumed;
    parser_.Reset();
    if (client_.blocked != nullptr && client_.blocked->deadline_ms() != 0) {
      owner_.MarkBlocked(this);
    }
    if (CloseIfOverLimits()) return;
    if (client_.kill_requested.load(std::memory_order_relaxed)) {
      client_.close_after_reply = true;
    }
  }
  if (in_start_ == in_end_) {
    in_start_ = in_end_ = 0;
    // A large value (up to proto-max-bulk-len) grew the buffer: give it back
    // once consumed rather than hold it for the connection's life.
    if (in_cap_ > (1u << 20)) {
      in_.reset();
      in_cap_ = 0;
    }
  }
  size_t qbuf = in_end_ - in_start_;
  client_.query_buffer_bytes.store(qbuf, std::memory_order_relaxed);
  // The parser's argument table counts too: a request of many tiny
  // arguments costs more in spans than in bytes.
  if (qbuf + parser_.memory() > server_.config().client_query_buffer_limit) {
    Close();  // like Redis: "closing client that reached max query buffer"
    return;
  }
  if ((out_.size() != before || client_.close_after_reply) && !pending_) {
    pending_ = true;
    owner_.MarkPending(this);
  }
  paused_ = in_start_ < in_end_ && OutputFull();
  if (paused_) UpdateReceiving();  // stop reading until replies drain
}

GetBatch* Connection::BatchGets(std::span<const std::string_view> argv,
                                std::optional<GetBatch>* gets) {
  if (!GetBatch::IsPlainGet(argv)) return nullptr;
  if (gets->has_value() && (*gets)->pending()) return &**gets;
  if (!GetBatch::MayStart(client_)) return nullptr;
  // Made anew for each run: a command between two runs may have changed
  // what server_.db() is.
  gets->emplace(server_);
  const size_t after = in_start_ + parser_.consumed();
  const std::string_view rest(in_.get() + after, in_end_ - after);
  const bool authed =
      client_.authenticated || !server_.settings().auth_required();
  if (!(*gets)->Collect(argv, in_.get() + in_start_, rest, authed,
                        lookahead_)) {
    return nullptr;
  }
  return &**gets;
}

void Connection::PrefetchKeyWindow(const CommandSpec* spec,
                                   std::span<const std::string_view> argv,
                                   size_t* prefetched_to) {
  if (in_start_ < *prefetched_to || client_.in_multi ||
      !StartsKeyPrefetch(spec)) {
    return;
  }
  const size_t after = in_start_ + parser_.consumed();
  *prefetched_to =
      after +
      PrefetchPipelineKeys(server_, *spec, argv,
                           std::string_view(in_.get() + after, in_end_ - after),
                           lookahead_, last_command_);
}

size_t Connection::RunWrites(const CommandSpec* spec,
                             std::span<const std::string_view> argv,
                             bool* runs_off) {
  if (*runs_off || !WriteRun::Joins(spec, argv.size()) ||
      !WriteRun::MayStart(server_, client_)) {
    return 0;
  }
  const size_t size = parser_.consumed();
  const size_t after = in_start_ + size;
  const std::string_view rest(in_.get() + after, in_end_ - after);
  if (!writes_.Collect(spec, argv, in_.get() + in_start_, size, rest,
                       lookahead_, last_command_)) {
    return 0;
  }
  const size_t ran = writes_.Run(server_, client_, writer_);
  *runs_off = ran == 0;
  return ran;
}

void Connection::FlushReplies() {
  pending_ = false;
  if (closed_) return;
  out_ready_ = out_.size();
  client_.output_buffer_bytes.store(unsent(), std::memory_order_relaxed);
  if (CloseIfOverLimits()) return;  // CONFIG SET may have lowered it
  if (!SendReady()) return;
  // Drained what backpressure paused on, and no event will come for input
  // already read: have the owner resume it next round.
  if (paused_ && !OutputFull() && !resume_marked_) {
    resume_marked_ = true;
    owner_.MarkResume(this);
  }
}

bool Connection::SendReady() {
  const size_t n = out_ready_;
  out_ready_ = 0;
  if (n == 0) return AfterSent(0);
  ssize_t sent;
  if (n == out_.size()) {
    sent = owner_.loop().Send(client_.fd, &out_);  // keeps out_'s capacity
  } else {  // replies of commands after the Sync stay for the next one
    std::string head(out_, 0, n);
    out_.erase(0, n);
    sent = owner_.loop().Send(client_.fd, &head);
  }
  if (sent < 0) {
    Close();
    return false;
  }
  in_flight_ += n;
  return AfterSent(static_cast<size_t>(sent));
}

bool Connection::AfterSent(size_t n) {
  in_flight_ -= n;
  if (n > 0) {
    server_.stats().net_output_bytes.fetch_add(n, std::memory_order_relaxed);
  }
  if (unsent() == 0) {
    if (out_.capacity() > kKeepCapacity) std::string().swap(out_);
    if (client_.close_after_reply) {
      Close();
      return false;
    }
  }
  client_.output_buffer_bytes.store(unsent(), std::memory_order_relaxed);
  UpdateReceiving();
  return true;
}

void Connection::UpdateReceiving() {
  const bool want = !OutputFull() && !client_.close_after_reply;
  if (want == receiving_) return;
  receiving_ = want;
  owner_.loop().SetReceiving(client_.fd, want);
}

}  // namespace daxkv::kv
