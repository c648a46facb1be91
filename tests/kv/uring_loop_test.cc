// UringLoop (kv/uring_loop.h) on real loopback sockets: multishot accept
// (and accept on readiness), multishot receive across many provided
// buffers, the buffer ring running dry (ENOBUFS, re-armed), backpressure (receiving off and on), the peer
// closing, sends larger than the socket buffer (short sends re-armed, and
// bytes passed meanwhile kept in order), Wake() from another thread.
// Skipped, with the reason, where io_uring is unavailable.
#include "kv/uring_loop.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace daxkv::kv {
namespace {

class TestStream final : public IoLoop::Stream {
 public:
  explicit TestStream(IoLoop* loop, size_t space = 4096)
      : loop_(loop), space_(space) {}
  std::span<char> InputSpace() override {
    return {space_.data(), space_.size()};
  }
  void OnInput(size_t n) override { input.append(space_.data(), n); }
  void OnSent(size_t n) override { sent += n; }
  void OnError(int err) override {
    error = err;
    ended = true;
    loop_->CloseStream(fd);
  }
  int fd = -1;
  std::string input;
  size_t sent = 0;
  int error = -1;
  bool ended = false;

 private:
  IoLoop* loop_;
  std::vector<char> space_;
};

class TestListener final : public IoLoop::Listener {
 public:
  void OnAccept(int fd) override { fds.push_back(fd); }
  std::vector<int> fds;
};

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i * 7 % 26);
  return s;
}

class UringLoopTest : public ::testing::Test {
 protected:
  void Start(const UringOptions& o = {}) {
    auto loop = UringLoop::Create(o);
    if (!loop.ok())
      GTEST_SKIP() << "io_uring unavailable: " << loop.status().ToString();
    loop_ = std::move(*loop);
    ASSERT_TRUE(loop_->BindThread().ok());
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ASSERT_GE(listen_fd_, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    ASSERT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    ASSERT_EQ(listen(listen_fd_, 64), 0);
    ASSERT_EQ(getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len),
              0);
    port_ = ntohs(a.sin_port);
    ASSERT_TRUE(loop_->AddListener(listen_fd_, &listener_).ok());
  }
  void TearDown() override {
    for (int fd : clients_) close(fd);
    loop_.reset();
    if (listen_fd_ >= 0) close(listen_fd_);
  }
  // Runs rounds until `done` or 10 s; returns done().
  bool Pump(const std::function<bool()>& done, int max_ms = 10000) {
    auto end =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(max_ms);
    while (!done() && std::chrono::steady_clock::now() < end) {
      loop_->Wait(10);
      loop_->Dispatch();
    }
    return done();
  }
  // A connected client (blocking) and the server side's fd.
  int Connect() {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port_));
    EXPECT_EQ(connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    clients_.push_back(c);
    const size_t want = listener_.fds.size() + 1;
    EXPECT_TRUE(Pump([&] { return listener_.fds.size() >= want; }));
    return c;
  }
  int ServerFd() { return listener_.fds.back(); }
  // A client whose server side is `s` on the loop; the client's fd.
  int ConnectStream(TestStream* s) {
    int c = Connect();
    s->fd = ServerFd();
    EXPECT_TRUE(loop_->AddStream(s->fd, s).ok());
    return c;
  }
  // Reads fd until EOF, running the loop meanwhile (a closed stream's
  // socket is released by the loop's next round); false on timeout.
  bool ReadToEof(int fd, std::string* got) {
    char chunk[65536];
    return Pump([&] {
      while (true) {
        ssize_t n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
        if (n > 0) {
          got->append(chunk, static_cast<size_t>(n));
          continue;
        }
        return n == 0;
      }
    });
  }
  static void WriteAll(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = write(fd, s.data() + off, s.size() - off);
      ASSERT_GT(n, 0);
      off += static_cast<size_t>(n);
    }
  }

  std::unique_ptr<UringLoop> loop_;
  TestListener listener_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::vector<int> clients_;
};

TEST_F(UringLoopTest, AcceptsEachConnection) {
  Start();
  for (int i = 0; i < 5; ++i) Connect();
  EXPECT_EQ(listener_.fds.size(), 5u);
  for (int fd : listener_.fds) close(fd);
}

// The mode for a listening socket several threads share: readiness by
// multishot poll, then accept4.
TEST_F(UringLoopTest, AcceptsOnReadinessWhenShared) {
  UringOptions o;
  o.multishot_accept = false;
  Start(o);
  for (int i = 0; i < 5; ++i) Connect();
  EXPECT_EQ(listener_.fds.size(), 5u);
  for (int fd : listener_.fds) close(fd);
}

TEST_F(UringLoopTest, ReceivesAcrossManyBuffers) {
  UringOptions o;
  o.buffers = 8;
  o.buffer_size = 256;
  Start(o);
  int c = Connect();
  TestStream s(loop_.get(), 1000);  // not a multiple of the buffer size
  s.fd = ServerFd();
  ASSERT_TRUE(loop_->AddStream(s.fd, &s).ok());
  const std::string data = Pattern(1 << 20);
  std::thread writer([&] { WriteAll(c, data); });
  EXPECT_TRUE(Pump([&] { return s.input.size() >= data.size(); }));
  writer.join();
  EXPECT_TRUE(s.input == data) << "received bytes differ";
  EXPECT_GE(loop_->counters().recv_buffers, data.size() / o.buffer_size);
  loop_->CloseStream(s.fd);
}

