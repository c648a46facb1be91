#include "kv/command_stats.h"

#include "base/cycle_clock.h"

namespace daxkv::kv {

CommandStats::CommandStats(size_t commands) : commands_(commands) {
  for (Slot& s : slots_) s.commands = std::make_unique<Counters[]>(commands);
}

CommandStats::Counters& CommandStats::Mine(size_t index) {
  static std::atomic<int> next_slot{0};
  thread_local const int slot = next_slot.fetch_add(1) % kSlots;
  return slots_[slot].commands[index];
}

void CommandStats::Record(size_t index, uint64_t ticks, bool failed) {
  if (index >= commands_) return;
  Counters& c = Mine(index);
  c.calls.fetch_add(1, std::memory_order_relaxed);
  c.ticks.fetch_add(ticks, std::memory_order_relaxed);
  if (failed) c.failed.fetch_add(1, std::memory_order_relaxed);
}

void CommandStats::Rejected(size_t index) {
  if (index >= commands_) return;
  Mine(index).rejected.fetch_add(1, std::memory_order_relaxed);
}

// Redis's afterErrorReply: the code is the first word when a space ends it
// within the first 32 bytes of the reply ("-" included); otherwise "ERR".
void CommandStats::CountError(std::string_view text) {
  error_replies_.fetch_add(1, std::memory_order_relaxed);
  std::string_view code = "ERR";
  const size_t space = text.substr(0, 31).find(' ');
  if (space != std::string_view::npos) code = text.substr(0, space);
  MutexLock l(&errors_mu_);
  auto it = errors_.find(std::string(code));
  if (it != errors_.end()) {
    ++it->second;
  } else if (errors_.size() < kMaxErrorCodes) {
    errors_.emplace(code, 1);
  }
}

CommandStats::Totals CommandStats::Get(size_t index) const {
  Totals t;
  if (index >= commands_) return t;
  uint64_t ticks = 0;
  for (const Slot& s : slots_) {
    const Counters& c = s.commands[index];
    t.calls += c.calls.load(std::memory_order_relaxed);
    ticks += c.ticks.load(std::memory_order_relaxed);
    t.rejected += c.rejected.load(std::memory_order_relaxed);
    t.failed += c.failed.load(std::memory_order_relaxed);
  }
  t.usec = CycleClock::ToMicros(ticks);
  return t;
}

uint64_t CommandStats::total_error_replies() const {
  return error_replies_.load(std::memory_order_relaxed);
}

std::map<std::string, uint64_t> CommandStats::ErrorCounts() const {
  MutexLock l(&errors_mu_);
  return errors_;
}

void CommandStats::Reset() {
  for (Slot& s : slots_) {
    for (size_t i = 0; i < commands_; ++i) {
      Counters& c = s.commands[i];
      c.calls.store(0, std::memory_order_relaxed);
      c.ticks.store(0, std::memory_order_relaxed);
      c.rejected.store(0, std::memory_order_relaxed);
      c.failed.store(0, std::memory_order_relaxed);
    }
  }
  error_replies_.store(0, std::memory_order_relaxed);
  MutexLock l(&errors_mu_);
  errors_.clear();
}

}  // namespace daxkv::kv
