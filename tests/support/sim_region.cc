#include "tests/support/sim_region.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

namespace daxkv::testing {
namespace {

size_t RoundUpToLine(size_t n) {
  return (n + kSimLineSize - 1) / kSimLineSize * kSimLineSize;
}

// Reads bytes other threads may be storing to at this very moment: a power
// failure (or a cache write-back) races with stores the same way. Excluded
// from ThreadSanitizer on purpose, and copied through volatile so the
// compiler cannot turn it back into an (intercepted) memcpy.
#if defined(__clang__) || defined(__GNUC__)
__attribute__((no_sanitize("thread")))
#endif
void RacyCopy(char* dst, const char* src, size_t n) {
  // REQUIRES: src and dst 8-byte aligned, n a multiple of 8 (whole lines).
  const volatile uint64_t* s = reinterpret_cast<const uint64_t*>(src);
  uint64_t* d = reinterpret_cast<uint64_t*>(dst);
  for (size_t i = 0; i < n / sizeof(uint64_t); ++i) d[i] = s[i];
}

}  // namespace

SimRegion::SimRegion(size_t size, size_t capacity) { Init(size, capacity); }

SimRegion::SimRegion(const std::vector<char>& image, size_t capacity) {
  Init(image.size(), capacity);
  std::memcpy(buffer_, image.data(), image.size());
  std::memcpy(durable_.data(), image.data(), image.size());
}

SimRegion::~SimRegion() { std::free(buffer_); }

void SimRegion::Init(size_t size, size_t capacity) {
  size_ = RoundUpToLine(size == 0 ? kSimLineSize : size);
  capacity_ = RoundUpToLine(capacity < size_ ? size_ : capacity);
  size_t alloc_size = (capacity_ + 4095) / 4096 * 4096;
  buffer_ = static_cast<char*>(std::aligned_alloc(4096, alloc_size));
  std::memset(buffer_, 0, capacity_);
  durable_.assign(size_, 0);
  info_.path = "sim:" + std::to_string(size_);
  info_.kind = dax::BackingKind::kSimulated;
  info_.size = size_;
  info_.alignment = kSimLineSize;
  info_.granularity = dax::Granularity::kCacheLine;
  info_.persistence = "simulated cache-line flush + drain (crash simulator)";
}

void SimRegion::CheckRange(const void* addr, size_t len) const {
  const char* p = static_cast<const char*>(addr);
  if (p < buffer_ || p + len > buffer_ + size_) {
    std::fprintf(stderr, "SimRegion: range [%p, +%zu) outside [%p, +%zu)\n",
                 addr, len, static_cast<void*>(buffer_), size_);
    std::abort();
  }
}

void SimRegion::Flush(const void* addr, size_t len) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  FlushLocked(addr, len);
}

void SimRegion::FlushLocked(const void* addr, size_t len) {
  CheckRange(addr, len);
  ++flushes_;
  if (record_history_) SampleHistoryLocked();
  if (len == 0) return;
  size_t offset = static_cast<const char*>(addr) - buffer_;
  size_t first = offset / kSimLineSize;
  size_t last = (offset + len - 1) / kSimLineSize;
  std::vector<PendingLine>& pending = pending_[std::this_thread::get_id()];
  for (size_t line = first; line <= last; ++line) {
    PendingLine& p = pending.emplace_back();
    p.line = line;
    RacyCopy(p.bytes.data(), buffer_ + line * kSimLineSize, kSimLineSize);
  }
}

void SimRegion::Drain() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  DrainLocked();
}

void SimRegion::DrainLocked() {
  uint64_t point = ++persist_points_;
  if (record_history_) SampleHistoryLocked();
  if (hook_ && !in_hook_) {
    in_hook_ = true;
    hook_(point);
    in_hook_ = false;
  }
  if (capture_point_ == point) captured_ = CrashImage(capture_seed_);
  const bool fails = fail_first_ != 0 && point >= fail_first_ &&
                     point - fail_first_ < fail_count_;
  if (fails && persist_error_.ok()) {
    persist_error_ = IOError("simulated persist failure at persist point " +
                             std::to_string(point) + " of " + info_.path);
  }
  auto it = pending_.find(std::this_thread::get_id());
  if (it == pending_.end()) return;
  if (fails) {
    pending_.erase(it);  // the write-back failed: nothing became durable
    return;
  }
  for (const PendingLine& p : it->second) {
    std::memcpy(durable_.data() + p.line * kSimLineSize, p.bytes.data(),
                kSimLineSize);
    // Older sampled states of the line can no longer be what a crash
    // leaves: the medium holds this snapshot or a later store.
    history_.erase(p.line);
  }
  pending_.erase(it);
}

void SimRegion::SampleHistoryLocked() {
  constexpr size_t kBlock = 4096;
  for (size_t block = 0; block < size_; block += kBlock) {
    size_t n = std::min(kBlock, size_ - block);
    // Racy read, as a write-back racing a store would be.
    alignas(8) char copy[kBlock];
    RacyCopy(copy, buffer_ + block, n);
    if (std::memcmp(copy, durable_.data() + block, n) == 0) continue;
    for (size_t off = 0; off < n; off += kSimLineSize) {
      const char* cur = copy + off;
      if (std::memcmp(cur, durable_.data() + block + off, kSimLineSize) == 0) {
        continue;
      }
      std::vector<Line>& h = history_[(block + off) / kSimLineSize];
      if (!h.empty() && std::memcmp(h.back().data(), cur, kSimLineSize) == 0) {
        continue;
      }
      if (h.size() >= kMaxHistoryPerLine) h.erase(h.begin());
      std::memcpy(h.emplace_back().data(), cur, kSimLineSize);
    }
  }
}

