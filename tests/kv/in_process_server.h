// InProcessServer: daxkv-server's serving path (I/O threads, connections,
// RESP parser, executor, store, group commit before the replies leave) in
// the test process, on a DB the test owns (e.g. on a SimRegion), listening
// on a free loopback port. TestClient: a blocking RESP client for it.
//
// Thread-safety: InProcessServer from one thread; one TestClient per thread.
#ifndef DAXKV_TESTS_KV_IN_PROCESS_SERVER_H_
#define DAXKV_TESTS_KV_IN_PROCESS_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/db.h"
#include "kv/io_thread.h"
#include "kv/server_config.h"
#include "kv/server_state.h"

namespace daxkv::kv {

class InProcessServer {
 public:
  // REQUIRES: `db` outlives the server.
  InProcessServer(engine::DB* db, const ServerConfig& config);
  ~InProcessServer();
  InProcessServer(const InProcessServer&) = delete;
  InProcessServer& operator=(const InProcessServer&) = delete;

  // Binds 127.0.0.1:0 and starts config.threads I/O threads.
  Status Start();
  // Drains and joins the threads and leaves the engine's hooks, so the
  // caller may close the DB next (idempotent).
  void Stop();
  int port() const { return port_; }
  ServerState& state() { return *state_; }

 private:
  std::unique_ptr<ServerState> state_;
  int listen_fd_ = -1;
  int port_ = 0;
  IoThreadGroup group_;
  std::vector<std::unique_ptr<IoThread>> io_;
};

// One RESP reply: '+' '-' ':' '$' '*' (null bulk/array: null = true).
struct Reply {
  char type = 0;
  std::string str;  // simple, error or bulk
  int64_t integer = 0;
  bool null = false;
  std::vector<Reply> elems;
  bool ok() const { return type == '+' && str == "OK"; }
  std::string Describe() const;
};

class TestClient {
 public:
  TestClient() = default;
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool Connect(int port);
  // False when the connection failed.
  bool Send(const std::vector<std::string>& argv);
  // The requests in one write, as a client pipelines them.
  bool SendAll(const std::vector<std::vector<std::string>>& requests);
  // type 0 when the connection failed or closed.
  Reply Read();
  Reply Call(const std::vector<std::string>& argv) {
    return Send(argv) ? Read() : Reply{};
  }

 private:
  bool Fill();
  bool Line(std::string* line);

  int fd_ = -1;
  std::string buf_;
  size_t pos_ = 0;
};

}  // namespace daxkv::kv

#endif  // DAXKV_TESTS_KV_IN_PROCESS_SERVER_H_
