#include "kv/server_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "kv/io_loop.h"
#include "tests/support/status_matchers.h"

namespace daxkv::kv {
namespace {

using ::testing::HasSubstr;

// Size settings take base/byte_size.h's grammar (its own table-driven tests
// are in tests/base/byte_size_test.cc).
TEST(ServerConfigTest, SizeSettingsTakeByteSizes) {
  ServerConfig c;
  EXPECT_OK(ApplySetting("pool_size", "64M", &c));
  EXPECT_EQ(c.pool_size, 64ull << 20);
  EXPECT_OK(ApplySetting("pool-size", "0x4000000", &c));
  EXPECT_EQ(c.pool_size, 64ull << 20);
  EXPECT_OK(ApplySetting("segment_size", "8MiB", &c));
  EXPECT_EQ(c.segment_size, 8ull << 20);
  EXPECT_THAT(ApplySetting("pool_size", "12X", &c),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'12X'")));
  EXPECT_THAT(ApplySetting("proto_max_bulk_len", "1.5G", &c),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(ServerConfigTest, SettingsAndErrors) {
  ServerConfig c;
  EXPECT_OK(ApplySetting("pool-size", "256M", &c));
  EXPECT_EQ(c.pool_size, 256ull << 20);
  EXPECT_OK(ApplySetting("protected_mode", "no", &c));
  EXPECT_FALSE(c.protected_mode);
  Status s = ApplySetting("port", "70000", &c);
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_NE(s.ToString().find("'port'"), std::string::npos);
  s = ApplySetting("nosuch", "1", &c);
  EXPECT_NE(s.ToString().find("unknown setting 'nosuch'"), std::string::npos);
  EXPECT_FALSE(c.format_over_existing_data);  // refuses unless asked
  EXPECT_OK(ApplySetting("format-over-existing-data", "yes", &c));
  EXPECT_TRUE(c.format_over_existing_data);
}

TEST(ServerConfigTest, IoEngine) {
  ServerConfig c;
  EXPECT_EQ(c.io_engine, "auto");
  EXPECT_OK(ApplySetting("io-engine", "epoll", &c));
  EXPECT_EQ(c.io_engine, "epoll");
  EXPECT_OK(ApplySetting("io_engine", "io_uring", &c));
  EXPECT_EQ(c.io_engine, "io_uring");
  EXPECT_THAT(ApplySetting("io_engine", "kqueue", &c),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(c.io_engine, "io_uring");
  std::string note = "stale";
  auto engine = ResolveIoEngine("epoll", &note);
  ASSERT_OK(engine);
  EXPECT_EQ(*engine, IoEngine::kEpoll);
  EXPECT_EQ(note, "");
  EXPECT_THAT(ResolveIoEngine("kqueue", &note).status(),
              StatusIs(StatusCode::kInvalidArgument));
  // auto never fails: io_uring, or epoll with the reason.
  engine = ResolveIoEngine("auto", &note);
  ASSERT_OK(engine);
  EXPECT_EQ(*engine == IoEngine::kEpoll, !note.empty()) << note;
}

TEST(ServerConfigTest, ConfigFile) {
  std::string path = "/tmp/daxkv_kv_config_test_" + std::to_string(getpid());
  {
    std::ofstream f(path);
    f << "# daxkv\n\nport 7001\nbind \"127.0.0.1 ::1\"\nrequirepass s3cret\n"
         "threads 3\n  timeout 10  \n";
  }
  ServerConfig c;
  ASSERT_OK(LoadConfigFile(path, &c));
  EXPECT_EQ(c.port, 7001);
  EXPECT_EQ(c.bind, "127.0.0.1 ::1");
  EXPECT_EQ(c.requirepass, "s3cret");
  EXPECT_EQ(c.threads, 3);
  EXPECT_EQ(c.timeout, 10);
  {
    std::ofstream f(path);
    f << "port 1\nmaxclients many\n";
  }
  Status s = LoadConfigFile(path, &c);
  EXPECT_THAT(s,
              StatusIs(StatusCode::kInvalidArgument, HasSubstr(path + ":2")));
  std::remove(path.c_str());
  EXPECT_THAT(LoadConfigFile(path, &c), StatusIs(StatusCode::kIOError));
}

// Redis settings only CONFIG SET applies are taken from a file by their
// Redis names (any case, '-' or '_', an alias), kept in order for start-up.
TEST(ServerConfigTest, RuntimeSettingsAreKeptForStartUp) {
  ServerConfig c;
  ASSERT_OK(ApplySetting("slowlog-log-slower-than", "0", &c));
  ASSERT_OK(ApplySetting("LATENCY_MONITOR_THRESHOLD", "5", &c));
  ASSERT_OK(ApplySetting("lua-time-limit", "100", &c));
  ASSERT_OK(ApplySetting("latency-tracking-info-percentiles", "50 99", &c));
  using Pair = std::pair<std::string, std::string>;
  EXPECT_EQ(
      c.runtime_settings,
      (std::vector<Pair>{{"slowlog-log-slower-than", "0"},
                         {"latency-monitor-threshold", "5"},
                         {"busy-reply-threshold", "100"},
                         {"latency-tracking-info-percentiles", "50 99"}}));
  EXPECT_EQ(RuntimeSettingOf("Slowlog_Max_Len"), "slowlog-max-len");
  EXPECT_EQ(RuntimeSettingOf("slowlog"), "");
  EXPECT_THAT(ApplySetting("latency-monitor", "5", &c),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown")));
}

// One default for the I/O thread count: 0, one thread per core but one,
// which stays for the background thread and the kernel.
TEST(ServerConfigTest, ThreadsDefaultToOnePerCoreButOne) {
  ServerConfig c;
  EXPECT_EQ(c.threads, 0);
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  EXPECT_EQ(EffectiveThreads(c), std::max(1, cores - 1));
  ASSERT_OK(ApplySetting("threads", "3", &c));
  EXPECT_EQ(EffectiveThreads(c), 3);
  ASSERT_OK(ApplySetting("io-threads", "0", &c));
  EXPECT_EQ(c.threads, 0);
  EXPECT_THAT(ApplySetting("threads", "129", &c),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ApplySetting("threads", "-1", &c),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(ServerConfigTest, SegmentSizeFitsLargeValues) {
  ServerConfig c;
  c.pool_size = 64ull << 20;
  EXPECT_EQ(EffectiveSegmentSize(c), 4ull << 20);
  c.pool_size = 256ull << 20;
  EXPECT_EQ(EffectiveSegmentSize(c), 8ull << 20);
  c.pool_size = 64ull << 30;
  EXPECT_EQ(EffectiveSegmentSize(c), 64ull << 20);
  c.segment_size = 1 << 20;
  EXPECT_EQ(EffectiveSegmentSize(c), 1u << 20);
}

}  // namespace
}  // namespace daxkv::kv
