// The replica's durability promise (docs/replication.md): REPLCONF ACK
// never reports an offset that no engine Sync() has covered. A fake master
// on a loopback socket drives the real link (handshake, a full sync, the
// command stream, GETACK); the replica's engine is a ForwardingDb whose
// Sync() the test makes fail.
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
#include "tests/kv/kv_fixture.h"

namespace daxkv::kv {
namespace {

constexpr int kWaitMs = 20000;  // generous: a shared, loaded machine

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

std::string Command(const std::vector<std::string>& argv) {
  std::string s = "*" + std::to_string(argv.size()) + "\r\n";
  for (const auto& a : argv)
    s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}

std::string OneKeyRdb() {
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

using ReplicaAckTest = ForwardedKvFixture;

TEST_F(ReplicaAckTest, AcksOnlyOffsetsASyncCovered) {
  FakeMaster master;
  state_->replication().ReplicaOf("127.0.0.1", master.port());
  ASSERT_TRUE(master.Accept());
  ASSERT_EQ(master.Read(), std::vector<std::string>{"PING"});
  master.Send("+PONG\r\n");
  ASSERT_EQ(master.Read()[1], "listening-port");
  master.Send("+OK\r\n");
  ASSERT_EQ(master.Read(), (std::vector<std::string>{"REPLCONF", "capa", "eof",
                                                     "capa", "psync2"}));
  master.Send("+OK\r\n");
  ASSERT_EQ(master.Read(), (std::vector<std::string>{"PSYNC", "?", "-1"}));
  master.Send("+FULLRESYNC " + std::string(40, 'a') + " 100\r\n");
  const std::string rdb = OneKeyRdb();
  master.Send("$" + std::to_string(rdb.size()) + "\r\n" + rdb);
  EXPECT_EQ(master.ReadAckReaching(100), 100);
  EXPECT_EQ(Run("GET loaded"), Bulk("1"));

  const std::string set1 = Command({"SET", "k", "v"});
  master.Send(set1);
  const int64_t durable = 100 + static_cast<int64_t>(set1.size());
  EXPECT_EQ(master.ReadAckReaching(durable), durable);

  // From here no Sync succeeds: what the master sends is applied but must
  // never be ACKed.
  fwd_->SetSyncError(IOError("injected: the medium stopped persisting"));
  const std::string set2 = Command({"SET", "k2", "v2"});
  const std::string getack = Command({"REPLCONF", "GETACK", "*"});
  master.Send(set2 + getack);
  for (int i = 0; i < 3; ++i) {  // the GETACK answer and periodic ACKs
    std::vector<std::string> c = master.Read();
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[1], "ACK");
    EXPECT_EQ(std::stoll(c[2]), durable) << "ACKed a non-durable offset";
  }
  const std::string info = Run("INFO replication");
  const int64_t applied =
      durable + static_cast<int64_t>(set2.size() + getack.size());
  EXPECT_NE(info.find("slave_repl_offset:" + std::to_string(applied)),
            std::string::npos)
      << info;
  EXPECT_NE(info.find("daxkv_repl_durable_offset:" + std::to_string(durable)),
            std::string::npos)
      << info;
  state_->replication().ReplicaOf("", 0);
}

}  // namespace
}  // namespace daxkv::kv
