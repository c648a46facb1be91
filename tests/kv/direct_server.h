// DirectServer: commands run on the calling thread as a connection's I/O
// thread runs them (ExecuteCommand), on a fake clock, with no sockets: the
// single-threaded rig of the kv crash tests whose persist points are one
// command's.
#ifndef DAXKV_TESTS_KV_DIRECT_SERVER_H_
#define DAXKV_TESTS_KV_DIRECT_SERVER_H_

#include <string>
#include <string_view>
#include <vector>

#include "engine/db.h"
#include "kv/executor.h"
#include "kv/resp_writer.h"
#include "kv/server_state.h"
#include "tests/support/fake_clock.h"

namespace daxkv::kv {

class DirectServer {
 public:
  // REQUIRES: db outlives this.
  explicit DirectServer(engine::DB* db) : state_(db, config_, &clock_) {
    state_.Register(&client_, nullptr);
  }
  ~DirectServer() { state_.Unregister(&client_); }
  DirectServer(const DirectServer&) = delete;
  DirectServer& operator=(const DirectServer&) = delete;

  // The RESP reply of argv.
  std::string Run(const std::vector<std::string>& argv) {
    std::vector<std::string_view> views(argv.begin(), argv.end());
    std::string out;
    ReplyWriter writer(&out, client_.resp);
    ExecuteCommand(state_, client_, views, writer);
    return out;
  }
  ServerState& state() { return state_; }
  FakeClock& clock() { return clock_; }

 private:
  FakeClock clock_;
  ServerConfig config_;
  ServerState state_;
  Client client_;
};

}  // namespace daxkv::kv

#endif  // DAXKV_TESTS_KV_DIRECT_SERVER_H_
