#include "kv/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kv/block_registry.h"
#include "kv/executor.h"

namespace daxkv::kv {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
// Stop running commands for (and reading from) a client with this many
// unsent replies (it is not reading them); resume once they drain.
constexpr size_t kOutputBackpressure = 64ull << 20;
constexpr size_t kCompactOutput = 1u << 20;

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
  interest_ = EPOLLIN;
  DAXKV_RETURN_IF_ERROR(owner_.loop().Add(client_.fd, interest_, this));
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
    owner_.loop().Remove(client_.fd);
    server_.Unregister(&client_);
  }
  close(client_.fd);
  owner_.MarkClosed(this);
}

int64_t Connection::idle_ms(int64_t now_ms) const {
  return now_ms - client_.last_interaction_ms.load(std::memory_order_relaxed);
}

void Connection::OnEvent(uint32_t events) {
  if (closed_) return;
  if (events & EPOLLOUT) {
    if (!WriteOutput()) return;
    // Replies drained below the backpressure mark: run what was paused.
    if (paused_ && !OutputFull()) ProcessInput();
    if (closed_) return;
  }
  // Paused: read nothing more (an EPOLLIN from before the pause may still
  // be reported); errors and hang-ups are still handled.
  if (paused_ && !(events & (EPOLLERR | EPOLLHUP))) return;
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ReadInput();
}

void Connection::ResumeInput() {
  resume_marked_ = false;
  if (closed_ || !paused_ || OutputFull()) return;
  ProcessInput();
  if (!closed_) UpdateInterest();
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
  if (!client_.blocked->TakeReply(&reply, &close)) return;
  if (close) {  // the pop it reports could not be made durable
    Close();
    return;
  }
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
    EndBlock(client_.blocked->TimeoutReply());
  }
  return false;
}

void Connection::EndBlock(const std::string& reply) {
  client_.blocked.reset();
  client_.blocked_flag.store(false, std::memory_order_relaxed);
  out_.append(reply);
  if (CloseIfOverLimits()) return;
  if (!pending_) {
    pending_ = true;
    owner_.MarkPending(this);
  }
  ProcessInput();
  if (!closed_) UpdateInterest();
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

void Connection::ReadInput() {
  EnsureReadSpace();
  ssize_t n = read(client_.fd, in_.get() + in_end_, in_cap_ - in_end_);
  if (n == 0) {
    Close();
    return;
  }
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) Close();
    return;
  }
  in_end_ += static_cast<size_t>(n);
  server_.stats().net_input_bytes.fetch_add(static_cast<uint64_t>(n),
                                            std::memory_order_relaxed);
  client_.last_interaction_ms.store(server_.NowMs(), std::memory_order_relaxed);
  ProcessInput();
}

void Connection::ProcessInput() {
  limits_.max_bulk =
      static_cast<int64_t>(server_.settings().proto_max_bulk_len.load());
  size_t before = out_.size();
  // A run of GETs read together, looked up together; dropped on return.
  std::optional<GetBatch> gets;
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
    if (!argv.empty()) {
      ExecuteCommand(server_, client_, argv, writer_, BatchGets(argv, &gets));
    }
    in_start_ += parser_.consumed();
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
  if (paused_) UpdateInterest();  // stop reading until replies drain
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

void Connection::FlushReplies() {
  pending_ = false;
  if (closed_) return;
  out_ready_ = out_.size();
  client_.output_buffer_bytes.store(out_.size() - out_sent_,
                                    std::memory_order_relaxed);
  if (CloseIfOverLimits()) return;  // CONFIG SET may have lowered it
  if (!WriteOutput()) return;
  // Drained what backpressure paused on, and no event will come for input
  // already read: have the owner resume it next round.
  if (paused_ && !OutputFull() && !resume_marked_) {
    resume_marked_ = true;
    owner_.MarkResume(this);
  }
}

// Writes released replies; returns false when the connection was closed.
bool Connection::WriteOutput() {
  while (out_sent_ < out_ready_) {
    ssize_t n =
        write(client_.fd, out_.data() + out_sent_, out_ready_ - out_sent_);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      Close();
      return false;
    }
    out_sent_ += static_cast<size_t>(n);
    server_.stats().net_output_bytes.fetch_add(static_cast<uint64_t>(n),
                                               std::memory_order_relaxed);
  }
  // A client that always has replies in flight never drains out_ to empty:
  // drop the sent prefix once it dominates, so out_ holds O(unsent) bytes.
  if (out_sent_ >= kCompactOutput && out_sent_ * 2 >= out_.size()) {
    out_.erase(0, out_sent_);
    out_ready_ -= out_sent_;
    out_sent_ = 0;
  }
  if (out_sent_ == out_.size()) {
    out_sent_ = out_ready_ = 0;
    if (out_.capacity() > (1u << 20)) {
      std::string().swap(out_);
    } else {
      out_.clear();
    }
    if (client_.close_after_reply) {
      Close();
      return false;
    }
  }
  client_.output_buffer_bytes.store(out_.size() - out_sent_,
                                    std::memory_order_relaxed);
  UpdateInterest();
  return true;
}

void Connection::UpdateInterest() {
  uint32_t want = 0;
  if (!OutputFull() && !client_.close_after_reply) want |= EPOLLIN;
  if (out_sent_ < out_ready_) want |= EPOLLOUT;
  if (want == interest_) return;
  interest_ = want;
  Status s = owner_.loop().Modify(client_.fd, want, this);
  if (!s.ok()) Close();
}

}  // namespace daxkv::kv
