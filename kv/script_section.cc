#include "kv/script_section.h"

#include "kv/repl_effects.h"

namespace daxkv::kv {
namespace {

thread_local ExclusiveHold* kept_hold = nullptr;

}  // namespace

void SetKeptExclusiveHold(ExclusiveHold* hold) { kept_hold = hold; }

bool HoldsKeptExclusive() {
  return kept_hold != nullptr && kept_hold->owns_lock();
}

void ReleaseKeptExclusive(Client& client) {
  if (!HoldsKeptExclusive()) return;
  kept_hold->unlock();
  if (client.round_lock != nullptr) client.round_lock->lock();
}

ScriptSection::ScriptSection(CommandContext& ctx) : ctx_(ctx) {
  if (kept_hold == nullptr || ctx.client.round_lock == nullptr) {
    plain_.emplace(ctx);
    return;
  }
  // As ExclusiveSection: the replication order mutex is released for the
  // section (its effects are appended at its end, while no command runs).
  std::unique_lock<Mutex>* order = ctx.client.repl_order;
  relock_order_ = order != nullptr && order->owns_lock();
  if (relock_order_) order->unlock();
  if (kept_hold->owns_lock()) return;  // kept since the last script
  if (ctx.client.round_lock->owns_lock()) ctx.client.round_lock->unlock();
  kept_hold->lock();
}

ScriptSection::~ScriptSection() {
  if (plain_) return;  // ~ExclusiveSection does it all
  PublishEffects(ctx_.server, ctx_.client);
  // The exclusive hold stays: ReleaseKeptExclusive or the round's end.
  // The order mutex is always taken after the exec lock, so taking it
  // under the exclusive hold waits for no one.
  if (relock_order_) ctx_.client.repl_order->lock();
}

}  // namespace daxkv::kv
