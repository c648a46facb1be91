// Crash test of blocking pops on the real serving path (InProcessServer on
// a SimRegion, two I/O threads): a consumer blocks (BLMOVE q done, BLPOP q
// or BZPOPMIN z), a producer on another connection pushes the element that
// serves it, or pushes it to another key and RENAMEs that onto the
// consumer's (plainly, and inside MULTI/EXEC). At every persist point crash
// images are taken and recovered:
//   * q and z are never found holding an element: the push (or rename)
//     and the pop that served the blocked client are one batch (a crash
//     keeps both or neither; a pop committed after the push would leave
//     images with the element still in q);
//   * `done` holds exactly the elements of the BLMOVEs the consumer was
//     told about, plus at most the one in flight: the served client's reply
//     leaves only after the pusher's round Sync().
//
// Environment: DAXKV_CRASH_SCALE=0.2 (fewer rounds), as server_crash_test.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/borrowed_region.h"
#include "engine/txn.h"
#include "tests/kv/in_process_server.h"
#include "tests/kv/sim_engine_options.h"
#include "tests/support/sim_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::kv {
namespace {

constexpr size_t kSegment = 64 * 1024;
constexpr size_t kSegments = 16;
constexpr double kKeep[] = {0.0, 0.5, 0.9, 0.1};

engine::Options EngineOptions() { return QuietSimEngineOptions(kSegment); }

// What the consumer has been told, and the BLMOVE in flight.
struct Told {
  std::vector<std::string> done;
  std::optional<std::string> inflight_move;
};

// "" when the recovered image is one the clients' replies allow.
std::string CheckImage(const std::vector<char>& image, const Told& told) {
  testing::SimRegion region(image);
  auto db = engine::DB::Open(std::make_unique<engine::BorrowedRegion>(region),
                             EngineOptions());
  if (!db.ok()) return "open after the crash failed: " + db.status().ToString();
  std::string out;
  std::vector<std::string> done;
  Status s = (*db)->RunRead({"q", "z", "done"}, [&](engine::ReadOps& ops) {
    out.clear();
    done.clear();
    for (const char* key : {"q", "z"}) {
      DAXKV_ASSIGN_OR_RETURN(engine::KeyInfo info, ops.Stat(key));
      if (info.type != engine::KeyType::kNone) {
        out += std::string(key) + " holds " + std::to_string(info.size) +
               " element(s): a push survived without the pop that served a "
               "blocked client; ";
      }
    }
    return ops.ListRange("done", {0, -1}, [&](std::string_view e) {
      done.emplace_back(e);
      return true;
    });
  });
  if (!s.ok()) return "read failed: " + s.ToString();
  std::vector<std::string> with_inflight = told.done;
  if (told.inflight_move) with_inflight.push_back(*told.inflight_move);
  if (done != told.done && done != with_inflight) {
    out += "done has " + std::to_string(done.size()) +
           " element(s), the consumer was told of " +
           std::to_string(told.done.size()) + "; ";
  }
  return out;
}

class BlockingCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    region_ = std::make_unique<testing::SimRegion>(8192 + kSegments * kSegment);
    ASSERT_NO_FATAL_FAILURE(StartSimServer(
        *region_, EngineOptions(),
        [this](uint64_t point) { OnPersistPoint(point); }, &db_, &server_));
  }
  void TearDown() override { StopSimServer(*region_, &db_, &server_); }

  // Images first, then what the consumer had been told (no Sync can finish
  // meanwhile: the hook holds the region's lock).
  void OnPersistPoint(uint64_t point) {
    if (!capturing_.load()) return;
    std::vector<std::vector<char>> images;
    for (uint64_t i = 0; i < 2; ++i) {
      images.push_back(
          region_->CrashImage(point * 16 + i, kKeep[(point * 2 + i) % 4]));
    }
    // Lets a reply sent too early (before this Sync) reach the consumer and
    // the model, so that the images below are checked against it. No Sync
    // can finish meanwhile; a correct server sends nothing during it.
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    Told told;
    {
      std::lock_guard<std::mutex> l(mu_);
      told = told_;
    }
    for (const std::vector<char>& image : images) {
      images_checked_.fetch_add(1);
      std::string v = CheckImage(image, told);
      if (v.empty()) continue;
      std::lock_guard<std::mutex> l(mu_);
      if (failures_.size() < 8) {
        failures_.push_back("persist point " + std::to_string(point) + ": " +
                            v);
      }
    }
  }

  // Until `n` clients are blocked (1: the consumer blocked; 0: served).
  void WaitBlocked(uint64_t n = 1) {
    for (int i = 0; i < 20000; ++i) {
      if (server_->state().blocked().blocked_count() == n) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    FAIL() << (n ? "the consumer never blocked" : "the consumer never served");
  }

  std::unique_ptr<testing::SimRegion> region_;
  std::unique_ptr<engine::DB> db_;
  std::unique_ptr<InProcessServer> server_;
  std::atomic<bool> capturing_{false};
  std::atomic<uint64_t> images_checked_{0};
  std::mutex mu_;
  Told told_;                          // guarded by mu_
  std::vector<std::string> failures_;  // guarded by mu_
};

