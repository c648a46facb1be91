// ScriptSection: the exclusive exec-lock hold a script (EVAL*, FCALL*)
// runs under, as ExclusiveSection (kv/command.h), but kept by the I/O
// thread once the script is done: when the next command the thread runs in
// the same round is a script again, it runs under the same hold, without
// another hand-off of the lock between the I/O threads (each one costs a
// futex wake-up and a context switch, and the other threads wait for this
// round anyway). ExecuteCommand trades the kept hold back for the shared
// round hold before any other command (ReleaseKeptExclusive), and the
// I/O thread releases it at the end of its round. Isolation only grows:
// the exclusive hold lasts longer, never shorter, and nothing but
// scripts ever runs under a kept one.
//
// Threads without a kept hold (the replication link, tests) get exactly
// ExclusiveSection.
//
// Thread-safety: all state is the calling thread's own.
#ifndef DAXKV_KV_SCRIPT_SECTION_H_
#define DAXKV_KV_SCRIPT_SECTION_H_

#include <mutex>
#include <optional>
#include <shared_mutex>

#include "kv/client.h"
#include "kv/command.h"

namespace daxkv::kv {

using ExclusiveHold = std::unique_lock<std::shared_timed_mutex>;

// Makes `hold` (deferred, on the server's exec lock) the calling thread's
// kept hold; null to stop. Called by an I/O thread when it starts.
void SetKeptExclusiveHold(ExclusiveHold* hold);

// Whether the calling thread holds a kept exclusive hold now.
bool HoldsKeptExclusive();

// Trades a kept exclusive hold back for `client`'s shared round hold.
// No-op when the thread holds none.
void ReleaseKeptExclusive(Client& client);

// REQUIRES: not inside a section (ctx.in_exec is false).
class ScriptSection {
 public:
  explicit ScriptSection(CommandContext& ctx);
  ~ScriptSection();
  ScriptSection(const ScriptSection&) = delete;
  ScriptSection& operator=(const ScriptSection&) = delete;

 private:
  CommandContext& ctx_;
  std::optional<ExclusiveSection> plain_;  // no kept hold on this thread
  bool relock_order_ = false;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_SCRIPT_SECTION_H_
