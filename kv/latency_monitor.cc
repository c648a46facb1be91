#include "kv/latency_monitor.h"

#include <algorithm>

namespace daxkv::kv {

void LatencyMonitor::MaybeAdd(std::string_view event, uint64_t ms,
                              int64_t now_s) {
  const int64_t threshold = threshold_ms();
  if (threshold <= 0 || ms < static_cast<uint64_t>(threshold)) return;
  MutexLock l(&mu_);
  auto it = events_.find(event);
  if (it == events_.end())
    it = events_.emplace(std::string(event), Series{}).first;
  Series& s = it->second;
  s.max_ms = std::max(s.max_ms, ms);
  if (s.count > 0) {  // one sample per second: the worst of that second
    Sample& prev = s.ring[(s.next + kSamples - 1) % kSamples];
    if (prev.unix_s == now_s) {
      prev.ms = std::max(prev.ms, ms);
      return;
    }
  }
  s.ring[s.next] = Sample{now_s, ms};
  s.next = (s.next + 1) % kSamples;
  s.count = std::min(s.count + 1, kSamples);
}

std::vector<LatencyMonitor::Sample> LatencyMonitor::Ordered(const Series& s) {
  std::vector<Sample> out;
  out.reserve(s.count);
  for (size_t i = 0; i < s.count; ++i) {
    out.push_back(s.ring[(s.next + kSamples - s.count + i) % kSamples]);
  }
  return out;
}

std::vector<LatencyMonitor::Latest> LatencyMonitor::LatestSamples() const {
  MutexLock l(&mu_);
  std::vector<Latest> out;
  for (const auto& [name, s] : events_) {
    out.push_back({name, s.ring[(s.next + kSamples - 1) % kSamples], s.max_ms});
  }
  return out;
}

std::vector<LatencyMonitor::Sample> LatencyMonitor::History(
    std::string_view event) const {
  MutexLock l(&mu_);
  auto it = events_.find(event);
  return it == events_.end() ? std::vector<Sample>{} : Ordered(it->second);
}

std::optional<uint64_t> LatencyMonitor::Max(std::string_view event) const {
  MutexLock l(&mu_);
  auto it = events_.find(event);
  if (it == events_.end()) return std::nullopt;
  return it->second.max_ms;
}

size_t LatencyMonitor::Reset(const std::vector<std::string>& events) {
  MutexLock l(&mu_);
  if (events.empty()) {
    const size_t n = events_.size();
    events_.clear();
    return n;
  }
  size_t n = 0;
  for (const std::string& e : events) n += events_.erase(e);
  return n;
}

}  // namespace daxkv::kv
