// FakeMaster: the master's side of one replica connection on a loopback
// socket, for tests that drive the real replica link (handshake, full sync,
// command stream, ACKs) byte by byte. Command() and OneKeyRdb() build what
// it sends.
//
// Thread-safety: one thread at a time.
#ifndef DAXKV_TESTS_KV_FAKE_MASTER_H_
#define DAXKV_TESTS_KV_FAKE_MASTER_H_

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kv/resp_parser.h"
#include "rdb/writer.h"

namespace daxkv::kv {

inline constexpr int kWaitMs = 20000;  // generous: a shared, loaded machine

// One replica connection, seen from the master's side.
class FakeMaster {
 public:
  FakeMaster() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(listen(listen_fd_, 4), 0);
    socklen_t len = sizeof(a);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~FakeMaster() {
    if (fd_ >= 0) close(fd_);
    close(listen_fd_);
  }
  int port() const { return port_; }
  // Closes the replica's connection (it reconnects: Accept() again).
  void Drop() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    in_.clear();
  }

  bool Accept() {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, kWaitMs) != 1) return false;
    fd_ = accept(listen_fd_, nullptr, nullptr);
    return fd_ >= 0;
  }
  void Send(const std::string& s) {
    ASSERT_EQ(send(fd_, s.data(), s.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(s.size()));
  }
  // The replica's next command; empty on timeout or EOF.
  std::vector<std::string> Read() {
    ParserLimits limits;
    RequestParser parser(limits);
    for (;;) {
      parser.Reset();
      if (parser.Parse(in_.data(), in_.size(), true) ==
          RequestParser::Result::kComplete) {
        std::vector<std::string> argv(parser.args().begin(),
                                      parser.args().end());
        in_.erase(0, parser.consumed());
        return argv;
      }
      pollfd p{fd_, POLLIN, 0};
      char buf[4096];
      if (poll(&p, 1, kWaitMs) != 1) return {};
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return {};
      in_.append(buf, static_cast<size_t>(n));
    }
  }
  // Reads commands until an ACK of at least `offset`; returns the ACKed
  // offset (-1 on timeout).
  int64_t ReadAckReaching(int64_t offset) {
    for (;;) {
      std::vector<std::string> c = Read();
      if (c.empty()) return -1;
      if (c.size() == 3 && c[0] == "REPLCONF" && c[1] == "ACK" &&
          std::stoll(c[2]) >= offset) {
        return std::stoll(c[2]);
      }
    }
  }

 private:
  int listen_fd_ = -1;
  int fd_ = -1;
  int port_ = 0;
  std::string in_;
};

inline std::string Command(const std::vector<std::string>& argv) {
  std::string s = "*" + std::to_string(argv.size()) + "\r\n";
  for (const auto& a : argv)
    s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}

inline std::string OneKeyRdb() {
  std::string out;
  rdb::RdbWriter w([&](std::string_view b) {
    out.append(b);
    return OkStatus();
  });
  EXPECT_TRUE(w.Begin({}).ok());
  EXPECT_TRUE(w.SelectDb(0, 1, 0).ok());
  EXPECT_TRUE(w.WriteKey("loaded", rdb::Value(std::string("1")), {}).ok());
  EXPECT_TRUE(w.Finish().ok());
  return out;
}

// Answers the replica's handshake up to its PSYNC, which it returns.
inline std::vector<std::string> AnswerHandshake(FakeMaster& master) {
  std::vector<std::string> c = master.Read();
  EXPECT_EQ(c, std::vector<std::string>{"PING"});
  master.Send("+PONG\r\n");
  c = master.Read();
  EXPECT_TRUE(c.size() > 1 && c[1] == "listening-port");
  master.Send("+OK\r\n");
  EXPECT_EQ(master.Read(), (std::vector<std::string>{"REPLCONF", "capa", "eof",
                                                     "capa", "psync2"}));
  master.Send("+OK\r\n");
  return master.Read();
}

}  // namespace daxkv::kv

#endif  // DAXKV_TESTS_KV_FAKE_MASTER_H_
