// The server crash test's fixture (tests/kv/server_crash_test.cc): an
// InProcessServer on an engine over a SimRegion whose persist points cut
// the power, kClients clients running a mixed workload against it, and the
// check of each crash image against what the clients had been told.
//
// Thread-safety: the clients run on their own threads (RunClients); the
// persist hook on the engine's; Model is guarded by its mu.
#ifndef DAXKV_TESTS_KV_SERVER_CRASH_WORKLOAD_H_
#define DAXKV_TESTS_KV_SERVER_CRASH_WORKLOAD_H_

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "engine/db.h"
#include "tests/kv/in_process_server.h"
#include "tests/kv/server_crash_model.h"
#include "tests/support/sim_region.h"

namespace daxkv::kv::server_crash {

inline constexpr size_t kSegment = 64 * 1024;
inline constexpr size_t kSegments = 24;

// The engine's options: background compaction and expiry reclaim on, or
// (to read a crash image) off.
engine::Options EngineOptions(bool background, bool compaction = true);

// `key` in `db` in the model's form (a collection's canonical string);
// errors other than absence go to *errors.
Value ReadKey(engine::DB& db, const std::string& key, std::string* errors);

class ServerCrashTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Runs the clients to the end of their operations.
  void RunClients();
  // "" when `image` (a cleanly closed pool) holds exactly what the
  // clients were told.
  std::string CheckFinal(const std::vector<char>& image);
  // Every key a client wrote, and the shared counters.
  std::vector<std::string> Keys();
  // After the run (the DB closed): no image broke the model, and the run
  // checked crashes, compacted and reclaimed expired keys.
  void ExpectCrashesChecked(const engine::Stats& st, const char* what);

  void OnPersistPoint(uint64_t point);
  Op NextOp(int client, std::mt19937_64& rng, uint64_t seq);
  void RunClient(int client);
  bool Execute(int client, TestClient& conn, Op op);
  void FlushAll(TestClient& conn);
  void PauseForFlush(int client);

  CrashEnv env_;
  std::unique_ptr<testing::SimRegion> region_;
  std::unique_ptr<engine::DB> db_;
  std::unique_ptr<InProcessServer> server_;
  Model model_;
  std::atomic<bool> capturing_{false};
  std::atomic<uint64_t> points_{0}, images_{0}, violations_{0};
  std::mutex failures_mu_;
  std::vector<std::string> failures_;
  // FLUSHALL: every client pauses between operations while client 0 runs it.
  std::mutex flush_mu_;
  std::condition_variable flush_cv_;
  bool flush_wanted_ = false;
  int paused_ = 0;
  uint64_t flush_round_ = 0;
  int running_ = kClients;
};

}  // namespace daxkv::kv::server_crash

#endif  // DAXKV_TESTS_KV_SERVER_CRASH_WORKLOAD_H_
