#include "kv/block_registry.h"

#include <algorithm>

#include "kv/resp_writer.h"

namespace daxkv::kv {

void Waiter::Deliver(std::string reply, bool close) {
  MutexLock l(&mu_);
  reply_ = std::move(reply);
  close_ = close;
  delivered_ = true;
  if (notify_) notify_();
}

void Waiter::DeliverUnserved(std::string reply) {
  {
    MutexLock l(&mu_);
    served_ = false;
  }
  Deliver(std::move(reply));
}

void Waiter::Detach() {
  MutexLock l(&mu_);
  notify_ = nullptr;
}

bool Waiter::TakeReply(std::string* reply, bool* close, bool* served) {
  MutexLock l(&mu_);
  if (!delivered_) return false;
  *reply = std::move(reply_);
  *close = close_;
  *served = served_;
  return true;
}

std::string Waiter::TimeoutReply() const {
  if (timeout_reply_) return timeout_reply_();
  std::string out;
  ReplyWriter w(&out, resp_);
  w.NullArray();
  return out;
}

void BlockRegistry::Block(const std::shared_ptr<Waiter>& w) {
  MutexLock l(&mu_);
  for (const std::string& key : w->keys()) {
    std::deque<std::shared_ptr<Waiter>>& q = by_key_[key];
    // BLPOP k k: one place per key, as Redis's dict of keys.
    if (std::find(q.begin(), q.end(), w) == q.end()) q.push_back(w);
  }
  by_client_[w->client_id()] = w;
  blocked_.fetch_add(1, std::memory_order_relaxed);
  if (w->op().cmd == BlockOp::Cmd::kXReadGroup) {
    group_readers_.fetch_add(1, std::memory_order_relaxed);
  }
}

std::vector<std::shared_ptr<Waiter>> BlockRegistry::GroupReaders() {
  std::vector<std::shared_ptr<Waiter>> out;
  MutexLock l(&mu_);
  for (const auto& [id, w] : by_client_) {
    if (w->op().cmd == BlockOp::Cmd::kXReadGroup &&
        w->state_ == Waiter::State::kWaiting) {
      out.push_back(w);
    }
  }
  return out;
}

std::shared_ptr<Waiter> BlockRegistry::Claim(std::string_view key,
                                             engine::KeyType type) {
  MutexLock l(&mu_);
  auto it = by_key_.find(std::string(key));
  if (it == by_key_.end()) return nullptr;
  for (const std::shared_ptr<Waiter>& w : it->second) {
    if (w->state_ != Waiter::State::kWaiting || w->op().type != type) continue;
    w->state_ = Waiter::State::kClaimed;
    return w;
  }
  return nullptr;
}

void BlockRegistry::RemoveLocked(const std::shared_ptr<Waiter>& w) {
  for (const std::string& key : w->keys()) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) continue;
    std::erase(it->second, w);
    if (it->second.empty()) by_key_.erase(it);
  }
  auto c = by_client_.find(w->client_id());
  if (c != by_client_.end() && c->second == w) by_client_.erase(c);
  w->state_ = Waiter::State::kDone;
  blocked_.fetch_sub(1, std::memory_order_relaxed);
  if (w->op().cmd == BlockOp::Cmd::kXReadGroup) {
    group_readers_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void BlockRegistry::Unclaim(const std::shared_ptr<Waiter>& w) {
  {
    MutexLock l(&mu_);
    if (w->state_ != Waiter::State::kClaimed) return;
    if (!w->cancel_pending_) {
      w->state_ = Waiter::State::kWaiting;
      return;
    }
    RemoveLocked(w);
  }
  // Timed out while claimed: the timeout reply (a detached waiter, whose
  // client is gone, drops it).
  w->DeliverUnserved(w->TimeoutReply());
}

void BlockRegistry::Served(const std::shared_ptr<Waiter>& w) {
  MutexLock l(&mu_);
  if (w->state_ == Waiter::State::kClaimed) RemoveLocked(w);
}

bool BlockRegistry::Cancel(const std::shared_ptr<Waiter>& w) {
  MutexLock l(&mu_);
  switch (w->state_) {
    case Waiter::State::kWaiting:
      RemoveLocked(w);
      return true;
    case Waiter::State::kClaimed:
      w->cancel_pending_ = true;
      return false;
    case Waiter::State::kDone:
      return false;
  }
  return false;
}

bool BlockRegistry::Unblock(uint64_t client_id, std::string_view error) {
  std::shared_ptr<Waiter> w;
  {
    MutexLock l(&mu_);
    auto it = by_client_.find(client_id);
    if (it == by_client_.end() ||
        it->second->state_ != Waiter::State::kWaiting) {
      return false;
    }
    w = it->second;
    RemoveLocked(w);
  }
  std::string reply;
  if (error.empty()) {
    reply = w->TimeoutReply();
  } else {
    ReplyWriter out(&reply, w->resp());
    out.Error(error);
  }
  w->DeliverUnserved(std::move(reply));
  return true;
}

bool BlockRegistry::HasWaiters(std::string_view key) {
  if (blocked_.load(std::memory_order_relaxed) == 0) return false;
  MutexLock l(&mu_);
  return by_key_.find(std::string(key)) != by_key_.end();
}

}  // namespace daxkv::kv
