#include "kv/pubsub.h"

#include <algorithm>
#include <mutex>
#include <span>

#include "kv/glob.h"
#include "kv/resp_writer.h"

namespace daxkv::kv {

bool Mailbox::Post(std::string_view frame, uint64_t unsent, uint64_t limit) {
  bool was_empty, dropped;
  {
    MutexLock l(&mu_);
    if (overflowed_) return false;
    dropped = limit != 0 && unsent + mail_.size() + frame.size() > limit;
    if (dropped) {
      // The owner is told to close the client: a subscriber that does not
      // read cannot make the server hold more than the limit.
      overflowed_ = true;
      mail_.clear();
    } else {
      mail_.append(frame);
    }
    was_empty = !has_mail_.exchange(true, std::memory_order_acq_rel);
  }
  if (was_empty && notify_) notify_();
  return !dropped;
}

bool Mailbox::TakeInto(std::string* out) {
  MutexLock l(&mu_);
  out->append(mail_);
  mail_.clear();
  if (mail_.capacity() > (1u << 20)) std::string().swap(mail_);
  has_mail_.store(false, std::memory_order_release);
  bool overflowed = overflowed_;
  overflowed_ = false;
  return overflowed;
}

std::string PubSubFrame(int resp, std::span<const std::string_view> parts) {
  std::string s;
  ReplyWriter w(&s, resp);
  w.PushHeader(parts.size());
  for (auto p : parts) w.Bulk(p);
  return s;
}

bool PubSubRegistry::Subscribe(Client* c, SubKind kind, std::string_view name) {
  std::unique_lock<std::shared_mutex> l(mu_);
  auto [it, added] = c->pubsub.set(kind).emplace(name);
  if (!added) return false;
  index(kind)[*it].push_back(c);
  c->pubsub.counts[static_cast<int>(kind)].fetch_add(1);
  return true;
}

void PubSubRegistry::RemoveLocked(Client* c, SubKind kind,
                                  const std::string& name) {
  auto it = index(kind).find(name);
  if (it == index(kind).end()) return;
  std::erase(it->second, c);
  if (it->second.empty()) index(kind).erase(it);
  c->pubsub.counts[static_cast<int>(kind)].fetch_sub(1);
}

bool PubSubRegistry::Unsubscribe(Client* c, SubKind kind,
                                 std::string_view name) {
  std::unique_lock<std::shared_mutex> l(mu_);
  auto& set = c->pubsub.set(kind);
  auto it = set.find(std::string(name));
  if (it == set.end()) return false;
  RemoveLocked(c, kind, *it);
  set.erase(it);
  return true;
}

std::vector<std::string> PubSubRegistry::UnsubscribeAll(Client* c,
                                                        SubKind kind) {
  std::unique_lock<std::shared_mutex> l(mu_);
  auto& set = c->pubsub.set(kind);
  std::vector<std::string> names;
  names.reserve(set.size());
  for (const std::string& name : set) {
    RemoveLocked(c, kind, name);
    names.push_back(name);
  }
  set.clear();
  return names;
}

void PubSubRegistry::UnsubscribeEverything(Client* c) {
  if (!c->pubsub.subscribed()) return;
  for (SubKind k : {SubKind::kChannel, SubKind::kPattern, SubKind::kShard}) {
    UnsubscribeAll(c, k);
  }
}

namespace {

// The frame for one subscriber, encoded once per RESP version.
class FrameCache {
 public:
  explicit FrameCache(std::vector<std::string_view> parts)
      : parts_(std::move(parts)) {}
  const std::string& For(int resp) {
    std::string& f = resp >= 3 ? resp3_ : resp2_;
    if (f.empty()) f = PubSubFrame(resp, parts_);
    return f;
  }

 private:
  std::vector<std::string_view> parts_;
  std::string resp2_, resp3_;
};

void Deliver(Client* c, FrameCache& frame, uint64_t limit) {
  uint64_t unsent = c->output_buffer_bytes.load(std::memory_order_relaxed);
  c->pubsub.mailbox.Post(frame.For(c->resp.load(std::memory_order_relaxed)),
                         unsent, limit);
}

}  // namespace

template <typename Fn>
int64_t PubSubRegistry::ForEachReceiver(std::string_view channel, bool shard,
                                        Fn&& fn) const {
  int64_t receivers = 0;
  const Index& direct = index(shard ? SubKind::kShard : SubKind::kChannel);
  if (auto it = direct.find(std::string(channel)); it != direct.end()) {
    fn(nullptr, it->second);
    receivers += static_cast<int64_t>(it->second.size());
  }
  if (shard) return receivers;
  for (const auto& [pattern, clients] : index(SubKind::kPattern)) {
    if (!GlobMatch(pattern, channel)) continue;
    fn(&pattern, clients);
    receivers += static_cast<int64_t>(clients.size());
  }
  return receivers;
}

int64_t PubSubRegistry::Publish(std::string_view channel,
                                std::string_view message, bool shard,
                                uint64_t limit) {
  std::shared_lock<std::shared_mutex> l(mu_);
  return ForEachReceiver(
      channel, shard,
      [&](const std::string* pattern, const std::vector<Client*>& clients) {
        FrameCache frame =
            pattern == nullptr
                ? FrameCache({shard ? "smessage" : "message", channel, message})
                : FrameCache({"pmessage", *pattern, channel, message});
        for (Client* c : clients) Deliver(c, frame, limit);
      });
}

int64_t PubSubRegistry::CountReceivers(std::string_view channel,
                                       bool shard) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  return ForEachReceiver(channel, shard,
                         [](const std::string*, const std::vector<Client*>&) {});
}

void DeliverDeferred(PubSubRegistry& registry, uint64_t limit,
                     Client& publisher) {
  auto& pending = publisher.pubsub.deferred;
  if (pending.empty()) return;
  auto deliver = [&registry, limit,
                  messages = std::move(pending)](bool durable) {
    if (!durable) return;
    for (const auto& m : messages) {
      registry.Publish(m.channel, m.message, m.shard, limit);
    }
  };
  pending.clear();
  if (publisher.round_woken != nullptr) {
    publisher.round_woken->push_back(std::move(deliver));
  } else {
    deliver(true);
  }
}

void MoveDeferred(Client& from, Client& to) {
  auto& src = from.pubsub.deferred;
  auto& dst = to.pubsub.deferred;
  dst.insert(dst.end(), std::make_move_iterator(src.begin()),
             std::make_move_iterator(src.end()));
  src.clear();
}

std::vector<std::string> PubSubRegistry::ActiveChannels(
    SubKind kind, std::optional<std::string_view> pattern) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  std::vector<std::string> out;
  for (const auto& [name, clients] : index(kind)) {
    if (!pattern || GlobMatch(*pattern, name)) out.push_back(name);
  }
  return out;
}

int64_t PubSubRegistry::NumSubscribers(SubKind kind,
                                       std::string_view name) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = index(kind).find(std::string(name));
  return it == index(kind).end() ? 0 : static_cast<int64_t>(it->second.size());
}

size_t PubSubRegistry::Size(SubKind kind) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  return index(kind).size();
}

}  // namespace daxkv::kv
