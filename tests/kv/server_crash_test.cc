// Server-level crash test (issue 11): the real serving path (sockets, RESP
// parser, executor, store, group commit before the replies leave) on an
// engine over a SimRegion, with several clients at once and the engine's
// background compaction and expiry running. At persist points the power is
// cut (several crash images per point, every keep probability), each image
// is recovered, and every reply a client had received must hold:
// acknowledged SET/APPEND/DEL/MSET, MULTI/EXEC blocks (strings only, and
// strings mixed with hash, list, set and sorted set writes and a script)
// and EVAL scripts present (a block or a script all or nothing), counters
// at least their last INCR reply, FLUSHALL and DEL never undone, and keys
// SET with a short TTL present until their deadline (the engine's expiry
// reclaim deletes them meanwhile). The one request each client has in
// flight may or may not be there. The second test runs the workload with
// a daxkv replica attached (tests/kv/server_crash_workload.h is the
// workload and the image check).
//
// Environment: DAXKV_CRASH_LONG=1 (4x the operations, 4 images per
// point), DAXKV_CRASH_SCALE=0.2 (fewer operations), DAXKV_CRASH_SEED=N
// (workload seed), DAXKV_SERVER_CRASH_NO_COMPACTION=1 and
// DAXKV_SERVER_CRASH_NO_FLUSHALL=1 (to bisect a failure). Threads make the
// persist-point numbering differ from run to run: a failure prints the
// workload seed, point, image seed and keep probability, the operation in
// flight and the client's last operations.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "engine/borrowed_region.h"
#include "tests/kv/in_process_server.h"
#include "tests/kv/server_crash_workload.h"
#include "tests/support/sim_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::kv::server_crash {
namespace {

// The value of `field` in INFO replication ("" when absent).
std::string InfoField(TestClient& conn, const std::string& field) {
  Reply r = conn.Call({"INFO", "replication"});
  const std::string prefix = field + ":";
  size_t at = r.str.find("\n" + prefix);
  if (at == std::string::npos) return "";
  at += 1 + prefix.size();
  return r.str.substr(at, r.str.find_first_of("\r\n", at) - at);
}

bool WaitFor(const std::function<bool()>& done) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST_F(ServerCrashTest, EveryReplyHoldsAfterACrash) {
  capturing_.store(true);
  RunClients();
  // The drain and the clean close are crash points too.
  server_->Stop();
  engine::Stats st = db_->GetStats();
  db_.reset();
  capturing_.store(false);
  ExpectCrashesChecked(st, "server crash test");
  // And the model is right: the cleanly closed pool holds exactly it.
  EXPECT_EQ(CheckFinal(region_->DurableImage()), "");
}

// The workload with a daxkv replica attached: the engine's expiry reclaim
// sends a DEL per reclaimed key down the replication stream (ExpiryEffects,
// kv/repl_effects.h, which takes the stream's order mutex only while a
// replica is attached) while the clients write and the power is cut. Every
// reply still holds, and once the clients stop and every TTL has passed,
// the replica reads what the server does, key by key: a reclaim's DEL sent
// after a client's newer SET of the key would delete it on the replica.
TEST_F(ServerCrashTest, ReplicaConvergesWhileExpiryReclaimFeedsIt) {
  env_.ops_per_client = std::max(10, env_.ops_per_client / 2);
  testing::SimRegion replica_region(8192 + kSegments * kSegment);
  auto opened = engine::DB::Open(
      std::make_unique<engine::BorrowedRegion>(replica_region),
      EngineOptions(true));
  ASSERT_OK(opened);
  std::unique_ptr<engine::DB> replica_db = std::move(*opened);
  ServerConfig config;
  config.threads = 1;
  auto replica = std::make_unique<InProcessServer>(replica_db.get(), config);
  ASSERT_OK(replica->Start());
  replica->state().replication().ReplicaOf("127.0.0.1", server_->port());
  TestClient to_master, to_replica;
  ASSERT_TRUE(to_master.Connect(server_->port()));
  ASSERT_TRUE(to_replica.Connect(replica->port()));
  ASSERT_TRUE(WaitFor([&] {
    return InfoField(to_replica, "master_link_status") == "up" &&
           InfoField(to_master, "connected_slaves") == "1";
  }));

  capturing_.store(true);
  RunClients();
  // Past every deadline (the longest TTL is 64 ms) and a reclaim pass (one
  // per 100 ms), then the replica has everything the server sent.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  std::string sent;
  EXPECT_TRUE(WaitFor([&] {
    sent = InfoField(to_master, "master_repl_offset");
    return InfoField(to_replica, "slave_repl_offset") == sent;
  })) << "server offset " << sent << ", replica "
      << InfoField(to_replica, "slave_repl_offset");
  std::string errors;
  int differ = 0, present = 0;
  for (const std::string& key : Keys()) {
    const Value on_server = ReadKey(*db_, key, &errors);
    const Value on_replica = ReadKey(*replica_db, key, &errors);
    if (on_server) ++present;
    if (on_server != on_replica && ++differ <= 8) {
      ADD_FAILURE() << "key " << key << ": server " << Show(on_server)
                    << ", replica " << Show(on_replica);
    }
  }
  EXPECT_EQ(errors, "");
  EXPECT_EQ(db_->Count(), replica_db->Count());
  EXPECT_GT(present, 10);  // compared something
  std::printf("replica compared: %d keys present, %d differ\n", present,
              differ);

  replica->state().replication().Shutdown();
  replica.reset();
  replica_db.reset();
  server_->Stop();
  engine::Stats st = db_->GetStats();
  db_.reset();
  capturing_.store(false);
  ExpectCrashesChecked(st, "server crash test with a replica");
  EXPECT_EQ(CheckFinal(region_->DurableImage()), "");
}

}  // namespace
}  // namespace daxkv::kv::server_crash
