// Blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
// BZPOPMAX, BZMPOP) and XREAD BLOCK: the clients blocked on keys, FIFO per key,
// across I/O threads (docs/collections.md §8).
//
// A Waiter is one blocked command. It is registered (Block) by the blocking
// client's own Txn while that Txn still holds the keys' stripes, after it
// found them all empty, so no push can fall between the check and the
// registration. A pusher serves waiters inside its own Txn before commit
// (kv/block_serve.h): it Claims the first waiting waiter of a ready key,
// pops for it in the Txn, and after the Txn committed marks it Served (or
// Unclaims it when the Txn did not commit: a restart or an error), so a
// waiter is served by exactly one committed Txn and keeps its place in the
// queues otherwise. Timeouts, CLIENT UNBLOCK and disconnects only Cancel:
// the engine holds no waiter state.
//
// The reply reaches the blocked client through Waiter::Deliver (any
// thread), which wakes the client's I/O thread through the notify hook the
// client set; the pusher's thread delivers only after its round's Sync(),
// so the pop the reply reports is durable before the reply leaves.
//
// Thread-safety: BlockRegistry and Waiter are safe from any thread. Lock
// order: a Txn's stripes, then BlockRegistry::mu_, then Waiter::mu_; no
// engine call is made under either mutex.
#ifndef DAXKV_KV_BLOCK_REGISTRY_H_
#define DAXKV_KV_BLOCK_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "engine/txn.h"

namespace daxkv::kv {

// What a served waiter does, in Redis's terms.
struct BlockOp {
  enum class Cmd : uint8_t {
    kPop,         // BLPOP, BRPOP: [key, element]
    kMove,        // BLMOVE, BRPOPLPUSH: pop `from`, push `to` of dst: element
    kMpop,        // BLMPOP, BZMPOP: [key, [up to count elements]]
    kZPop,        // BZPOPMIN, BZPOPMAX: [key, member, score]
    kXRead,       // XREAD BLOCK: [[key, entries]] (RESP3: {key: entries})
    kXReadGroup,  // XREADGROUP BLOCK ... STREAMS keys > ...: as XREAD,
                  // entries taken for the consumer (kv/stream_group_read.h)
  };
  Cmd cmd = Cmd::kPop;
  engine::KeyType type = engine::KeyType::kList;  // kList, kZset, kStream
  engine::End from = engine::End::kFront;
  engine::End to = engine::End::kFront;
  bool max = false;  // zsets: pop the highest scores
  int64_t count = 1;
  std::string dst;  // kMove
  // kXRead: per key (the waiter's keys, in order) the ID (ms, seq) above
  // which entries are served; `count` 0: no limit.
  std::vector<std::pair<uint64_t, uint64_t>> after;
  // kXReadGroup: the group, the consumer and NOACK.
  std::string group;
  std::string consumer;
  bool noack = false;
};

class Waiter {
 public:
  Waiter(uint64_t client_id, std::vector<std::string> keys, BlockOp op,
         int resp, int64_t deadline_ms, std::function<void()> notify)
      : client_id_(client_id),
        keys_(std::move(keys)),
        op_(std::move(op)),
        resp_(resp),
        deadline_ms_(deadline_ms),
        notify_(std::move(notify)) {}

  uint64_t client_id() const { return client_id_; }
  const std::vector<std::string>& keys() const { return keys_; }
  const BlockOp& op() const { return op_; }
  int resp() const { return resp_; }
  int64_t deadline_ms() const { return deadline_ms_; }  // 0: forever

  // Hands the reply over (any thread) and wakes the client's thread.
  // `close`: the reply could not be made durable; close the client.
  void Deliver(std::string reply, bool close = false);
  // Deliver() of a reply that ends the wait unserved (a timeout, CLIENT
  // UNBLOCK): the command did not complete, and the slow log skips it.
  void DeliverUnserved(std::string reply);
  // The client is gone: nothing is woken any more.
  void Detach();
  // The delivered reply, if any (the client's thread); *served is false
  // after DeliverUnserved().
  bool TakeReply(std::string* reply, bool* close, bool* served);

  // The reply on timeout or CLIENT UNBLOCK ... TIMEOUT: Redis 7.0 answers
  // a null array for every blocking list and zset command; a waiter with
  // no keys (WAIT) gets what `fn` says then. REQUIRES: set before Block.
  std::string TimeoutReply() const;
  void set_timeout_reply(std::function<std::string()> fn) {
    timeout_reply_ = std::move(fn);
  }

 private:
  friend class BlockRegistry;
  enum class State : uint8_t { kWaiting, kClaimed, kDone };

  const uint64_t client_id_;
  const std::vector<std::string> keys_;
  const BlockOp op_;
  const int resp_;
  const int64_t deadline_ms_;
  std::function<std::string()> timeout_reply_;
  // Guarded by BlockRegistry::mu_.
  State state_ = State::kWaiting;
  bool cancel_pending_ = false;  // cancelled while claimed

  Mutex mu_;
  std::function<void()> notify_ GUARDED_BY(mu_);
  bool delivered_ GUARDED_BY(mu_) = false;
  bool close_ GUARDED_BY(mu_) = false;
  bool served_ GUARDED_BY(mu_) = true;
  std::string reply_ GUARDED_BY(mu_);
};

class BlockRegistry {
 public:
  // Queues w at the tail of each of its keys.
  void Block(const std::shared_ptr<Waiter>& w);
  // The first waiting waiter on `key` whose command pops a `type`, marked
  // claimed (others skip it); null when none.
  std::shared_ptr<Waiter> Claim(std::string_view key, engine::KeyType type);
  // The claiming Txn did not commit: w waits again in its place (or is
  // dropped, when it was cancelled meanwhile).
  void Unclaim(const std::shared_ptr<Waiter>& w);
  // The claiming Txn committed: w leaves every queue.
  void Served(const std::shared_ptr<Waiter>& w);
  // Timeout, disconnect: removes w when it is waiting (true: the caller
  // replies). Otherwise (false) a reply is on its way through Deliver: the
  // served reply, or the timeout reply when w's claimer does not commit.
  bool Cancel(const std::shared_ptr<Waiter>& w);
  // CLIENT UNBLOCK: cancels the client's waiter and delivers `reply` (or
  // its timeout reply when empty). False when it was not blocked.
  bool Unblock(uint64_t client_id, std::string_view error);
  // Whether anyone waits on `key` (cheap check before a Txn serves).
  bool HasWaiters(std::string_view key);
  // XREADGROUP waiters: how many, and those waiting (not claimed). Redis
  // wakes them with an error once a key of theirs stops holding a stream
  // (kv/block_serve.h, UnblockGoneStreamReaders).
  uint64_t group_readers() const {
    return group_readers_.load(std::memory_order_relaxed);
  }
  std::vector<std::shared_ptr<Waiter>> GroupReaders();
  // INFO clients: blocked_clients.
  uint64_t blocked_count() const {
    return blocked_.load(std::memory_order_relaxed);
  }

 private:
  void RemoveLocked(const std::shared_ptr<Waiter>& w) REQUIRES(mu_);

  Mutex mu_;
  std::unordered_map<std::string, std::deque<std::shared_ptr<Waiter>>> by_key_
      GUARDED_BY(mu_);
  std::unordered_map<uint64_t, std::shared_ptr<Waiter>> by_client_
      GUARDED_BY(mu_);
  std::atomic<uint64_t> blocked_{0};
  std::atomic<uint64_t> group_readers_{0};
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_BLOCK_REGISTRY_H_
