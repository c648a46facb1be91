// The serving path (InProcessServer: I/O threads, connections, group
// commit) on each network loop, epoll and io_uring: deep pipelines, replies
// far larger than a socket's buffer, QUIT's close after its reply, many
// clients at once, and the engine INFO and CONFIG GET report. The io_uring
// cases are skipped, with the reason, where io_uring is unavailable.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "engine/borrowed_region.h"
#include "kv/io_loop.h"
#include "tests/kv/in_process_server.h"
#include "tests/kv/sim_engine_options.h"
#include "tests/support/sim_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::kv {
namespace {

constexpr size_t kSegment = 4 << 20;
constexpr size_t kSegments = 16;

class IoEngineTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    std::string note;
    auto engine = ResolveIoEngine(GetParam(), &note);
    if (!engine.ok()) {
      GTEST_SKIP() << "io_uring unavailable: " << engine.status().ToString();
    }
    region_ = std::make_unique<testing::SimRegion>(8192 + kSegments * kSegment);
    auto db =
        engine::DB::Open(std::make_unique<engine::BorrowedRegion>(*region_),
                         QuietSimEngineOptions(kSegment));
    ASSERT_OK(db);
    db_ = std::move(*db);
    ServerConfig config;
    config.threads = 2;
    config.io_engine = GetParam();
    server_ = std::make_unique<InProcessServer>(db_.get(), config);
    ASSERT_OK(server_->Start());
    ASSERT_EQ(IoEngineName(server_->state().io_engine), GetParam());
  }
  void TearDown() override {
    server_.reset();
    db_.reset();
  }
  std::unique_ptr<testing::SimRegion> region_;
  std::unique_ptr<engine::DB> db_;
  std::unique_ptr<InProcessServer> server_;
};

TEST_P(IoEngineTest, InfoAndConfigNameTheEngine) {
  TestClient c;
  ASSERT_TRUE(c.Connect(server_->port()));
  Reply info = c.Call({"INFO", "server"});
  EXPECT_NE(info.str.find(std::string("io_engine:") + GetParam() + "\r\n"),
            std::string::npos)
      << info.str;
  Reply conf = c.Call({"CONFIG", "GET", "io-engine"});
  ASSERT_EQ(conf.elems.size(), 2u);
  EXPECT_EQ(conf.elems[1].str, GetParam());
}

TEST_P(IoEngineTest, DeepPipelineAnsweredInOrder) {
  TestClient c;
  ASSERT_TRUE(c.Connect(server_->port()));
  constexpr int kN = 3000;
  for (int i = 0; i < kN; ++i) {
    ASSERT_TRUE(c.Send({"SET", "k" + std::to_string(i), std::to_string(i)}));
  }
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(c.Read().ok()) << i;
  for (int i = 0; i < kN; ++i)
    ASSERT_TRUE(c.Send({"GET", "k" + std::to_string(i)}));
  for (int i = 0; i < kN; ++i) ASSERT_EQ(c.Read().str, std::to_string(i));
}

TEST_P(IoEngineTest, RepliesLargerThanTheSocketBuffer) {
  TestClient c;
  ASSERT_TRUE(c.Connect(server_->port()));
  std::string value(1 << 20, 'v');
  for (size_t i = 0; i < value.size(); i += 4096) value[i] = 'a' + i % 26;
  ASSERT_TRUE(c.Call({"SET", "big", value}).ok());
  constexpr int kN = 40;  // 40 MiB of replies queued at once
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(c.Send({"GET", "big"}));
  for (int i = 0; i < kN; ++i) {
    Reply r = c.Read();
    ASSERT_EQ(r.type, '$') << i;
    ASSERT_TRUE(r.str == value) << i;
  }
  EXPECT_EQ(c.Call({"PING"}).str, "PONG");
}

TEST_P(IoEngineTest, QuitClosesAfterItsReply) {
  TestClient c;
  ASSERT_TRUE(c.Connect(server_->port()));
  ASSERT_TRUE(c.Send({"SET", "a", "1"}));
  ASSERT_TRUE(c.Send({"QUIT"}));
  EXPECT_TRUE(c.Read().ok());
  EXPECT_TRUE(c.Read().ok());
  EXPECT_EQ(c.Read().type, 0);  // closed
}

TEST_P(IoEngineTest, ManyClientsAtOnce) {
  constexpr int kClients = 40;
  constexpr int kOps = 200;
  std::vector<std::thread> threads;
  std::vector<int> bad(kClients, 0);
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      TestClient c;
      if (!c.Connect(server_->port())) {
        bad[t] = -1;
        return;
      }
      for (int i = 0; i < kOps; ++i) {
        const std::string key = "c" + std::to_string(t);
        if (!c.Call({"INCR", key}).type) ++bad[t];
      }
      Reply r = c.Call({"GET", "c" + std::to_string(t)});
      if (r.str != std::to_string(kOps)) ++bad[t];
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kClients; ++t) EXPECT_EQ(bad[t], 0) << "client " << t;
}

INSTANTIATE_TEST_SUITE_P(Engines, IoEngineTest,
                         ::testing::Values("epoll", "io_uring"));

}  // namespace
}  // namespace daxkv::kv
