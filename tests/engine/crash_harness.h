// Crash-point harness for the engine: runs a workload against a DB on a
// SimRegion, takes crash images at every persist point (several seeds
// each), recovers each image into a fresh DB and checks the durability
// contract of engine/db.h against a model:
//  - for each key, the value of the last write that returned, or - for the
//    operation in flight - the one it writes; never a torn or mixed value;
//  - no key comes back after a delete that returned;
//  - a batch is all or nothing: the whole state matches the model either
//    before or after the operation in flight;
//  - compaction and expiry reclamation change nothing visible.
// Each image's crash model follows from its seed (CrashOptionsFor): keep
// probability 0.5, 0.9, 0.1 or 0.5, with whole lines, torn 8-byte words,
// intermediate line states, or both; every run covers all of them.
//
// Environment:
//   DAXKV_CRASH_LONG=1      more operations and more seeds per point
//   DAXKV_CRASH_SCALE=0.1   scale the operation counts (TSan runs)
//   DAXKV_CRASH_POINT=N     only check crash point N (with DAXKV_CRASH_SEED)
//   DAXKV_CRASH_SEED=S      only check seed S
// A failure prints the workload, crash point and seed, and the line to
// reproduce it.
//
// Thread-safety: one harness per test, driven from the test thread.
#ifndef DAXKV_TESTS_ENGINE_CRASH_HARNESS_H_
#define DAXKV_TESTS_ENGINE_CRASH_HARNESS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/db.h"
#include "tests/support/fake_clock.h"
#include "tests/support/sim_region.h"

namespace daxkv::engine::crash {

struct ModelEntry {
  std::string value;
  int64_t expire_at_ms = 0;
  bool operator==(const ModelEntry&) const = default;
};
// Every key ever written, visible or not (expiry is applied on compare).
using Model = std::map<std::string, ModelEntry>;

struct CrashConfig {
  int seeds_per_point = 2;
  double scale = 1.0;
  bool long_mode = false;
  std::optional<uint64_t> only_point;
  std::optional<uint64_t> only_seed;
  // Replays an image of the original crash model (whole lines, this keep
  // probability) instead of CrashOptionsFor(seed): pinned regressions.
  std::optional<double> keep_probability;
  // About one recovered image in N (picked by seed) also gets a write probe and
  // a crash in the middle of its own recovery (recover the recovery).
  uint64_t deep_check_every = 50;

  static CrashConfig FromEnv();
  // n scaled (long mode x4), at least 1.
  int Ops(int n) const;
  // Whether the minimum point count applies (the default, unscaled run).
  bool full_run() const { return scale >= 1.0 && !only_point; }
};

struct HarnessOptions {
  std::string workload;
  size_t segment_size = 64 * 1024;
  size_t segments = 16;
  // How a key is read back and compared with its ModelEntry: DB::Get when
  // unset. Collection workloads read a collection as text (ReadAnyType in
  // txn_test_util.h) and keep that text in the model.
  std::function<StatusOr<ReadResult>(DB*, const std::string&)> read = {};
  // Keys starting with this (when not empty) are system entries: read with
  // DB::GetSystem and never counted by Count().
  std::string system_prefix = {};
  uint32_t packed_set_max = 512;  // Options::packed_set_max
};

class CrashHarness {
 public:
  CrashHarness(const HarnessOptions& options, const CrashConfig& config);
  ~CrashHarness();

  // Formats the pool; with `check_format` its persist points are crash
  // points too (a crash before the first open returns must leave a region
  // that opens, empty). REQUIRES: called once, first.
  void Open(bool check_format = false);
  DB* db() const { return db_.get(); }
  const Model& model() const { return model_; }
  FakeClock& clock() { return clock_; }

  // Runs `op` as the operation in flight; checks every crash point it
  // passes. When it returns OK, `apply` turns the model into the state after
  // it. An `atomic` op (one write, a batch, compaction) must leave the whole
  // state before or after it; a non-atomic one (several unsynced writes and
  // a Sync()) may leave each key before or after, independently. Returns
  // op's status (callers assert on it).
  Status Step(const std::string& what, const std::function<Status(DB*)>& op,
              const std::function<void(Model*)>& apply, bool atomic = true);

  // Closes the DB (the clean-shutdown persist points are checked too) and
  // reopens it, checking the reopened state against the model.
  void Reopen();

  // Persist points passed while an operation was in flight, and crash
  // images recovered and checked.
  uint64_t points() const { return points_; }
  uint64_t images_checked() const { return images_checked_; }
  // Images taken per crash model: [plain, torn words, intermediate, both].
  const uint64_t* mode_images() const { return mode_images_; }
  uint64_t region_persist_points() const;

 private:
  Options DbOptions() const;
  void OnPersistPoint(uint64_t point);
  // Recovers `image` and checks it against before_ or after_; returns a
  // description of the first violation, or "" when the contract holds.
  std::string CheckImage(const std::vector<char>& image, uint64_t seed,
                         bool deep);
  std::string DeepCheck(std::unique_ptr<DB> db, testing::SimRegion& recovered,
                        const Model& matched, uint64_t seed);
  // "" when every key matches `expect` (or, key by key, `alt` when given)
  // and Count() agrees with the keys read back; else the first mismatch.
  std::string CompareState(DB* db, const Model& expect,
                           const Model* alt = nullptr) const;

  HarnessOptions options_;
  CrashConfig config_;
  FakeClock clock_;
  std::unique_ptr<testing::SimRegion> region_;
  std::unique_ptr<DB> db_;  // on a BorrowedRegion of *region_
  Model model_;
  std::set<std::string> keys_;  // every key ever written
  // The operation in flight and the two states a crash may leave.
  std::string in_flight_;
  Model before_;
  Model after_;
  bool atomic_ = true;
  bool matched_after_only_ = false;
  bool capturing_ = false;
  uint64_t points_ = 0;
  uint64_t images_checked_ = 0;
  uint64_t mode_images_[4] = {};
  uint64_t failures_ = 0;
};

// Deterministic value for (key, op): its length varies with `len` and every
// byte depends on both, so a torn or mixed value never equals another.
std::string MakeValue(const std::string& key, uint64_t op, size_t len);

}  // namespace daxkv::engine::crash

#include "tests/engine/crash_harness_impl.h"  // IWYU pragma: export

#endif  // DAXKV_TESTS_ENGINE_CRASH_HARNESS_H_