TEST_F(BlockingCrashTest, ServedPopAndItsPushAreOneDurableBatch) {
  double scale = 1.0;
  if (const char* s = std::getenv("DAXKV_CRASH_SCALE")) scale = std::atof(s);
  const int rounds = std::max(9, static_cast<int>(90 * scale));
  TestClient consumer, producer;
  ASSERT_TRUE(consumer.Connect(server_->port()));
  ASSERT_TRUE(producer.Connect(server_->port()));
  capturing_.store(true);
  using Cmd = std::vector<std::string>;
  for (int i = 0; i < rounds; ++i) {
    const std::string e = "e" + std::to_string(i);
    const int kind = i % 5;
    const std::vector<Cmd> waits = {
        {"BLMOVE", "q", "done", "LEFT", "RIGHT", "0"},
        {"BLPOP", "q", "0"},
        {"BZPOPMIN", "z", "0"},
        {"BLPOP", "q", "0"},
        {"BZPOPMIN", "z", "0"}};
    // What serves the consumer: a push to its key, or (3, 4) a RENAME onto
    // it of a key pushed to just before, plainly and inside MULTI/EXEC.
    const std::vector<std::vector<Cmd>> pushes = {
        {{"RPUSH", "q", e}},
        {{"RPUSH", "q", e}},
        {{"ZADD", "z", "1", e}},
        {{"RPUSH", "tmp", e}, {"RENAME", "tmp", "q"}},
        {{"MULTI"}, {"ZADD", "tmpz", "1", e}, {"RENAME", "tmpz", "z"},
         {"EXEC"}}};
    ASSERT_TRUE(consumer.Send(waits[kind]));
    ASSERT_NO_FATAL_FAILURE(WaitBlocked());
    if (kind == 0) {
      std::lock_guard<std::mutex> l(mu_);
      told_.inflight_move = e;
    }
    for (const Cmd& push : pushes[kind]) ASSERT_TRUE(producer.Send(push));
    ASSERT_NO_FATAL_FAILURE(WaitBlocked(0));
    // The consumer's reply first: it must already be durable.
    Reply served = consumer.Read();
    {
      std::lock_guard<std::mutex> l(mu_);
      if (kind == 0) told_.done.push_back(e);
      told_.inflight_move.reset();
    }
    if (kind == 0) {
      EXPECT_EQ(served.str, e) << served.Describe();
    } else {
      ASSERT_EQ(served.elems.size(), kind % 2 ? 2u : 3u) << served.Describe();
      EXPECT_EQ(served.elems[1].str, e);
    }
    std::vector<Reply> replies;
    for (size_t j = 0; j < pushes[kind].size(); ++j) {
      replies.push_back(producer.Read());
    }
    // The push's 1 (inside EXEC: the first element of EXEC's reply).
    const Reply& pushed =
        kind == 4 ? replies.back().elems.at(0) : replies.front();
    EXPECT_EQ(pushed.integer, 1) << replies.back().Describe();
  }
  capturing_.store(false);
  std::lock_guard<std::mutex> l(mu_);
  EXPECT_GT(images_checked_.load(), static_cast<uint64_t>(rounds));
  for (const std::string& f : failures_) ADD_FAILURE() << f;
}

}  // namespace
}  // namespace daxkv::kv
