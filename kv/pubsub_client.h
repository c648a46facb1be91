// PubSubClient: one client's side of pub/sub: what it subscribes to and its
// mailbox, where publishers on any I/O thread leave the messages for it.
//
// The mailbox is how a message crosses threads: a publisher appends the
// encoded frame under the mailbox's mutex and, when the mailbox was empty,
// calls the owner's notify hook (the owning I/O thread queues the connection
// and wakes its loop). The owner moves the mail into the connection's output
// before it runs each command and whenever it is woken for mail, so a
// subscriber sees every message published before a command's reply ahead of
// that reply, and one publisher's messages in the order it published them.
//
// A subscriber that does not read is bounded: once its unsent output plus
// its mail would pass the pub/sub output limit, further messages are dropped
// and the mailbox reports the overflow; the owner then closes the client, as
// Redis closes a pubsub-class client over client-output-buffer-limit.
//
// Thread-safety: Mailbox is safe from any thread (set_notify excepted: owner
// thread, before the client subscribes). The subscription sets belong to
// the client's own thread and change only under the PubSubRegistry's lock;
// the counts may be read from any thread (CLIENT LIST).
#ifndef DAXKV_KV_PUBSUB_CLIENT_H_
#define DAXKV_KV_PUBSUB_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "base/mutex.h"

namespace daxkv::kv {

// The three namespaces of subscriptions, as Redis keeps them apart.
enum class SubKind { kChannel = 0, kPattern = 1, kShard = 2 };

class Mailbox {
 public:
  // REQUIRES: called before the client first subscribes (publishers read it
  // without a lock). May stay empty (tests): mail then waits for the next
  // command.
  void set_notify(std::function<void()> fn) { notify_ = std::move(fn); }

  // Appends one encoded message. `unsent` is what the client's connection
  // still has to send, `limit` the hard output limit (0 = none). Returns
  // false when the message was dropped because the client is over it.
  bool Post(std::string_view frame, uint64_t unsent, uint64_t limit);

  // Moves the mail to the end of *out. Returns true when messages were
  // dropped for the output limit since the last call: close the client.
  bool TakeInto(std::string* out);

  bool has_mail() const { return has_mail_.load(std::memory_order_acquire); }

 private:
  Mutex mu_;
  std::string mail_ GUARDED_BY(mu_);
  bool overflowed_ GUARDED_BY(mu_) = false;
  std::atomic<bool> has_mail_{false};
  std::function<void()> notify_;
};

struct PubSubClient {
  Mailbox mailbox;

  std::unordered_set<std::string>& set(SubKind k) {
    return sets[static_cast<int>(k)];
  }
  int count(SubKind k) const {
    return counts[static_cast<int>(k)].load(std::memory_order_relaxed);
  }
  // Redis's CLIENT_PUBSUB: subscribed to anything (channels, patterns or
  // shard channels). In RESP2 such a client may run only the pub/sub
  // commands, PING, QUIT and RESET.
  bool subscribed() const {
    return count(SubKind::kChannel) + count(SubKind::kPattern) +
               count(SubKind::kShard) >
           0;
  }
  // The count SUBSCRIBE/PSUBSCRIBE replies carry (channels + patterns);
  // SSUBSCRIBE's carries the shard channels only, as in Redis 7.0.
  int ReplyCount(SubKind k) const {
    return k == SubKind::kShard
               ? count(SubKind::kShard)
               : count(SubKind::kChannel) + count(SubKind::kPattern);
  }

  std::unordered_set<std::string> sets[3];
  std::atomic<int> counts[3] = {0, 0, 0};

  // What a PUBLISH inside a block (EXEC, a script, a function) owes: sent
  // once the block commits (DeliverDeferred, kv/pubsub.h), dropped when the
  // block runs again or applies nothing. Owner thread only.
  struct DeferredMessage {
    std::string channel;
    std::string message;
    bool shard = false;
  };
  std::vector<DeferredMessage> deferred;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_PUBSUB_CLIENT_H_
