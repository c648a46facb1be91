#include "kv/command_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "base/cycle_clock.h"
#include "kv/duration_histogram.h"
#include "kv/numbers.h"

namespace daxkv::kv {

CommandStats::CommandStats(size_t commands)
    : commands_(commands), ns_per_tick_(1000.0 / CycleClock::TicksPerMicro()) {
  for (Slot& s : slots_) s.commands = std::make_unique<Counters[]>(commands);
}

std::atomic<uint64_t>* CommandStats::Buckets(Counters& c) {
  std::atomic<uint64_t>* b = c.hist.load(std::memory_order_acquire);
  if (b != nullptr) return b;
  auto* fresh = new std::atomic<uint64_t>[duration_histogram::kBuckets]();
  if (c.hist.compare_exchange_strong(b, fresh, std::memory_order_acq_rel)) {
    return fresh;
  }
  delete[] fresh;  // another thread of this slot's won (slots are shared)
  return b;
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
  if (tracking()) {
    const auto ns =
        static_cast<uint64_t>(static_cast<double>(ticks) * ns_per_tick_);
    Buckets(c)[duration_histogram::BucketOf(ns)].fetch_add(
        1, std::memory_order_relaxed);
  }
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

std::vector<uint64_t> CommandStats::Histogram(size_t index) const {
  std::vector<uint64_t> out;
  if (index >= commands_) return out;
  for (const Slot& s : slots_) {
    const std::atomic<uint64_t>* b =
        s.commands[index].hist.load(std::memory_order_acquire);
    if (b == nullptr) continue;
    out.resize(duration_histogram::kBuckets);
    for (size_t i = 0; i < out.size(); ++i) {
      out[i] += b[i].load(std::memory_order_relaxed);
    }
  }
  return out;
}

std::vector<double> CommandStats::percentiles() const {
  MutexLock l(&percentiles_mu_);
  return percentiles_;
}

std::string CommandStats::PercentilesText() const {
  std::string out;
  for (double p : percentiles()) {
    if (!out.empty()) out += ' ';
    out += FormatFixedTrimmed(p);
  }
  return out;
}

std::string CommandStats::SetPercentiles(std::string_view text) {
  std::vector<double> parsed;
  size_t pos = 0;
  while (!text.empty() && pos <= text.size()) {
    const size_t sp = std::min(text.find(' ', pos), text.size());
    const std::string word(text.substr(pos, sp - pos));
    char* end = nullptr;
    const double p = std::strtod(word.c_str(), &end);
    if (word.empty() || end != word.c_str() + word.size() || std::isnan(p)) {
      return "Invalid latency-tracking-info-percentiles parameters";
    }
    if (p < 0 || p > 100) {
      return "latency-tracking-info-percentiles parameters should sit "
             "between [0.0,100.0]";
    }
    parsed.push_back(p);
    pos = sp + 1;
  }
  MutexLock l(&percentiles_mu_);
  percentiles_ = std::move(parsed);
  return "";
}

void CommandStats::Reset() {
  for (Slot& s : slots_) {
    for (size_t i = 0; i < commands_; ++i) {
      Counters& c = s.commands[i];
      c.calls.store(0, std::memory_order_relaxed);
      c.ticks.store(0, std::memory_order_relaxed);
      c.rejected.store(0, std::memory_order_relaxed);
      c.failed.store(0, std::memory_order_relaxed);
      if (std::atomic<uint64_t>* b = c.hist.load(std::memory_order_acquire)) {
        for (size_t j = 0; j < duration_histogram::kBuckets; ++j) {
          b[j].store(0, std::memory_order_relaxed);
        }
      }
    }
  }
  error_replies_.store(0, std::memory_order_relaxed);
  MutexLock l(&errors_mu_);
  errors_.clear();
}

}  // namespace daxkv::kv
