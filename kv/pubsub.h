// PubSubRegistry: who subscribes to which channel, pattern and shard
// channel, server-wide, and the delivery of published messages to them
// across I/O threads (through each client's Mailbox, kv/pubsub_client.h).
//
// Ordering: Publish() delivers under the registry's shared lock, and
// subscribing or unsubscribing takes it exclusively, so a message is either
// delivered before an UNSUBSCRIBE takes effect (and the unsubscribing
// client moves it to its output ahead of the confirmation) or not at all.
// Messages of one publisher reach each subscriber in publishing order;
// publishers on different threads are not ordered against each other, as
// with Redis clients whose commands interleave.
//
// A PUBLISH inside EXEC, a script or a function is held back until the
// block commits and its round's Sync() returns (DeliverDeferred): an engine
// Txn that restarts runs the block again, and the message must go out once,
// only for a block that was applied, and never before the writes it may
// announce are durable. Its reply counts the receivers when it ran.
//
// Thread-safety: every method may be called from any thread; the ones that
// change a client's subscriptions REQUIRE that client's own thread. A client
// must be unsubscribed from everything (UnsubscribeEverything, done by
// ServerState::Unregister) before it is destroyed.
#ifndef DAXKV_KV_PUBSUB_H_
#define DAXKV_KV_PUBSUB_H_

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kv/client.h"
#include "kv/pubsub_client.h"

namespace daxkv::kv {

class PubSubRegistry {
 public:
  // Adds c as a subscriber of `name`; false when it already was.
  bool Subscribe(Client* c, SubKind kind, std::string_view name);
  // Removes c from `name`; false when it was not subscribed.
  bool Unsubscribe(Client* c, SubKind kind, std::string_view name);
  // Removes every subscription of `kind` c has; returns their names.
  std::vector<std::string> UnsubscribeAll(Client* c, SubKind kind);
  // All three kinds (RESET, connection close).
  void UnsubscribeEverything(Client* c);

  // Delivers `message` to the subscribers of `channel` ("message" frames)
  // and, unless `shard`, to the clients whose patterns match it ("pmessage",
  // once per matching pattern); a shard publish reaches the shard channel's
  // subscribers ("smessage"). Returns the number of deliveries, as Redis
  // counts receivers. `limit` is the pub/sub output limit (0 = none).
  int64_t Publish(std::string_view channel, std::string_view message,
                  bool shard, uint64_t limit);
  // What Publish would return now, delivering nothing (a PUBLISH inside a
  // block replies this count; its message goes out once the block commits).
  int64_t CountReceivers(std::string_view channel, bool shard) const;

  // Channels (kChannel or kShard) with at least one subscriber, optionally
  // those matching a glob pattern.
  std::vector<std::string> ActiveChannels(
      SubKind kind, std::optional<std::string_view> pattern) const;
  int64_t NumSubscribers(SubKind kind, std::string_view name) const;
  // Distinct channels / patterns / shard channels subscribed to (PUBSUB
  // NUMPAT, INFO).
  size_t Size(SubKind kind) const;

 private:
  using Index = std::unordered_map<std::string, std::vector<Client*>>;
  Index& index(SubKind k) { return subs_[static_cast<int>(k)]; }
  const Index& index(SubKind k) const { return subs_[static_cast<int>(k)]; }
  void RemoveLocked(Client* c, SubKind kind, const std::string& name);
  // Calls fn(pattern, clients) for the channel's subscribers (pattern null)
  // and each matching pattern's; returns the number of receivers.
  // REQUIRES: mu_ held (shared).
  template <typename Fn>
  int64_t ForEachReceiver(std::string_view channel, bool shard,
                          Fn&& fn) const;

  mutable std::shared_mutex mu_;
  Index subs_[3];
};

// A block committed: its deferred messages (PubSubClient::deferred) go to
// the subscribers after the committing round's Sync (Client::round_woken),
// or at once outside a round. A round whose Sync failed sends none of them:
// a subscriber is never told of a block the medium may not hold.
void DeliverDeferred(PubSubRegistry& registry, uint64_t limit,
                     Client& publisher);

// A script's commands run as their own client: what they published is
// owed by the script's caller.
void MoveDeferred(Client& from, Client& to);

// Frames as Redis sends them: a push in RESP3, an array in RESP2.
std::string PubSubFrame(int resp, std::span<const std::string_view> parts);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_PUBSUB_H_
