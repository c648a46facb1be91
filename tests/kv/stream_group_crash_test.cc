// Consumer groups under power failure, on the simulator: the engine over a
// SimRegion, each command run as the server runs it and made durable as the
// I/O thread's round does (DB::Sync before the reply), crash images taken
// at every persist point (several keep probabilities, torn words) and
// recovered. Every image must hold the whole stream state (entries, groups,
// consumers, pending entries with their times and counts: XINFO STREAM
// FULL on a fake clock) of before the command in flight or of after it:
// an XREADGROUP's pending entries and the group's last ID, an XACK's
// deletions, a claim, DELCONSUMER, DESTROY and a trim past pending entries
// are each all or nothing, and nothing acknowledged is lost.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/borrowed_region.h"
#include "engine/db.h"
#include "tests/kv/direct_server.h"
#include "tests/kv/sim_engine_options.h"
#include "tests/support/sim_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::kv {
namespace {

constexpr size_t kSegment = 64 << 10;
constexpr size_t kSegments = 16;

engine::Options Options() { return QuietSimEngineOptions(kSegment); }

// Runs argv and makes it durable before "replying", as a round does.
std::string RunDurably(DirectServer& server, engine::DB& db,
                       const std::vector<std::string>& argv) {
  std::string reply = server.Run(argv);
  EXPECT_OK(db.Sync());
  server.clock().AdvanceMs(7);
  return reply;
}

// Everything the groups hold, times included (the clock is fixed).
std::string State(DirectServer& server) {
  return server.Run({"XINFO", "STREAM", "s", "FULL", "COUNT", "0"}) +
         server.Run({"XINFO", "GROUPS", "s"}) + server.Run({"XLEN", "s"});
}

std::string Recovered(const std::vector<char>& image) {
  testing::SimRegion region(image);
  auto db = engine::DB::Open(std::make_unique<engine::BorrowedRegion>(region),
                             Options());
  EXPECT_OK(db);
  if (!db.ok()) return "";
  DirectServer server(db->get());
  return State(server);
}

std::vector<std::vector<std::string>> Steps() {
  return {
      {"XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">"},
      {"XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", "s", ">"},
      {"XACK", "s", "g", "1-0", "3-0"},
      {"XCLAIM", "s", "g", "carol", "0", "2-0", "4-0"},
      {"XREADGROUP", "GROUP", "h", "dave", "NOACK", "STREAMS", "s", ">"},
      {"XAUTOCLAIM", "s", "g", "erin", "0", "0-0", "COUNT", "10"},
      {"XGROUP", "DELCONSUMER", "s", "g", "bob"},
      {"XDEL", "s", "5-0"},
      {"XCLAIM", "s", "g", "alice", "0", "5-0", "2-0"},
      {"XGROUP", "DESTROY", "s", "h"},
      {"XTRIM", "s", "MAXLEN", "2"},
      {"XADD", "s", "9-0", "f", "v"},
      {"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"},
  };
}

TEST(StreamGroupCrashTest, EveryGroupCommandIsAllOrNothing) {
  testing::SimRegion region(8192 + kSegments * kSegment);
  auto db = engine::DB::Open(std::make_unique<engine::BorrowedRegion>(region),
                             Options());
  ASSERT_OK(db);
  DirectServer server(db->get());
  auto run = [&](const std::vector<std::string>& argv) {
    return RunDurably(server, **db, argv);
  };
  for (int i = 1; i <= 8; ++i) {
    const std::string id = std::to_string(i) + "-0";
    ASSERT_EQ(run({"XADD", "s", id, "f", std::string(40, 'a' + i)}),
              "$" + std::to_string(id.size()) + "\r\n" + id + "\r\n");
  }
  ASSERT_EQ(run({"XGROUP", "CREATE", "s", "g", "0"}), "+OK\r\n");
  ASSERT_EQ(run({"XGROUP", "CREATE", "s", "h", "0"}), "+OK\r\n");
  const std::vector<std::vector<std::string>> steps = Steps();
  // The model: the state before each step and after the last.
  std::vector<std::string> states;
  struct Image {
    size_t step;
    std::vector<char> bytes;
  };
  std::vector<Image> images;
  uint64_t seed = 0;
  size_t step = 0;
  for (; step < steps.size(); ++step) {
    states.push_back(State(server));
    region.SetPersistHook([&](uint64_t) {
      for (double keep : {0.1, 0.5, 0.9}) {
        testing::SimRegion::CrashOptions o;
        o.keep_probability = keep;
        o.tear_words = seed % 2 == 1;
        images.push_back({step, region.CrashImage(++seed, o)});
      }
    });
    const std::string reply = run(steps[step]);
    region.SetPersistHook(nullptr);
    ASSERT_NE(reply[0], '-') << steps[step][0] << ": " << reply;
  }
  states.push_back(State(server));
  size_t before = 0, after = 0;
  for (const Image& image : images) {
    const std::string got = Recovered(image.bytes);
    if (got == states[image.step]) {
      ++before;
    } else if (got == states[image.step + 1]) {
      ++after;
    } else {
      ADD_FAILURE() << "an image taken during " << steps[image.step][0]
                    << " (step " << image.step
                    << ") recovered a state neither before nor after it:\n"
                    << got;
      break;
    }
  }
  EXPECT_GT(before, 0u);
  EXPECT_GT(after, 0u);
  std::printf(
      "[crash] consumer groups: %zu steps, %zu images (%zu before, "
      "%zu after)\n",
      steps.size(), images.size(), before, after);
}

}  // namespace
}  // namespace daxkv::kv
