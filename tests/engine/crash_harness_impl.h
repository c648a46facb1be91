// Implementation of tests/engine/crash_harness.h (header-only so that the
// engine_test glob of *_test.cc picks up nothing but tests). Include
// crash_harness.h, not this file.
#ifndef DAXKV_TESTS_ENGINE_CRASH_HARNESS_IMPL_H_
#define DAXKV_TESTS_ENGINE_CRASH_HARNESS_IMPL_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <utility>

#include "engine/borrowed_region.h"
#include "tests/engine/crash_harness.h"
#include "tests/support/env.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine::crash {

namespace internal {

inline std::optional<uint64_t> EnvU64(const char* name) {
  const char* v = ::daxkv::testing::Env(name);
  if (v == nullptr) return std::nullopt;
  return std::strtoull(v, nullptr, 10);
}

inline uint64_t Mix(uint64_t x) {
  x ^= x >> 31;
  x *= 0x7fb5d329728ea185ull;
  x ^= x >> 27;
  return x;
}

// How likely a non-durable line is to survive, by seed. Varying it reaches
// both "almost nothing survived" and "almost everything did". Seeds are
// point * 16 + i: the index mixes in the point, so that a run with two seeds
// per point still uses every probability (seed % 4 alone took only two).
inline double KeepProbability(uint64_t seed) {
  static constexpr double kKeep[] = {0.5, 0.9, 0.1, 0.5};
  return kKeep[(seed ^ (seed >> 4)) % 4];
}

// The crash model of an image, by seed: every keep probability, each with
// whole lines, 8-byte tearing, intermediate states, or both.
inline testing::SimRegion::CrashOptions CrashOptionsFor(uint64_t seed) {
  testing::SimRegion::CrashOptions o;
  o.keep_probability = KeepProbability(seed);
  const uint64_t mode = Mix(seed + 0x5bd1e995) % 4;
  o.tear_words = mode & 1;
  o.intermediate_states = mode & 2;
  return o;
}

inline uint64_t SeedFor(uint64_t point, int i) { return point * 16 + i; }

}  // namespace internal

inline CrashConfig CrashConfig::FromEnv() {
  CrashConfig c;
  const char* long_mode = std::getenv("DAXKV_CRASH_LONG");
  c.long_mode = long_mode != nullptr && std::string(long_mode) == "1";
  if (c.long_mode) c.seeds_per_point = 4;
  if (const char* s = std::getenv("DAXKV_CRASH_SCALE")) c.scale = std::atof(s);
  if (c.scale <= 0) c.scale = 1.0;
  c.only_point = internal::EnvU64("DAXKV_CRASH_POINT");
  c.only_seed = internal::EnvU64("DAXKV_CRASH_SEED");
  return c;
}

inline int CrashConfig::Ops(int n) const {
  double scaled = n * scale * (long_mode ? 4 : 1);
  return scaled < 1 ? 1 : static_cast<int>(scaled);
}

inline std::string MakeValue(const std::string& key, uint64_t op, size_t len) {
  std::string v = key + "@" + std::to_string(op) + ":";
  uint64_t x = std::hash<std::string>()(key) * 0x9e3779b97f4a7c15ull + op;
  while (v.size() < len) {
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    v.push_back(static_cast<char>('!' + (x >> 40) % 90));
  }
  v.resize(len);
  return v;
}

inline CrashHarness::CrashHarness(const HarnessOptions& options,
                                  const CrashConfig& config)
    : options_(options), config_(config) {}

inline CrashHarness::~CrashHarness() {
  capturing_ = false;
  db_.reset();
}

inline Options CrashHarness::DbOptions() const {
  Options o;
  o.segment_size = options_.segment_size;
  o.recovery_threads = 1;
  o.background_compaction = false;
  o.background_expiry = false;
  o.clock = &clock_;
  o.packed_set_max = options_.packed_set_max;
  return o;
}

inline void CrashHarness::Open(bool check_format) {
  size_t size = 8192 + options_.segments * options_.segment_size;
  region_ = std::make_unique<testing::SimRegion>(size);
  region_->SetStoreHistory(!config_.keep_probability);
  region_->SetPersistHook([this](uint64_t point) { OnPersistPoint(point); });
  in_flight_ = "format";
  before_ = after_ = model_;
  capturing_ = check_format;
  auto db = DB::Open(std::make_unique<BorrowedRegion>(*region_), DbOptions());
  capturing_ = false;
  ASSERT_OK(db);
  db_ = std::move(db).value();
}

