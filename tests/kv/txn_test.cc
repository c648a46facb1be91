#include <gtest/gtest.h>

#include <future>
#include <string>
#include <thread>

#include "engine/key_hash.h"
#include "engine/txn.h"
#include "tests/kv/kv_fixture.h"

namespace daxkv::kv {
namespace {

using TxnTest = KvFixture;

TEST_F(TxnTest, MultiExec) {
  EXPECT_EQ(Run("EXEC"), "-ERR EXEC without MULTI\r\n");
  EXPECT_EQ(Run("DISCARD"), "-ERR DISCARD without MULTI\r\n");
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("MULTI"), "-ERR MULTI calls can not be nested\r\n");
  EXPECT_EQ(Run("SET a 1"), "+QUEUED\r\n");
  EXPECT_EQ(Run("INCR a"), "+QUEUED\r\n");
  EXPECT_EQ(Run("GET a"), "+QUEUED\r\n");
  EXPECT_EQ(Run("SET s x"), "+QUEUED\r\n");
  EXPECT_EQ(Run("INCR s"), "+QUEUED\r\n");
  EXPECT_EQ(Run("WATCH a"), "-ERR WATCH inside MULTI is not allowed\r\n");
  EXPECT_EQ(Run("EXEC"),
            "*5\r\n+OK\r\n:2\r\n$1\r\n2\r\n+OK\r\n"
            "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run("GET a"), Bulk("2"));
}

TEST_F(TxnTest, QueueingErrorAbortsWholeBlock) {
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("SET a 1"), "+QUEUED\r\n");
  EXPECT_EQ(Run("GET"), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(Run("EXEC"),
            "-EXECABORT Transaction discarded because of previous errors.\r\n");
  EXPECT_EQ(Run("EXISTS a"), Int(0));
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("NOPE"),
            "-ERR unknown command 'NOPE', with args beginning with: \r\n");
  EXPECT_EQ(Run("EXEC").substr(0, 10), "-EXECABORT");
}

TEST_F(TxnTest, Discard) {
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("SET a 1"), "+QUEUED\r\n");
  EXPECT_EQ(Run("DISCARD"), kOk);
  EXPECT_EQ(Run("EXISTS a"), Int(0));
}

TEST_F(TxnTest, WatchAbortsOnChange) {
  Client other;
  other.id = 77;
  other.authenticated = true;
  EXPECT_EQ(Run("SET w 1"), kOk);
  EXPECT_EQ(Run("WATCH w"), kOk);
  EXPECT_EQ(RunAs(other, {"SET", "w", "2"}), kOk);
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("SET w 3"), "+QUEUED\r\n");
  EXPECT_EQ(Run("EXEC"), "*-1\r\n");
  EXPECT_EQ(Run("GET w"), Bulk("2"));
  // Watches are cleared by EXEC: the next block runs.
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("SET w 3"), "+QUEUED\r\n");
  EXPECT_EQ(Run("EXEC"), "*1\r\n+OK\r\n");
  // A watched absent key that gets created aborts too.
  EXPECT_EQ(Run("WATCH fresh"), kOk);
  EXPECT_EQ(RunAs(other, {"SET", "fresh", "x"}), kOk);
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("EXEC"), "*-1\r\n");
  // UNWATCH forgets.
  EXPECT_EQ(Run("WATCH w"), kOk);
  EXPECT_EQ(RunAs(other, {"SET", "w", "9"}), kOk);
  EXPECT_EQ(Run("UNWATCH"), kOk);
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("GET w"), "+QUEUED\r\n");
  EXPECT_EQ(Run("EXEC"), "*1\r\n$1\r\n9\r\n");
}

// Redis 7.0: any write to a watched key aborts the EXEC, even one that
// leaves it as it was (absent again after SET + DEL: same version 0).
TEST_F(TxnTest, WatchSeesWritesThatRestoreTheOldState) {
  Client other;
  other.id = 78;
  other.authenticated = true;
  EXPECT_EQ(Run("WATCH k"), kOk);
  EXPECT_EQ(RunAs(other, {"SET", "k", "1"}), kOk);
  EXPECT_EQ(RunAs(other, {"DEL", "k"}), Int(1));
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("PING"), "+QUEUED\r\n");
  EXPECT_EQ(Run("EXEC"), "*-1\r\n");
  // A write that changes nothing (DEL of an absent key) does not abort.
  EXPECT_EQ(Run("WATCH k"), kOk);
  EXPECT_EQ(RunAs(other, {"DEL", "k"}), Int(0));
  EXPECT_EQ(RunAs(other, {"GETDEL", "k"}), kNil);
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("EXEC"), "*0\r\n");
  // FLUSHALL aborts the watchers of keys that existed.
  EXPECT_EQ(Run("SET k 1"), kOk);
  EXPECT_EQ(Run("WATCH k"), kOk);
  EXPECT_EQ(RunAs(other, {"FLUSHALL"}), kOk);
  EXPECT_EQ(RunAs(other, {"SET", "k", "1"}), kOk);
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("EXEC"), "*-1\r\n");
  // Another client's EXEC writing the key aborts too.
  EXPECT_EQ(Run("WATCH k"), kOk);
  EXPECT_EQ(RunAs(other, {"MULTI"}), kOk);
  EXPECT_EQ(RunAs(other, {"SET", "k", "1"}), "+QUEUED\r\n");
  EXPECT_EQ(RunAs(other, {"EXEC"}), "*1\r\n+OK\r\n");
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("EXEC"), "*-1\r\n");
  state_->Unregister(&other);
}

