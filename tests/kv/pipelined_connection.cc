#include "tests/kv/pipelined_connection.h"

#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include "kv/connection.h"
#include "kv/event_loop.h"
#include "kv/executor.h"
#include "tests/support/status_matchers.h"

namespace daxkv::kv {
namespace {

// A connection owner without a thread: the test runs the round's steps.
class TestOwner final : public ConnectionOwner {
 public:
  TestOwner() {
    auto loop = EpollLoop::Create();
    EXPECT_OK(loop.status());
    if (loop.ok()) loop_ = std::move(*loop);
  }
  IoLoop& loop() override { return *loop_; }
  void MarkPending(Connection*) override {}
  void MarkClosed(Connection*) override {}
  void MarkResume(Connection*) override {}
  void MailArrived(Connection*) override {}
  void Unblocked(Connection*) override {}
  void MarkBlocked(Connection*) override {}
  void RequestHousekeeping() override {}

 private:
  std::unique_ptr<EpollLoop> loop_;
};

}  // namespace

std::string Encode(const Cmd& argv) {
  std::string s = "*" + std::to_string(argv.size()) + "\r\n";
  for (const std::string& a : argv) {
    s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  }
  return s;
}

std::string RunPipelined(ServerState& state, const std::string& bytes) {
  int sv[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  TestOwner owner;
  auto conn = std::make_unique<Connection>(state, owner, sv[0], "127.0.0.1:1",
                                           "127.0.0.1:2");
  EXPECT_OK(conn->Start());
  EXPECT_EQ(write(sv[1], bytes.data(), bytes.size()),
            static_cast<ssize_t>(bytes.size()));
  // One read per event: run rounds until the connection has taken it all.
  int unread = 0;
  do {
    if (owner.loop().Wait(1000) > 0) owner.loop().Dispatch();
    EXPECT_EQ(ioctl(sv[0], FIONREAD, &unread), 0);
  } while (unread > 0);
  EXPECT_TRUE(SyncRound(state));
  conn->FlushReplies();
  std::string replies;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(sv[1], buf, sizeof(buf));
    if (n <= 0) break;
    replies.append(buf, static_cast<size_t>(n));
  }
  conn.reset();  // closes sv[0]
  close(sv[1]);
  return replies;
}

}  // namespace daxkv::kv