void SimRegion::SetStoreHistory(bool on) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  record_history_ = on;
  if (!on) history_.clear();
}

void SimRegion::FailPersists(uint64_t first, uint64_t count) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  fail_first_ = first;
  fail_count_ = count;
}

Status SimRegion::PersistError() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return persist_error_;
}

void SimRegion::Persist(const void* addr, size_t len) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  FlushLocked(addr, len);
  DrainLocked();
}

void SimRegion::Copy(void* dst, const void* src, size_t len, unsigned flags) {
  CheckRange(dst, len);
  std::memcpy(dst, src, len);
  if (flags & dax::kMemNoFlush) return;  // implies no drain, as in libpmem2
  std::lock_guard<std::recursive_mutex> lock(mu_);
  FlushLocked(dst, len);
  if (!(flags & dax::kMemNoDrain)) DrainLocked();
}

void SimRegion::Set(void* dst, int c, size_t len, unsigned flags) {
  CheckRange(dst, len);
  std::memset(dst, c, len);
  if (flags & dax::kMemNoFlush) return;
  std::lock_guard<std::recursive_mutex> lock(mu_);
  FlushLocked(dst, len);
  if (!(flags & dax::kMemNoDrain)) DrainLocked();
}

Status SimRegion::DeepFlush(void* addr, size_t len) {
  Persist(addr, len);
  return OkStatus();
}

Status SimRegion::Grow(size_t new_size) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  size_t rounded = RoundUpToLine(new_size);
  if (rounded <= size_) return OkStatus();
  if (rounded > capacity_) {
    return NotSupportedError("SimRegion::Grow: " + std::to_string(new_size) +
                             " bytes exceeds the capacity of " +
                             std::to_string(capacity_) + " bytes");
  }
  size_ = rounded;
  info_.size = size_;
  durable_.resize(size_, 0);
  return OkStatus();
}

uint64_t SimRegion::persist_points() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return persist_points_;
}

uint64_t SimRegion::flushes() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return flushes_;
}

void SimRegion::SetPersistHook(PersistHook hook) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  hook_ = std::move(hook);
}

void SimRegion::CaptureAt(uint64_t point, uint64_t seed) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  capture_point_ = point;
  capture_seed_ = seed;
  captured_.clear();
}

std::vector<char> SimRegion::TakeCapturedImage() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return std::move(captured_);
}

SimRegion::LineVersions SimRegion::CollectVersionsLocked(
    const std::vector<char>& current, bool history) const {
  LineVersions versions;
  for (const auto& [thread, lines] : pending_) {
    for (const PendingLine& p : lines) {
      versions[p.line].push_back(p.bytes.data());
    }
  }
  if (history) {
    for (const auto& [line, states] : history_) {
      for (const Line& l : states) versions[line].push_back(l.data());
    }
  }
  const size_t lines = size_ / kSimLineSize;
  constexpr size_t kBlock = 4096;
  for (size_t block = 0; block < size_; block += kBlock) {
    size_t n = std::min(kBlock, size_ - block);
    if (std::memcmp(current.data() + block, durable_.data() + block, n) == 0) {
      continue;
    }
    for (size_t line = block / kSimLineSize;
         line < lines && line * kSimLineSize < block + n; ++line) {
      const char* now = current.data() + line * kSimLineSize;
      if (std::memcmp(now, durable_.data() + line * kSimLineSize,
                      kSimLineSize) != 0) {
        versions[line].push_back(now);
      }
    }
  }
  return versions;
}

std::vector<char> SimRegion::CrashImage(uint64_t seed,
                                        double keep_probability) const {
  CrashOptions o;
  o.keep_probability = keep_probability;
  return CrashImage(seed, o);
}

std::vector<char> SimRegion::CrashImage(uint64_t seed,
                                        const CrashOptions& o) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::vector<char> current(size_);
  RacyCopy(current.data(), buffer_, size_);
  LineVersions versions = CollectVersionsLocked(current, o.intermediate_states);
  std::vector<char> image = durable_;
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  constexpr size_t kWord = 8;
  for (const auto& [line, values] : versions) {
    // A fixed number of draws per line (or word) whatever the outcome, so
    // one line's fate does not shift the random stream of the lines after
    // it.
    const size_t units = o.tear_words ? kSimLineSize / kWord : 1;
    const size_t unit = kSimLineSize / units;
    for (size_t u = 0; u < units; ++u) {
      bool keep = coin(rng) < o.keep_probability;
      size_t pick =
          std::uniform_int_distribution<size_t>(0, values.size() - 1)(rng);
      if (keep) {
        std::memcpy(image.data() + line * kSimLineSize + u * unit,
                    values[pick] + u * unit, unit);
      }
    }
  }
  return image;
}

std::vector<char> SimRegion::DurableImage() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return durable_;
}

size_t SimRegion::NonDurableLines() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::vector<char> current(size_);
  RacyCopy(current.data(), buffer_, size_);
  size_t n = 0;
  for (const auto& [line, values] : CollectVersionsLocked(current)) {
    for (const char* v : values) {
      if (std::memcmp(v, durable_.data() + line * kSimLineSize, kSimLineSize) !=
          0) {
        ++n;
        break;
      }
    }
  }
  return n;
}

}  // namespace daxkv::testing
