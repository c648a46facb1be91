// KvFixture: a real engine on a /dev/shm pool plus the in-process command
// executor, so each test drives commands exactly as a connection does and
// checks the raw RESP bytes of the replies.
#ifndef DAXKV_TESTS_KV_KV_FIXTURE_H_
#define DAXKV_TESTS_KV_KV_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/db.h"
#include "kv/client.h"
#include "kv/server_state.h"
#include "tests/kv/forwarding_db.h"
#include "tests/support/fake_clock.h"

namespace daxkv::kv {

class KvFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Runs one command (arguments split on spaces; use RunArgs for binary or
  // spaced arguments) and returns its raw reply bytes.
  std::string Run(std::string_view line);
  std::string RunArgs(const std::vector<std::string>& argv);
  std::string RunAs(Client& client, const std::vector<std::string>& argv);

  // A contending writer: holds `key`'s stripe in a Txn on another thread
  // for `ms` of real time, and returns once it is held. Join the thread.
  std::thread HoldStripe(const std::string& key, int ms);

  // Closes and reopens the engine on the same pool (a clean restart).
  void Reopen();
  // Serves the commands from `db` (e.g. a ForwardingDb over db_) from now
  // on: a fresh ServerState on it. REQUIRES: `db` outlives the fixture's
  // use of it.
  void UseDb(engine::DB* db);

  // The engine's and the server's clock: tests advance it, never sleep.
  FakeClock clock_;
  std::string path_;
  std::unique_ptr<engine::DB> db_;
  std::unique_ptr<ServerState> state_;
  ServerConfig config_;
  Client client_;
};

// KvFixture serving through a ForwardingDb over the real engine (fwd_), for
// tests that inject what the engine cannot be made to do on demand.
class ForwardedKvFixture : public KvFixture {
 protected:
  void SetUp() override;
  void TearDown() override;
  std::unique_ptr<ForwardingDb> fwd_;
};

// "+OK\r\n" style helpers for expected replies.
std::string Bulk(std::string_view s);
std::string Int(int64_t v);
inline const char* kOk = "+OK\r\n";
inline const char* kNil = "$-1\r\n";

}  // namespace daxkv::kv

#endif  // DAXKV_TESTS_KV_KV_FIXTURE_H_
