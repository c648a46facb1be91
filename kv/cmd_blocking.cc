// The blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
// BZPOPMAX, BZMPOP (Redis 7.0; docs/collections.md §8). Each is one Txn:
// it serves itself from the first non-empty key in argument order, or,
// finding every key empty, registers its Waiter while the Txn still holds
// the keys' stripes (kv/block_registry.h), so a push on another thread
// either came before the check or sees the waiter. Inside MULTI or a
// script it never blocks: an empty key answers as the non-blocking form.
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "kv/block_registry.h"
#include "kv/block_serve.h"
#include "kv/coll_run.h"
#include "kv/command.h"
#include "kv/numbers.h"

namespace daxkv::kv {
namespace {

using engine::End;
using engine::KeyType;
using engine::Txn;

// Redis 7.0's getTimeoutFromObjectOrReply in seconds: *deadline_ms is 0
// for "forever", else an absolute time. The float is truncated to ms, and
// a value out of the long long range converts as x86 does (LLONG_MIN:
// "negative").
bool ParseTimeout(CommandContext& ctx, std::string_view arg,
                  int64_t* deadline_ms) {
  long double seconds = 0;
  if (!ParseLongDouble(arg, &seconds)) {
    ctx.out.Error("ERR timeout is not a float or out of range");
    return false;
  }
  const long double ms = seconds * 1000.0L;
  constexpr long double kLimit = 9223372036854775808.0L;  // 2^63
  int64_t tval = std::numeric_limits<int64_t>::min();
  if (ms > -kLimit && ms < kLimit) tval = static_cast<int64_t>(ms);
  if (tval < 0) {
    ctx.out.Error("ERR timeout is negative");
    return false;
  }
  // Redis 7.0.15 has no "timeout is out of range" check (7.2 added it):
  // its deadline overflows and the client waits forever, as here.
  const int64_t now = ctx.server.NowMs();
  if (tval > std::numeric_limits<int64_t>::max() - now) tval = 0;
  *deadline_ms = tval > 0 ? tval + now : 0;
  return true;
}

// Runs a blocking command whose keys are `keys` (checked in order).
void RunBlocking(CommandContext& ctx, std::span<const std::string_view> keys,
                 const BlockOp& op, int64_t deadline_ms) {
  std::shared_ptr<Waiter> waiter;
  const bool ok = RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    // A re-run (restart) after registering keeps the registration: the
    // waiter was queued before the stripes were let go, so every push
    // since has seen it.
    if (waiter != nullptr) return OkStatus();
    for (std::string_view key : keys) {
      DAXKV_ASSIGN_OR_RETURN(uint64_t n, CollSize(txn, key, op.type));
      if (n == 0) continue;
      std::vector<std::string> modified;
      DAXKV_RETURN_IF_ERROR(RunBlockOp(txn, key, op, call.out, &modified));
      for (const std::string& m : modified) call.Modified(m);
      return OkStatus();
    }
    if (ctx.in_exec) {  // Redis's CLIENT_DENY_BLOCKING: the plain form
      op.cmd == BlockOp::Cmd::kMove ? call.out.Null() : call.out.NullArray();
      return OkStatus();
    }
    std::vector<std::string> names(keys.begin(), keys.end());
    waiter = std::make_shared<Waiter>(ctx.client.id, std::move(names), op,
                                      ctx.out.resp(), deadline_ms,
                                      ctx.client.unblock_notify);
    ctx.server.blocked().Block(waiter);
    return OkStatus();
  });
  SettleBlocking(ctx, ok, std::move(waiter));
}

// BLPOP/BRPOP key [key ...] timeout; BZPOPMIN/BZPOPMAX likewise.
void BlockingPopCommand(CommandContext& ctx, const BlockOp& op) {
  int64_t deadline = 0;
  if (!ParseTimeout(ctx, ctx.argv.back(), &deadline)) return;
  RunBlocking(ctx, ctx.argv.subspan(1, ctx.argv.size() - 2), op, deadline);
}

BlockOp PopOp(KeyType type, End from, bool max) {
  BlockOp op;
  op.cmd = type == KeyType::kList ? BlockOp::Cmd::kPop : BlockOp::Cmd::kZPop;
  op.type = type;
  op.from = from;
  op.max = max;
  return op;
}

