#include "kv/coll_run.h"

#include <string>
#include <vector>

#include "kv/block_serve.h"
#include "kv/txn_engine_store.h"

namespace daxkv::kv {
namespace {

// Marks a command's own error replies apart from engine failures.
constexpr std::string_view kReplyTag = "kv-reply:";

void ReplyFailure(CommandContext& ctx, const Status& s) {
  std::string_view msg = s.message();
  if (s.code() == StatusCode::kFailedPrecondition &&
      msg.substr(0, kReplyTag.size()) == kReplyTag) {
    ctx.out.Error(msg.substr(kReplyTag.size()));
  } else {
    ReplyEngineError(ctx, s);
  }
}

std::vector<std::string> DeclaredKeys(const CommandContext& ctx) {
  std::vector<std::string> keys;
  ForEachCommandKey(*ctx.spec, ctx.argv,
                    [&](std::string_view k) { keys.emplace_back(k); });
  return keys;
}

// Runs body with its reply written straight into ctx.out's buffer, which
// is cut back to where it was when body fails (whose failure is replied
// instead): no scratch string per command.
void RunBody(CommandContext& ctx, FunctionRef<Status(CollCall&)> body) {
  std::string* buffer = ctx.out.buffer();
  const size_t mark = buffer->size();
  CollCall call(ctx.out);
  Status s = body(call);
  if (!s.ok()) {
    buffer->resize(mark);
    ReplyFailure(ctx, s);
  }
}

// One RunStoreTxn declaring `keys` that serves the clients blocked on what
// it filled before it commits. body writes its reply into ctx.out, cut back
// at each run (a restart) and when the Txn fails, whose failure is replied
// instead; nothing leaves before the round's Sync() anyway. Whether it
// committed.
bool RunServedTxn(CommandContext& ctx, std::vector<std::string> keys,
                  FunctionRef<Status(TxnEngineStore&, ReplyWriter&)> body) {
  std::string* buffer = ctx.out.buffer();
  const size_t mark = buffer->size();
  BlockedServer served(ctx.server);
  Status s = RunStoreTxn(ctx.server.db(), &ctx.server.watches(), &served,
                         std::move(keys), [&](TxnEngineStore& store) {
                           buffer->resize(mark);
                           return body(store, ctx.out);
                         });
  if (!s.ok()) {
    buffer->resize(mark);
    ReplyFailure(ctx, s);
    return false;
  }
  served.Committed(ctx.client);
  return true;
}

}  // namespace

void CollCall::Modified(std::string_view key) {
  if (store_ != nullptr) {
    store_->Touched(key);
  } else {
    modified_.emplace_back(key);
  }
}

void CollCall::Filled(std::string_view key) {
  if (store_ != nullptr) {
    store_->Filled(key);
  } else {
    filled_.emplace_back(key);
  }
}

Status CommandError(std::string_view text) {
  return FailedPreconditionError(std::string(kReplyTag) + std::string(text));
}

bool RunCollWrite(CommandContext& ctx, const CollWriteFn& body) {
  if (TxnEngineStore* block = ctx.store.block()) {
    // Inside MULTI/EXEC or a script: the block's Txn. A failure leaves
    // nothing of this command (RunInBlock rolls back to its savepoint);
    // EXEC or the script serves blocked clients once, before its commit.
    bool ok = false;
    RunBody(ctx, [&](CollCall& call) {
      DAXKV_RETURN_IF_ERROR(body(block->txn(), call));
      for (const std::string& key : call.modified()) block->Touched(key);
      for (const std::string& key : call.filled()) block->Filled(key);
      ok = true;
      return OkStatus();
    });
    return ok;
  }
  return RunServedTxn(ctx, DeclaredKeys(ctx),
                      [&body](TxnEngineStore& store, ReplyWriter& out) {
                        CollCall call(out, &store);
                        return body(store.txn(), call);
                      });
}

bool RunStoreWrite(CommandContext& ctx, std::vector<std::string> keys,
                   const StoreWriteFn& body) {
  if (TxnEngineStore* block = ctx.store.block()) {
    bool ok = false;
    RunBody(ctx, [&](CollCall& call) {
      DAXKV_RETURN_IF_ERROR(body(*block, call.out));
      ok = true;
      return OkStatus();
    });
    return ok;
  }
  return RunServedTxn(ctx, std::move(keys), body);
}

void RunCollRead(CommandContext& ctx, const CollReadFn& body) {
  if (TxnEngineStore* block = ctx.store.block()) {
    RunBody(ctx, [&](CollCall& call) { return body(block->txn(), call); });
    return;
  }
  std::vector<std::string> keys = DeclaredKeys(ctx);
  std::string* buffer = ctx.out.buffer();
  const size_t mark = buffer->size();
  Status s = ctx.server.db().RunRead(keys, [&](engine::ReadOps& view) {
    buffer->resize(mark);
    CollCall call(ctx.out);
    return body(view, call);
  });
  if (!s.ok()) {
    buffer->resize(mark);
    ReplyFailure(ctx, s);
  }
}

void RunCountingWrite(CommandContext& ctx, const ElementOpFn& op) {
  RunCollWrite(ctx, [&](engine::Txn& txn, CollCall& call) {
    int64_t changed_count = 0;
    for (size_t i = 2; i < ctx.argv.size(); ++i) {
      bool changed = false;
      DAXKV_RETURN_IF_ERROR(op(txn, ctx.argv[1], ctx.argv[i], &changed));
      changed_count += changed ? 1 : 0;
    }
    if (changed_count > 0) call.Modified(ctx.argv[1]);
    call.out.Integer(changed_count);
    return OkStatus();
  });
}

StatusOr<uint64_t> CollSize(engine::ReadOps& ops, std::string_view key,
                            engine::KeyType type) {
  DAXKV_ASSIGN_OR_RETURN(engine::KeyInfo info, ops.Stat(key));
  if (info.type == engine::KeyType::kNone) return uint64_t{0};
  if (info.type != type) return engine::WrongTypeError();
  return info.size;
}

void AddCollCommands(CommandTable* t, std::string_view group,
                     std::span<const CollCommand> commands) {
  for (const CollCommand& c : commands) {
    t->Add({.name = c.name,
            .arity = c.arity,
            .flags = c.flags | kCmdKeyspace | kCmdCollection,
            .fn = c.fn,
            .first_key = c.first_key,
            .last_key = c.last_key,
            .step = c.first_key > 0 ? 1 : 0,
            .first_elem = c.first_elem,
            .elem_step = c.elem_step,
            .pops = c.pops,
            .group = group,
            .summary = c.summary,
            .since = c.since});
  }
}

bool ParseMpopArgs(CommandContext& ctx, std::string_view first,
                   std::string_view second, MpopArgs* a, size_t at) {
  int64_t numkeys = 0;
  if (!ParseInt64(ctx.argv[at], &numkeys) || numkeys <= 0) {
    ctx.out.Error("ERR numkeys should be greater than 0");
    return false;
  }
  const size_t where = at + 1 + static_cast<size_t>(numkeys);
  if (numkeys > static_cast<int64_t>(ctx.argv.size() - at) - 1 ||
      where >= ctx.argv.size() ||
      !(EqualsIgnoreCase(ctx.argv[where], first) ||
        EqualsIgnoreCase(ctx.argv[where], second))) {
    ReplySyntaxError(ctx);
    return false;
  }
  a->first_side = EqualsIgnoreCase(ctx.argv[where], first);
  a->keys = ctx.argv.subspan(at + 1, static_cast<size_t>(numkeys));
  bool counted = false;
  for (size_t j = where + 1; j < ctx.argv.size(); j += 2) {
    if (counted || !EqualsIgnoreCase(ctx.argv[j], "count") ||
        j + 1 >= ctx.argv.size()) {
      ReplySyntaxError(ctx);
      return false;
    }
    if (!ParseInt64(ctx.argv[j + 1], &a->count) || a->count <= 0) {
      ctx.out.Error("ERR count should be greater than 0");
      return false;
    }
    counted = true;
  }
  return true;
}

bool ParseEnd(std::string_view s, engine::End* end) {
  if (EqualsIgnoreCase(s, "left")) {
    *end = engine::End::kFront;
  } else if (EqualsIgnoreCase(s, "right")) {
    *end = engine::End::kBack;
  } else {
    return false;
  }
  return true;
}

void ReplyBulkArray(ReplyWriter& out, const std::vector<std::string>& items) {
  out.ArrayHeader(items.size());
  for (const std::string& item : items) out.Bulk(item);
}

}  // namespace daxkv::kv