// A watched key that expires before EXEC aborts it (Redis 7.0's
// isWatchedKeyExpired); one already expired at WATCH does not.
TEST_F(TxnTest, WatchSeesExpiry) {
  EXPECT_EQ(Run("SET k v PX 100"), kOk);
  EXPECT_EQ(Run("WATCH k"), kOk);
  clock_.AdvanceMs(200);
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("EXEC"), "*-1\r\n");
  EXPECT_EQ(Run("SET k v PX 100"), kOk);
  clock_.AdvanceMs(200);
  EXPECT_EQ(Run("WATCH k"), kOk);
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("EXEC"), "*0\r\n");
}

// The MULTI queue and the WATCHed keys are memory a client makes the
// server hold: bounded by the query buffer limit (the client is closed).
TEST_F(TxnTest, QueueAndWatchesAreBounded) {
  config_.client_query_buffer_limit = 1 << 20;
  UseDb(db_.get());
  const std::string value(100 * 1024, 'v');
  EXPECT_EQ(Run("MULTI"), kOk);
  int queued = 0;
  while (!client_.close_asap && queued < 20) {
    EXPECT_EQ(RunArgs({"SET", "k", value}), "+QUEUED\r\n");
    ++queued;
  }
  EXPECT_TRUE(client_.close_asap);
  EXPECT_EQ(queued, 11);
  EXPECT_EQ(Run("DISCARD"), kOk);
  client_.close_asap = false;
  const std::string key(300 * 1024, 'k');
  for (char c : std::string("abcd")) {
    EXPECT_EQ(RunArgs({"WATCH", key + c}), kOk);
  }
  EXPECT_TRUE(client_.close_asap);
  EXPECT_EQ(Run("UNWATCH"), kOk);
  EXPECT_EQ(client_.watched_bytes, 0u);
}

TEST_F(TxnTest, BlockSeesItsOwnWritesAndIsAtomicAcrossRestart) {
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("SET a 10"), "+QUEUED\r\n");
  EXPECT_EQ(Run("INCRBY a 5"), "+QUEUED\r\n");
  EXPECT_EQ(Run("RENAME a b"), "+QUEUED\r\n");
  EXPECT_EQ(Run("EXISTS a b"), "+QUEUED\r\n");
  EXPECT_EQ(Run("APPEND b x"), "+QUEUED\r\n");
  EXPECT_EQ(Run("EXEC"), "*5\r\n+OK\r\n:15\r\n+OK\r\n:1\r\n:3\r\n");
  Reopen();
  EXPECT_EQ(Run("GET b"), Bulk("15x"));
  EXPECT_EQ(Run("EXISTS a"), Int(0));
}

TEST_F(TxnTest, FlushInsideBlock) {
  EXPECT_EQ(Run("MSET a 1 b 2"), kOk);
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("FLUSHDB"), "+QUEUED\r\n");
  EXPECT_EQ(Run("SET c 3"), "+QUEUED\r\n");
  EXPECT_EQ(Run("GET a"), "+QUEUED\r\n");
  EXPECT_EQ(Run("EXEC"), "*3\r\n+OK\r\n+OK\r\n$-1\r\n");
  EXPECT_EQ(Run("DBSIZE"), Int(1));
  EXPECT_EQ(Run("GET c"), Bulk("3"));
}

TEST_F(TxnTest, Resp3NullArrayOnAbort) {
  EXPECT_EQ(Run("HELLO 3").substr(0, 1), "%");
  EXPECT_EQ(Run("WATCH k"), kOk);
  EXPECT_EQ(Run("SET k changed"), kOk);
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("EXEC"), "_\r\n");
}

