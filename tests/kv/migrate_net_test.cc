// MIGRATE's connection cache (kv/migrate_cache.h) and the socket helpers
// it shares with the replication links (kv/net_io.h).
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "kv/migrate_cache.h"
#include "kv/net_io.h"

namespace daxkv::kv {
namespace {

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

int NewFd() {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  close(fds[1]);
  return fds[0];
}

TEST(MigrateCacheTest, TakeOutPutBackOnePerTarget) {
  MigrateCache cache;
  EXPECT_EQ(cache.Take("h:1").fd, -1);
  const int a = NewFd(), b = NewFd();
  cache.Put("h:1", {.fd = a, .last_dbid = 3, .last_use_ms = 100});
  MigrateConn got = cache.Take("h:1");
  EXPECT_EQ(got.fd, a);
  EXPECT_EQ(got.last_dbid, 3);
  EXPECT_EQ(cache.Take("h:1").fd, -1);  // taken out while in use
  cache.Put("h:1", got);
  cache.Put("h:1", {.fd = b, .last_use_ms = 100});  // a second, concurrent
  EXPECT_FALSE(IsOpen(b));
  EXPECT_TRUE(IsOpen(a));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(MigrateCacheTest, IdleConnectionsCloseAfterTenSeconds) {
  MigrateCache cache;
  const int a = NewFd(), b = NewFd();
  cache.Put("a:1", {.fd = a, .last_use_ms = 1000});
  cache.Put("b:1", {.fd = b, .last_use_ms = 5000});
  cache.CloseIdle(1000 + kMigrateIdleMs);  // not more than 10 s yet
  EXPECT_EQ(cache.size(), 2u);
  cache.CloseIdle(1001 + kMigrateIdleMs);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_FALSE(IsOpen(a));
  EXPECT_TRUE(IsOpen(b));
}

TEST(MigrateCacheTest, FullCacheEvictsTheLeastRecentlyUsed) {
  MigrateCache cache;
  int first = -1;
  for (size_t i = 0; i < kMigrateMaxConns; ++i) {
    const int fd = NewFd();
    if (i == 0) first = fd;
    cache.Put("h:" + std::to_string(i),
              {.fd = fd, .last_use_ms = static_cast<int64_t>(i)});
  }
  cache.Put("new:1", {.fd = NewFd(), .last_use_ms = 1000});
  EXPECT_EQ(cache.size(), kMigrateMaxConns);
  EXPECT_FALSE(IsOpen(first));
  EXPECT_EQ(cache.Take("h:0").fd, -1);
}

TEST(NetIoTest, LinesAcrossReadsAndTimeouts) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  std::string buf, line;
  size_t pos = 0;
  ASSERT_TRUE(SendAll(sv[1], "+OK\r\n-ERR x\r\n+PAR", {}).ok());
  const IoLimits limits{.idle_timeout_ms = 50};
  ASSERT_TRUE(ReadLine(sv[0], limits, &buf, &pos, &line).ok());
  EXPECT_EQ(line, "+OK");
  ASSERT_TRUE(ReadLine(sv[0], limits, &buf, &pos, &line).ok());
  EXPECT_EQ(line, "-ERR x");
  const int64_t start = SteadyMs();
  Status s = ReadLine(sv[0], limits, &buf, &pos, &line);
  EXPECT_TRUE(IsIoTimeout(s)) << s.ToString();
  EXPECT_GE(SteadyMs() - start, 50);
  ASSERT_TRUE(SendAll(sv[1], "T\r\n", {}).ok());
  ASSERT_TRUE(ReadLine(sv[0], limits, &buf, &pos, &line).ok());
  EXPECT_EQ(line, "+PART");
  close(sv[1]);
  s = ReadLine(sv[0], limits, &buf, &pos, &line);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(IsIoTimeout(s));
  close(sv[0]);
}

TEST(NetIoTest, ConnectFailsAtOnceOnlyWhenNoConnectStarts) {
  int fd = -1;
  // Port -1: no address to connect to (MIGRATE's "connecting" error).
  EXPECT_FALSE(ConnectTcp("127.0.0.1", "-1", 100, &fd).ok());
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(EncodeRespCommand({"GET", "k"}), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
}

}  // namespace
}  // namespace daxkv::kv