inline void CrashHarness::Reopen() {
  in_flight_ = "close+reopen";
  before_ = after_ = model_;
  capturing_ = true;
  db_.reset();
  auto db = DB::Open(std::make_unique<BorrowedRegion>(*region_), DbOptions());
  capturing_ = false;
  ASSERT_OK(db);
  db_ = std::move(db).value();
  std::string diff = CompareState(db_.get(), model_);
  EXPECT_EQ(diff, "") << "[" << options_.workload << "] after clean reopen";
}

inline Status CrashHarness::Step(const std::string& what,
                                 const std::function<Status(DB*)>& op,
                                 const std::function<void(Model*)>& apply,
                                 bool atomic) {
  in_flight_ = what;
  atomic_ = atomic;
  before_ = model_;
  after_ = model_;
  apply(&after_);
  for (const auto& [key, entry] : after_) keys_.insert(key);
  matched_after_only_ = false;
  capturing_ = true;
  Status s = op(db_.get());
  capturing_ = false;
  if (s.ok()) {
    model_ = after_;
  } else if (matched_after_only_) {
    ++failures_;
    ADD_FAILURE() << "[" << options_.workload << "] op '" << what
                  << "' failed (" << s.ToString()
                  << ") but a crash image during it recovered its effect";
  }
  return s;
}

inline uint64_t CrashHarness::region_persist_points() const {
  return region_ ? region_->persist_points() : 0;
}