// Collections in a block (docs/collections.md §11): one engine Txn; a
// runtime error leaves nothing of its command and the rest applied.
TEST_F(TxnTest, CollectionsInBlockWithRuntimeError) {
  EXPECT_EQ(Run("SET s str"), kOk);
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("HSET h f v"), "+QUEUED\r\n");
  EXPECT_EQ(Run("RPUSH s x"), "+QUEUED\r\n");
  EXPECT_EQ(Run("ZADD z 1 m"), "+QUEUED\r\n");
  EXPECT_EQ(Run("ZADD z INCR nan m"), "+QUEUED\r\n");
  EXPECT_EQ(Run("SADD t a b"), "+QUEUED\r\n");
  EXPECT_EQ(Run("HGET h f"), "+QUEUED\r\n");
  EXPECT_EQ(Run("EXEC"),
            "*6\r\n:1\r\n-WRONGTYPE Operation against a key holding the "
            "wrong kind of value\r\n:1\r\n-ERR value is not a valid "
            "float\r\n:2\r\n" + Bulk("v"));
  Reopen();
  EXPECT_EQ(Run("GET s"), Bulk("str"));
  EXPECT_EQ(Run("ZSCORE z m"), Bulk("1"));
  EXPECT_EQ(Run("SCARD t"), Int(2));
  EXPECT_EQ(Run("HGET h f"), Bulk("v"));
}

// A script's collection writes before its error stay (Redis never rolls a
// script back); the failing redis.call itself leaves nothing.
TEST_F(TxnTest, ScriptErrorKeepsEarlierCollectionWrites) {
  EXPECT_EQ(Run("SET s str"), kOk);
  const std::string reply = RunArgs(
      {"EVAL",
       "redis.call('LPUSH', KEYS[1], 'a') redis.call('HSET', KEYS[2], 'f', "
       "'v') return redis.call('SADD', KEYS[3], 'm')",
       "3", "l", "h", "s"});
  EXPECT_EQ(reply.substr(0, 10), "-WRONGTYPE") << reply;
  Reopen();
  EXPECT_EQ(Run("LRANGE l 0 -1"), "*1\r\n" + Bulk("a"));
  EXPECT_EQ(Run("HGET h f"), Bulk("v"));
  EXPECT_EQ(Run("GET s"), Bulk("str"));
}

// A key the block did not declare (LMPOP's numkeys form) whose stripe is
// held by another writer, below a stripe the block holds: the Txn
// restarts with it declared, and the block runs again from scratch, its
// replies reset (one reply per command, not two), each command counted
// and slow-logged once (kv/command_notes.h).
TEST_F(TxnTest, RestartRunsTheBlockOnceFromScratch) {
  auto stripe = [](const std::string& k) {
    return engine::KeyHash(k).low() & 4095;
  };
  std::string low = "l0", high = "h0";
  for (int i = 1; stripe(low) >= stripe(high); ++i) {
    high = "h" + std::to_string(i);
  }
  EXPECT_EQ(RunArgs({"RPUSH", low, "x"}), Int(1));
  std::promise<void> held, release;
  std::thread other([&] {
    engine::TxnOptions opts;
    opts.keys = {low};
    auto txn = db_->BeginTxn(opts);
    ASSERT_TRUE(txn.ok());
    held.set_value();
    release.get_future().wait();
    (*txn)->Abort();
  });
  held.get_future().wait();
  EXPECT_EQ(Run("CONFIG SET slowlog-log-slower-than 0"), kOk);
  EXPECT_EQ(Run("SLOWLOG RESET"), kOk);
  const uint64_t processed = state_->stats().commands_processed.load();
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(RunArgs({"SET", high, "1"}), "+QUEUED\r\n");
  EXPECT_EQ(RunArgs({"LMPOP", "1", low, "LEFT"}), "+QUEUED\r\n");
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    release.set_value();
  });
  EXPECT_EQ(Run("EXEC"),
            "*2\r\n+OK\r\n*2\r\n" + Bulk(low) + "*1\r\n" + Bulk("x"));
  releaser.join();
  other.join();
  // MULTI, EXEC and the block's two (queueing runs nothing), as Redis
  // counts calls: four, where the restart's first run made it six.
  EXPECT_EQ(state_->stats().commands_processed.load() - processed, 4u);
  const std::string stats = Run("INFO commandstats");
  EXPECT_NE(stats.find("cmdstat_set:calls=1,"), std::string::npos) << stats;
  EXPECT_NE(stats.find("cmdstat_lmpop:calls=1,"), std::string::npos) << stats;
  const std::string slow = Run("SLOWLOG GET 100");
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = slow.find(what); at != std::string::npos;
         at = slow.find(what, at + 1)) {
      ++n;
    }
    return n;
  };
  EXPECT_EQ(count("$5\r\nLMPOP\r\n"), 1u) << slow;
  EXPECT_EQ(count("$3\r\nSET\r\n"), 1u) << slow;
  EXPECT_EQ(RunArgs({"EXISTS", low}), Int(0));
}

}  // namespace
}  // namespace daxkv::kv
