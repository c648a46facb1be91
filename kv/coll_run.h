// How a collection command (hash, list, set, sorted set) runs against the
// engine (docs/collections.md, "The kv layer"): a write command is one
// DB::RunTxn declaring the keys of its command-table key spec, a read
// command one DB::RunRead over them. RunTxn and RunRead may run the body
// more than once (a restart with more keys declared, a read that raced a
// Txn), so the body writes its reply into a scratch writer that is reset
// at every run; the reply reaches the client only after the Txn committed.
//
// Durability: the Txn commits with sync = false, visible at once; every
// collection command carries kCmdKeyspace, so the I/O thread's round
// Sync() makes the commit durable before the reply is sent (the same group
// commit string writes get).
//
// Errors: a body returns CommandError(text) to reply `text` (Redis's
// wording); a WRONGTYPE status from the engine is replied in Redis's words;
// in both cases the Txn aborts, so nothing the body wrote is kept. Redis's
// commands check their arguments before writing, so this matches Redis.
#ifndef DAXKV_KV_COLL_RUN_H_
#define DAXKV_KV_COLL_RUN_H_

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/function_ref.h"
#include "base/status.h"
#include "base/statusor.h"
#include "engine/txn.h"
#include "kv/command.h"
#include "kv/resp_writer.h"

namespace daxkv::kv {

class TxnEngineStore;

// What a body gets besides the engine: its reply writer and the keys whose
// WATCHers the command's writes must mark (Redis signals a key only when a
// command changed it).
class CollCall {
 public:
  explicit CollCall(ReplyWriter& out) : out(out) {}
  // Modified keys go straight to `store` (the command's own Txn, dropped
  // whole when the body fails).
  CollCall(ReplyWriter& out, TxnEngineStore* store) : out(out), store_(store) {}
  ReplyWriter& out;
  void Modified(std::string_view key);
  // Without a store: the keys modified so far.
  const std::vector<std::string>& modified() const { return modified_; }
  // The clients blocked on `key` are to be looked at before the commit
  // though nothing was pushed to it (XGROUP DESTROY: its XREADGROUP
  // waiters get an error).
  void Filled(std::string_view key);
  const std::vector<std::string>& filled() const { return filled_; }

 private:
  TxnEngineStore* store_ = nullptr;
  std::vector<std::string> modified_;
  std::vector<std::string> filled_;
};

// Bodies are called before the function taking them returns, and never
// kept: FunctionRef, which spares each command a heap block.
using CollWriteFn = FunctionRef<Status(engine::Txn&, CollCall&)>;
using CollReadFn = FunctionRef<Status(engine::ReadOps&, CollCall&)>;

// An error reply in Redis's words ("ERR ...", "WRONGTYPE ...").
Status CommandError(std::string_view text);

// Outside a block: one RunStoreTxn (kv/txn_engine_store.h) or one
// DB::RunRead over the key spec's keys. Inside MULTI/EXEC or a script
// (ctx.store.block()): the body runs on the block's Txn, and a failing
// write leaves nothing because RunInBlock rolls the command back.
// REQUIRES: ctx.spec is set (RunCommand does); the command has
// kCmdCollection and kCmdKeyspace. RunCollWrite serves the clients blocked
// on the keys the Txn made non-empty inside the Txn (kv/block_serve.h) and
// returns whether it committed.
bool RunCollWrite(CommandContext& ctx, const CollWriteFn& body);
void RunCollRead(CommandContext& ctx, const CollReadFn& body);

// RENAME, COPY: a keyspace write that may give a key a list, sorted set or
// stream without pushing to it (Redis's signalKeyAsReady on dbAdd). body
// runs on a TxnEngineStore, which notes such keys (filled()); body writes
// its reply into `out` and returns an engine error or CommandError to
// fail (nothing written). Outside a block: one RunStoreTxn declaring
// `keys`, which serves the clients blocked on those keys before it commits
// (the write and the pops are one durable Txn, and its stripes make a
// check-then-write body one step). Inside MULTI/EXEC or a script: the
// block's Txn, whose commit serves them. Returns whether body succeeded
// (and, outside a block, its Txn committed).
using StoreWriteFn = FunctionRef<Status(Store& store, ReplyWriter& out)>;
bool RunStoreWrite(CommandContext& ctx, std::vector<std::string> keys,
                   const StoreWriteFn& body);

// HDEL, SADD, SREM, ...: applies `op` to argv[1] (the key) with each of
// argv[2..], replying how many calls changed the key (and marking its
// WATCHers when any did).
using ElementOpFn = FunctionRef<Status(engine::Txn& txn, std::string_view key,
                                       std::string_view arg, bool* changed)>;
void RunCountingWrite(CommandContext& ctx, const ElementOpFn& op);

// A collection command's table entry; the flags get kCmdKeyspace and
// kCmdCollection. Keys: argv[first_key..last_key] (0: found by the
// command, e.g. after a numkeys argument).
struct CollCommand {
  std::string_view name;
  int arity;
  uint32_t flags;  // kCmdWrite or kCmdReadOnly, kCmdFast
  CommandFn fn;
  std::string_view summary;
  std::string_view since;
  int first_key = 1;
  int last_key = 1;
  int first_elem = 0;  // CommandSpec's
  int elem_step = 1;
  PopEnd pops = PopEnd::kNone;
};
void AddCollCommands(CommandTable* t, std::string_view group,
                     std::span<const CollCommand> commands);

// LMPOP / ZMPOP: numkeys key [key ...] <side> [COUNT count], where <side>
// is `first` (LEFT, MIN) or `second` (RIGHT, MAX), numkeys at argv[at]
// (BLMPOP, BZMPOP: 2). Replies Redis's error and returns false on bad
// arguments.
struct MpopArgs {
  std::span<const std::string_view> keys;
  bool first_side = true;
  int64_t count = 1;
};
bool ParseMpopArgs(CommandContext& ctx, std::string_view first,
                   std::string_view second, MpopArgs* a, size_t at = 1);

// The number of elements of `key` (0 when absent); WRONGTYPE when it holds
// another type than `type`.
StatusOr<uint64_t> CollSize(engine::ReadOps& ops, std::string_view key,
                            engine::KeyType type);

// LEFT / RIGHT (LMOVE, BLMOVE); false for anything else.
bool ParseEnd(std::string_view s, engine::End* end);

// Redis's "*N\r\n" + bulk strings of a collected list.
void ReplyBulkArray(ReplyWriter& out, const std::vector<std::string>& items);

// A reply of a whole collection written straight into the client's buffer
// (no copy of each element on the heap first), its header saying `n`
// items: Done() checks that the walk wrote that many, else the command
// fails (RunCollRead then cuts the reply back) rather than send a
// malformed reply.
class StreamedItems {
 public:
  explicit StreamedItems(uint64_t n) : expected_(n) {}
  void Count() { ++written_; }
  Status Done() const {
    return written_ == expected_
               ? OkStatus()
               : InternalError("a collection changed while it was listed");
  }

 private:
  const uint64_t expected_;
  uint64_t written_ = 0;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_COLL_RUN_H_