TEST_F(UringLoopTest, EmptyBufferRingEndsTheReceiveWhichIsRearmed) {
  UringOptions o;
  o.buffers = 2;
  o.buffer_size = 64;
  Start(o);
  int c = Connect();
  // Everything is queued on the socket before the receive is armed: it
  // fills both buffers at once and ends with ENOBUFS.
  const std::string data = Pattern(32 * 1024);
  WriteAll(c, data);
  TestStream s(loop_.get());
  s.fd = ServerFd();
  ASSERT_TRUE(loop_->AddStream(s.fd, &s).ok());
  EXPECT_TRUE(Pump([&] { return s.input.size() >= data.size(); }));
  EXPECT_TRUE(s.input == data) << "received bytes differ";
  EXPECT_GT(loop_->counters().enobufs, 0u);
  EXPECT_GE(loop_->counters().recv_rearms, loop_->counters().enobufs);
  EXPECT_FALSE(s.ended);
  loop_->CloseStream(s.fd);
}

TEST_F(UringLoopTest, ReceivingOffReadsNothingUntilOn) {
  Start();
  TestStream s(loop_.get());
  int c = ConnectStream(&s);
  WriteAll(c, "first");
  ASSERT_TRUE(Pump([&] { return s.input == "first"; }));
  loop_->SetReceiving(s.fd, false);
  Pump([] { return false; }, 50);  // the cancel goes in
  WriteAll(c, "second");
  Pump([] { return false; }, 200);
  EXPECT_EQ(s.input, "first");
  loop_->SetReceiving(s.fd, true);
  EXPECT_TRUE(Pump([&] { return s.input == "firstsecond"; })) << s.input;
  loop_->CloseStream(s.fd);
}

TEST_F(UringLoopTest, PeerCloseEndsTheStream) {
  Start();
  TestStream s(loop_.get());
  int c = ConnectStream(&s);
  WriteAll(c, "bye");
  shutdown(c, SHUT_WR);
  EXPECT_TRUE(Pump([&] { return s.ended; }));
  EXPECT_EQ(s.input, "bye");
  EXPECT_EQ(s.error, 0);
  // The stream closed itself in OnError: the client sees the close.
  std::string rest;
  EXPECT_TRUE(ReadToEof(c, &rest));
  EXPECT_EQ(rest, "");
}

TEST_F(UringLoopTest, LargeSendsGoOutWholeAndInOrder) {
  Start();
  TestStream s(loop_.get());
  int c = ConnectStream(&s);
  std::string big = Pattern(16 << 20);
  const std::string expect = big + "tail";
  std::string buf = big;
  ASSERT_EQ(loop_->Send(s.fd, &buf), 0);
  EXPECT_TRUE(buf.empty());
  // Nobody reads yet: the first send fills the socket and comes back short.
  EXPECT_TRUE(Pump([&] { return loop_->counters().partial_sends > 0; }));
  std::string tail = "tail";
  ASSERT_EQ(loop_->Send(s.fd, &tail), 0);  // queued behind the rest
  std::string got;
  std::thread reader([&] {
    char chunk[65536];
    while (got.size() < expect.size()) {
      ssize_t n = read(c, chunk, sizeof(chunk));
      if (n <= 0) break;
      got.append(chunk, static_cast<size_t>(n));
    }
  });
  EXPECT_TRUE(Pump([&] { return s.sent >= expect.size(); }, 30000));
  reader.join();
  EXPECT_EQ(s.sent, expect.size());
  EXPECT_TRUE(got == expect) << "sent bytes differ (" << got.size() << ")";
  EXPECT_FALSE(s.ended);
  loop_->CloseStream(s.fd);
}

TEST_F(UringLoopTest, ClosingWithASendInFlightDropsIt) {
  Start();
  TestStream s(loop_.get());
  int c = ConnectStream(&s);
  std::string big = Pattern(16 << 20);
  ASSERT_EQ(loop_->Send(s.fd, &big), 0);
  EXPECT_TRUE(Pump([&] { return loop_->counters().partial_sends > 0; }));
  loop_->CloseStream(s.fd);
  // The client drains what was sent, then sees the close.
  std::string got;
  EXPECT_TRUE(ReadToEof(c, &got));
  EXPECT_LT(got.size(), size_t{16} << 20);
  EXPECT_GE(got.size(), s.sent);
}

TEST_F(UringLoopTest, WakeFromAnotherThread) {
  Start();
  std::thread t([&] { loop_->Wake(); });
  bool woken = false;
  for (int i = 0; i < 100 && !woken; ++i) {
    loop_->Wait(100);
    woken = loop_->Dispatch();
  }
  t.join();
  EXPECT_TRUE(woken);
}

}  // namespace
}  // namespace daxkv::kv