void BLPopCommand(CommandContext& ctx) {
  BlockingPopCommand(ctx, PopOp(KeyType::kList, End::kFront, false));
}
void BRPopCommand(CommandContext& ctx) {
  BlockingPopCommand(ctx, PopOp(KeyType::kList, End::kBack, false));
}
void BZPopMinCommand(CommandContext& ctx) {
  BlockingPopCommand(ctx, PopOp(KeyType::kZset, End::kFront, false));
}
void BZPopMaxCommand(CommandContext& ctx) {
  BlockingPopCommand(ctx, PopOp(KeyType::kZset, End::kFront, true));
}

void MoveCommand(CommandContext& ctx, End from, End to,
                 std::string_view timeout) {
  int64_t deadline = 0;
  if (!ParseTimeout(ctx, timeout, &deadline)) return;
  BlockOp op;
  op.cmd = BlockOp::Cmd::kMove;
  op.from = from;
  op.to = to;
  op.dst = std::string(ctx.argv[2]);
  RunBlocking(ctx, ctx.argv.subspan(1, 1), op, deadline);
}

// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
void BLMoveCommand(CommandContext& ctx) {
  End from, to;
  if (!ParseEnd(ctx.argv[3], &from) || !ParseEnd(ctx.argv[4], &to)) {
    return ReplySyntaxError(ctx);
  }
  MoveCommand(ctx, from, to, ctx.argv[5]);
}

// BRPOPLPUSH source destination timeout
void BRPopLPushCommand(CommandContext& ctx) {
  MoveCommand(ctx, End::kBack, End::kFront, ctx.argv[3]);
}

// BLMPOP/BZMPOP timeout numkeys key [key ...] <side> [COUNT count]: the
// arguments are checked before the timeout, as Redis does.
void BlockingMpop(CommandContext& ctx, KeyType type) {
  const bool list = type == KeyType::kList;
  MpopArgs a;
  if (!ParseMpopArgs(ctx, list ? "left" : "min", list ? "right" : "max", &a,
                     2)) {
    return;
  }
  int64_t deadline = 0;
  if (!ParseTimeout(ctx, ctx.argv[1], &deadline)) return;
  BlockOp op =
      PopOp(type, a.first_side ? End::kFront : End::kBack, !a.first_side);
  op.cmd = BlockOp::Cmd::kMpop;
  op.count = a.count;
  RunBlocking(ctx, a.keys, op, deadline);
}

void BLMPopCommand(CommandContext& ctx) { BlockingMpop(ctx, KeyType::kList); }
void BZMPopCommand(CommandContext& ctx) { BlockingMpop(ctx, KeyType::kZset); }

}  // namespace

void RegisterBlockingCommands(CommandTable* t) {
  constexpr uint32_t kW = kCmdWrite;
  static constexpr CollCommand kListCommands[] = {
      {"blpop", -3, kW, BLPopCommand,
       "Remove and get the first element in a list, or block until one is "
       "available",
       "2.0.0", 1, -2},
      {"brpop", -3, kW, BRPopCommand,
       "Remove and get the last element in a list, or block until one is "
       "available",
       "2.0.0", 1, -2},
      {"blmove", 6, kW, BLMoveCommand,
       "Pop an element from a list, push it to another list and return it; "
       "or block until one is available",
       "6.2.0", 1, 2},
      {"brpoplpush", 4, kW, BRPopLPushCommand,
       "Pop an element from a list, push it to another list and return it; "
       "or block until one is available",
       "2.2.0", 1, 2},
      // Keys follow numkeys: the Txn locks them on first use.
      {"blmpop", -5, kW, BLMPopCommand,
       "Pop elements from a list, or block until one is available", "7.0.0", 0,
       0},
  };
  AddCollCommands(t, "list", kListCommands);
  static constexpr CollCommand kZsetCommands[] = {
      {"bzpopmin", -3, kW, BZPopMinCommand,
       "Remove and return the member with the lowest score from one or more "
       "sorted sets, or block until one is available",
       "5.0.0", 1, -2},
      {"bzpopmax", -3, kW, BZPopMaxCommand,
       "Remove and return the member with the highest score from one or more "
       "sorted sets, or block until one is available",
       "5.0.0", 1, -2},
      {"bzmpop", -5, kW, BZMPopCommand,
       "Remove and return members with scores in a sorted set or block until "
       "one is available",
       "7.0.0", 0, 0},
  };
  AddCollCommands(t, "sorted-set", kZsetCommands);
}

}  // namespace daxkv::kv