inline void CrashHarness::OnPersistPoint(uint64_t point) {
  if (!capturing_) return;
  ++points_;
  if (config_.only_point && point != *config_.only_point) return;
  for (int i = 0; i < config_.seeds_per_point; ++i) {
    uint64_t seed = internal::SeedFor(point, i);
    if (config_.only_seed && seed != *config_.only_seed) continue;
    testing::SimRegion::CrashOptions crash = internal::CrashOptionsFor(seed);
    if (config_.keep_probability) {  // a pinned image of the old model
      crash = {};
      crash.keep_probability = *config_.keep_probability;
    }
    std::vector<char> image = region_->CrashImage(seed, crash);
    ++mode_images_[crash.tear_words + 2 * crash.intermediate_states];
    ++images_checked_;
    // Chosen by the seed alone, so DAXKV_CRASH_POINT/SEED reproduce it.
    bool deep = internal::Mix(seed) % config_.deep_check_every == 0;
    std::string violation = CheckImage(image, seed, deep);
    if (violation.empty()) continue;
    if (++failures_ > 10) continue;  // enough to debug; keep the log short
    ADD_FAILURE()
        << "[" << options_.workload << "] crash point " << point << " seed "
        << seed << " during '" << in_flight_ << "': " << violation
        << "\n  reproduce: DAXKV_CRASH_POINT=" << point
        << " DAXKV_CRASH_SEED=" << seed << " engine_test --gtest_filter="
        << ::testing::UnitTest::GetInstance()
               ->current_test_info()
               ->test_suite_name()
        << "."
        << ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
}

inline std::string CrashHarness::CheckImage(const std::vector<char>& image,
                                            uint64_t seed, bool deep) {
  testing::SimRegion recovered(image);
  auto db = DB::Open(std::make_unique<BorrowedRegion>(recovered), DbOptions());
  if (!db.ok()) return "open after crash failed: " + db.status().ToString();
  if (!atomic_) {
    std::string diff = CompareState(db->get(), before_, &after_);
    return diff.empty() ? ""
                        : "a key holds neither its value before nor "
                          "after the group: " +
                              diff;
  }
  std::string vs_before = CompareState(db->get(), before_);
  std::string vs_after =
      vs_before.empty() ? vs_before : CompareState(db->get(), after_);
  if (!vs_before.empty() && !vs_after.empty()) {
    return "state matches neither before nor after the op: vs before: " +
           vs_before + "; vs after: " + vs_after;
  }
  const bool is_after = !vs_before.empty();
  if (is_after && before_ != after_) matched_after_only_ = true;
  if (!deep) return "";
  const Model& matched = is_after ? after_ : before_;
  return DeepCheck(std::move(db).value(), recovered, matched, seed);
}

// On a recovered pool: a write works and survives the next crash, and a
// crash in the middle of recovery itself recovers to the same state.
inline std::string CrashHarness::DeepCheck(std::unique_ptr<DB> db,
                                           testing::SimRegion& recovered,
                                           const Model& matched,
                                           uint64_t seed) {
  Model probed = matched;
  std::string key = "probe-key";
  std::string value = MakeValue(key, seed, 40);
  Status s = db->Put(key, value);
  if (!s.ok()) return "probe Put after recovery failed: " + s.ToString();
  probed[key] = {value, 0};
  std::vector<char> after_probe = recovered.CrashImage(seed);
  db.reset();
  testing::SimRegion again(after_probe);
  // Crash the recovery at one of its persist points, then recover that.
  uint64_t recovery_points = 0;
  {
    testing::SimRegion trial(after_probe);
    auto trial_db =
        DB::Open(std::make_unique<BorrowedRegion>(trial), DbOptions());
    if (!trial_db.ok()) {
      return "reopen after probe failed: " + trial_db.status().ToString();
    }
    recovery_points = trial.persist_points();
    std::string diff = CompareState(trial_db->get(), probed);
    if (!diff.empty()) return "after probe write and crash: " + diff;
  }
  if (recovery_points == 0) return "";
  again.CaptureAt(1 + seed % recovery_points, seed);
  {
    auto db2 = DB::Open(std::make_unique<BorrowedRegion>(again), DbOptions());
    if (!db2.ok()) return "recovery (2) failed: " + db2.status().ToString();
  }
  std::vector<char> mid_recovery = again.TakeCapturedImage();
  if (mid_recovery.empty()) return "";  // point not reached
  testing::SimRegion third(mid_recovery);
  auto db3 = DB::Open(std::make_unique<BorrowedRegion>(third), DbOptions());
  if (!db3.ok()) {
    return "open after a crash during recovery failed: " +
           db3.status().ToString();
  }
  std::string diff = CompareState(db3->get(), probed);
  return diff.empty() ? "" : "after a crash during recovery: " + diff;
}

namespace internal {

// "" when `got` is what `expect` (null = absent) shows at time `now`.
inline std::string KeyMismatch(const std::string& key,
                               const StatusOr<ReadResult>& got,
                               const ModelEntry* expect, int64_t now) {
  bool live = expect != nullptr &&
              (expect->expire_at_ms == 0 || expect->expire_at_ms > now);
  if (!got.ok() && got.status().code() != StatusCode::kNotFound) {
    return "Get('" + key + "'): " + got.status().ToString();
  }
  if (!live) {
    return got.ok() ? "key '" + key + "' should be absent but reads '" +
                          got->value.substr(0, 40) + "'"
                    : "";
  }
  if (!got.ok()) return "key '" + key + "' missing";
  if (got->value != expect->value) {
    return "key '" + key + "' reads a wrong value (" +
           std::to_string(got->value.size()) + " bytes, '" +
           got->value.substr(0, 24) + "...', expected '" +
           expect->value.substr(0, 24) + "...')";
  }
  if (got->expire_at_ms != expect->expire_at_ms) {
    return "key '" + key + "' has expiry " + std::to_string(got->expire_at_ms) +
           ", expected " + std::to_string(expect->expire_at_ms);
  }
  return "";
}

inline const ModelEntry* Find(const Model& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

}  // namespace internal

inline std::string CrashHarness::CompareState(DB* db, const Model& expect,
                                              const Model* alt) const {
  const int64_t now = clock_.NowMs();
  uint64_t found = 0;
  std::set<std::string> keys = keys_;
  for (const auto& [key, entry] : expect) keys.insert(key);
  for (const std::string& key : keys) {
    const bool system = !options_.system_prefix.empty() &&
                        key.starts_with(options_.system_prefix);
    StatusOr<ReadResult> got = NotFoundError("");
    if (system) {
      auto v = db->GetSystem(key);
      got = v.ok() ? StatusOr<ReadResult>(ReadResult{*v, 0, 0})
                   : StatusOr<ReadResult>(v.status());
    } else {
      got = options_.read ? options_.read(db, key) : db->Get(key);
      found += got.ok();
    }
    std::string diff =
        internal::KeyMismatch(key, got, internal::Find(expect, key), now);
    if (!diff.empty() && alt != nullptr &&
        internal::KeyMismatch(key, got, internal::Find(*alt, key), now)
            .empty()) {
      diff.clear();
    }
    if (!diff.empty()) return diff;
  }
  uint64_t count = db->Count();
  if (count != found) {
    return "Count() = " + std::to_string(count) + " but " +
           std::to_string(found) + " keys read back";
  }
  return "";
}

}  // namespace daxkv::engine::crash

#endif  // DAXKV_TESTS_ENGINE_CRASH_HARNESS_IMPL_H_
