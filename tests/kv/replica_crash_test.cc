// Replica crash test on the simulator (issue 15): a fake master drives the
// real replica link (full sync, then a stream of SET, DEL, APPEND, INCR,
// MULTI/EXEC blocks, PINGs, GETACKs, FUNCTION LOAD and DELETE, and now and
// then a FLUSHALL, sent in chunks cut at random bytes, so a read may end
// inside a command or a block) into an engine on a SimRegion. At every
// persist point the power is cut (several images, every keep
// probability); each image is recovered and must hold a resume record
// (kv/replica_resume.h) whose offset is a command or block boundary of the
// stream, exactly the data and function libraries of the stream's prefix
// up to that offset (no more, no less), and an offset no lower than any
// REPLCONF ACK the master had received. Then a restart on the final
// durable image resumes with PSYNC <replid> <offset+1>.
//
// Environment: DAXKV_CRASH_SCALE / DAXKV_CRASH_LONG (crash_harness.h).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/borrowed_region.h"
#include "kv/function_store.h"
#include "kv/replica_resume.h"
#include "kv/server_state.h"
#include "tests/engine/crash_harness.h"
#include "tests/kv/fake_master.h"
#include "tests/kv/sim_engine_options.h"
#include "tests/support/fake_clock.h"
#include "tests/support/sim_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::kv {
namespace {

constexpr size_t kSegment = 64 * 1024;
constexpr size_t kSegments = 24;
constexpr int64_t kStart = 100;  // the FULLRESYNC offset
constexpr double kKeep[] = {0.5, 0.9, 0.1, 0.0};
const std::string kReplid(40, 'a');

using KeyModel = std::map<std::string, std::string>;  // absent: not there

// The stream, unit by unit (a command, or a whole MULTI/EXEC block): the
// data after each unit by the offset it ends at.
struct Stream {
  std::vector<std::string> bytes;  // per unit
  std::vector<bool> getack;        // the unit is a REPLCONF GETACK
  std::map<int64_t, KeyModel> states;
  std::map<int64_t, bool> flush_next;  // the unit after it is a FLUSHALL
  std::map<int64_t, std::set<std::string>> libs;  // function libraries
  std::vector<std::string> keys;       // every key ever written
};

std::string Set(KeyModel* m, const std::string& k, std::string v) {
  (*m)[k] = v;
  return Command({"SET", k, v});
}

// A FUNCTION LOAD of library n when it is absent, else its FUNCTION
// DELETE, applied to *libs. Either fails if applied twice.
std::string FunctionUnit(std::mt19937_64& rng, std::set<std::string>* libs) {
  const std::string n = std::to_string(rng() % 3);
  const std::string lib = "lib" + n;
  if (libs->erase(lib) == 1) return Command({"FUNCTION", "DELETE", lib});
  libs->insert(lib);
  return Command({"FUNCTION", "LOAD",
                  "#!lua name=" + lib + "\nredis.register_function('f" + n +
                      "', function(keys, args) return " + n + " end)"});
}

// One unit from `rng`, applied to *m and *libs.
std::string NextUnit(std::mt19937_64& rng, uint64_t seq, KeyModel* m,
                     std::set<std::string>* libs, bool* flush) {
  auto key = [&] { return "k" + std::to_string(rng() % 16); };
  const int pick = static_cast<int>(rng() % 100);
  *flush = false;
  if (pick < 30) {
    const std::string k = key();
    return Set(m, k, engine::crash::MakeValue(k, seq, 20 + rng() % 200));
  }
  if (pick < 40) {
    const std::string k = key();
    m->erase(k);
    return Command({"DEL", k});
  }
  if (pick < 50) {
    const std::string k = "a" + std::to_string(rng() % 3);
    (*m)[k] += "x" + std::to_string(seq);
    return Command({"APPEND", k, "x" + std::to_string(seq)});
  }
  if (pick < 62) {
    const std::string k = "ctr" + std::to_string(rng() % 3);
    auto it = m->find(k);
    (*m)[k] = std::to_string((it == m->end() ? 0 : std::stoll(it->second)) + 1);
    return Command({"INCR", k});
  }
  if (pick < 85) {  // a block of 2..5 writes: all of it or none of it
    std::string s = Command({"MULTI"});
    for (int i = 0, n = 2 + static_cast<int>(rng() % 4); i < n; ++i) {
      const std::string k = key();
      if (rng() % 4 == 0) {
        m->erase(k);
        s += Command({"DEL", k});
      } else {
        s += Set(m, k, engine::crash::MakeValue(k, seq * 8 + i, 20 + rng() % 100));
      }
    }
    return s + Command({"EXEC"});
  }
  if (pick < 89) return Command({"PING"});
  if (pick < 93) return FunctionUnit(rng, libs);
  if (pick < 98) return Command({"REPLCONF", "GETACK", "*"});
  m->clear();
  *flush = true;
  return Command({"FLUSHALL"});
}

Stream MakeStream(int units, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Stream st;
  KeyModel m{{"loaded", "1"}};  // OneKeyRdb()
  std::set<std::string> libs;
  int64_t off = kStart;
  st.states[off] = m;
  st.libs[off] = libs;
  std::map<std::string, bool> keys{{"loaded", true}};
  for (int u = 0; u < units; ++u) {
    bool flush = false;
    const int64_t before = off;
    st.bytes.push_back(u + 1 == units ? Command({"REPLCONF", "GETACK", "*"})
                                      : NextUnit(rng, static_cast<uint64_t>(u),
                                                 &m, &libs, &flush));
    st.getack.push_back(st.bytes.back() ==
                        Command({"REPLCONF", "GETACK", "*"}));
    st.flush_next[before] = flush;
    off += static_cast<int64_t>(st.bytes.back().size());
    st.states[off] = m;
    st.libs[off] = libs;
    for (const auto& [k, v] : m) keys[k] = true;
  }
  st.flush_next[off] = false;
  for (const auto& [k, unused] : keys) st.keys.push_back(k);
  return st;
}

engine::Options EngineOptions() { return QuietSimEngineOptions(kSegment); }

// "" when `db` stores exactly the libraries `want` (the stream's prefix up
// to offset r): a FUNCTION change applied again after a crash would fail,
// or one applied without its offset would show here.
std::string CheckLibraries(engine::DB& db, const std::set<std::string>& want,
                           int64_t r) {
  auto stored = db.ListSystem(kFunctionKeyPrefix);
  if (!stored.ok()) return "ListSystem: " + stored.status().ToString() + "; ";
  std::set<std::string> got;
  for (const auto& [key, code] : *stored) {
    got.insert(key.starts_with(kFunctionKeyPrefix)
                   ? key.substr(kFunctionKeyPrefix.size())
                   : key);
  }
  if (got == want) return "";
  auto join = [](const std::set<std::string>& s) {
    std::string j;
    for (const auto& x : s) j += x + " ";
    return j;
  };
  return "at offset " + std::to_string(r) + " the pool's libraries are [" +
         join(got) + "], the prefix has [" + join(want) + "]; ";
}

// "" when the recovered image is the stream's prefix up to its recorded
// offset, and that offset covers `acked`.
std::string CheckImage(const std::vector<char>& image, const Stream& st,
                       int64_t acked, int64_t* recovered) {
  testing::SimRegion region(image);
  auto db = engine::DB::Open(std::make_unique<engine::BorrowedRegion>(region),
                             EngineOptions());
  if (!db.ok()) return "open after the crash failed: " + db.status().ToString();
  auto rec = (*db)->GetSystem(kReplicaResumeKey);
  if (!rec.ok()) return "no resume record: " + rec.status().ToString();
  if (rec->size() < 42 || rec->substr(0, 41) != kReplid + " ") {
    return "bad resume record '" + *rec + "'";
  }
  const int64_t r = std::stoll(rec->substr(41));
  *recovered = r;
  auto state = st.states.find(r);
  if (state == st.states.end()) {
    return "recorded offset " + std::to_string(r) +
           " is not a command or block boundary";
  }
  std::string out = CheckLibraries(**db, st.libs.at(r), r);
  if (acked > r) {
    out += "ACKed offset " + std::to_string(acked) + " > recovered " +
           std::to_string(r) + "; ";
  }
  // A crash between a FLUSHALL (persisted by itself) and the record after
  // it: the record is before it and the data flushed (resuming flushes
  // again: the same data).
  const bool flushed_ahead =
      st.flush_next.at(r) && (*db)->Count() == 0;
  if (flushed_ahead) return out;
  for (const std::string& k : st.keys) {
    auto got = (*db)->Get(k);
    auto want = state->second.find(k);
    const std::string g = got.ok() ? got->value : "<absent>";
    const std::string w =
        want == state->second.end() ? "<absent>" : want->second;
    if (g != w) {
      out += "at offset " + std::to_string(r) + " key " + k + " reads " +
             g.substr(0, 40) + ", the prefix has " + w.substr(0, 40) + "; ";
    }
  }
  if ((*db)->Count() != state->second.size()) {
    out += "key count " + std::to_string((*db)->Count()) + " != " +
           std::to_string(state->second.size()) + "; ";
  }
  return out;
}

TEST(ReplicaCrashTest, RecoveredDataIsThePrefixUpToTheRecordedOffset) {
  const engine::crash::CrashConfig config =
      engine::crash::CrashConfig::FromEnv();
  const Stream st = MakeStream(config.Ops(600), 15);
  testing::SimRegion region(8192 + kSegments * kSegment);
  auto opened = engine::DB::Open(
      std::make_unique<engine::BorrowedRegion>(region), EngineOptions());
  ASSERT_OK(opened);
  std::unique_ptr<engine::DB> db = std::move(*opened);
  FakeClock clock;
  ServerConfig server_config;
  auto state = std::make_unique<ServerState>(db.get(), server_config, &clock);

  std::atomic<bool> capturing{false};
  std::atomic<int64_t> acked{kStart};
  std::mutex mu;
  std::vector<std::string> failures;
  uint64_t images = 0, points = 0;
  std::map<int64_t, int> recovered_at;  // offsets images recovered to
  region.SetPersistHook([&](uint64_t point) {
    if (!capturing.load()) return;
    // Read before the images: every ACK received so far was durable.
    const int64_t a = acked.load();
    std::lock_guard<std::mutex> l(mu);
    ++points;
    for (int i = 0; i < config.seeds_per_point; ++i) {
      const uint64_t seed = point * 16 + static_cast<uint64_t>(i);
      const double keep = kKeep[(point * 2 + i) % 4];
      int64_t r = -1;
      const std::string v = CheckImage(region.CrashImage(seed, keep), st, a, &r);
      ++images;
      ++recovered_at[r];
      if (!v.empty() && failures.size() < 8) {
        failures.push_back("persist point " + std::to_string(point) +
                           ", image seed " + std::to_string(seed) +
                           ", keep " + std::to_string(keep) + ": " + v);
      }
    }
  });

  FakeMaster master;
  state->replication().ReplicaOf("127.0.0.1", master.port());
  ASSERT_TRUE(master.Accept());
  ASSERT_EQ(AnswerHandshake(master),
            (std::vector<std::string>{"PSYNC", "?", "-1"}));
  master.Send("+FULLRESYNC " + kReplid + " " + std::to_string(kStart) +
              "\r\n");
  const std::string rdb = OneKeyRdb();
  master.Send("$" + std::to_string(rdb.size()) + "\r\n" + rdb);
  ASSERT_EQ(master.ReadAckReaching(kStart), kStart);
  capturing.store(true);

  std::mt19937_64 rng(7);
  int64_t off = kStart;
  for (size_t u = 0; u < st.bytes.size() && !HasFailure();) {
    // Up to 6 units, ending early at a GETACK (then the ACK is awaited).
    std::string chunk;
    bool wait = false;
    for (size_t n = 1 + rng() % 6; n > 0 && u < st.bytes.size() && !wait;
         --n, ++u) {
      chunk += st.bytes[u];
      wait = st.getack[u];
    }
    off += static_cast<int64_t>(chunk.size());
    // Cut at a random byte: the replica may read half a command or block.
    const size_t cut = rng() % (chunk.size() + 1);
    master.Send(chunk.substr(0, cut));
    if (rng() % 2 == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    master.Send(chunk.substr(cut));
    if (wait) {
      const int64_t a = master.ReadAckReaching(off);
      ASSERT_EQ(a, off);
      acked.store(a);
    }
  }
  capturing.store(false);
  state->replication().Shutdown();  // stops the link; the record stays
  region.SetPersistHook(nullptr);
  {
    std::lock_guard<std::mutex> l(mu);
    for (const std::string& f : failures) ADD_FAILURE() << f;
  }
  std::printf(
      "[crash] replica: %zu stream units, %llu persist points, %llu images "
      "recovered to %zu distinct offsets\n",
      st.bytes.size(), static_cast<unsigned long long>(points),
      static_cast<unsigned long long>(images), recovered_at.size());
  EXPECT_GT(images, config.full_run() ? 200u : 0u);
  EXPECT_GT(recovered_at.size(), config.full_run() ? 30u : 0u);

  // The durable image after the stream: the whole stream, and a restart on
  // it resumes from there.
  state.reset();
  db.reset();
  ASSERT_EQ(off, st.states.rbegin()->first);
  int64_t r = -1;
  const std::vector<char> image = region.DurableImage();
  EXPECT_EQ(CheckImage(image, st, off, &r), "");
  EXPECT_EQ(r, off);
  testing::SimRegion restarted(image);
  auto reopened = engine::DB::Open(
      std::make_unique<engine::BorrowedRegion>(restarted), EngineOptions());
  ASSERT_OK(reopened);
  state = std::make_unique<ServerState>(reopened->get(), server_config, &clock);
  int64_t resume = -1;
  ASSERT_OK(LoadReplicaResumePoint(**reopened, state->replication(), &resume));
  EXPECT_EQ(resume, off);
  FakeMaster again;
  state->replication().ReplicaOf("127.0.0.1", again.port());
  ASSERT_TRUE(again.Accept());
  EXPECT_EQ(AnswerHandshake(again),
            (std::vector<std::string>{"PSYNC", kReplid,
                                      std::to_string(off + 1)}));
  state->replication().Shutdown();
  state.reset();
}

// A full sync cut short leaves no resume record (it would claim data the
// pool no longer holds): the next PSYNC, and the next start, sync fully.
TEST(ReplicaResumeRecordTest, FullSyncCutShortLeavesNone) {
  testing::SimRegion region(8192 + kSegments * kSegment);
  auto db = engine::DB::Open(std::make_unique<engine::BorrowedRegion>(region),
                             EngineOptions());
  ASSERT_OK(db);
  FakeClock clock;
  ServerState state(db->get(), ServerConfig(), &clock);
  FakeMaster master;
  state.replication().ReplicaOf("127.0.0.1", master.port());
  ASSERT_TRUE(master.Accept());
  ASSERT_EQ(AnswerHandshake(master),
            (std::vector<std::string>{"PSYNC", "?", "-1"}));
  master.Send("+FULLRESYNC " + kReplid + " 100\r\n");
  const std::string rdb = OneKeyRdb();
  master.Send("$" + std::to_string(rdb.size()) + "\r\n" + rdb);
  const std::string set = Command({"SET", "k", "v"});
  master.Send(set);
  const int64_t off = 100 + static_cast<int64_t>(set.size());
  ASSERT_EQ(master.ReadAckReaching(off), off);
  EXPECT_EQ(*(*db)->GetSystem(kReplicaResumeKey),
            ReplicaResumeRecord(kReplid, off));

  master.Drop();  // the link resumes; this time the master syncs fully...
  ASSERT_TRUE(master.Accept());
  ASSERT_EQ(AnswerHandshake(master),
            (std::vector<std::string>{"PSYNC", kReplid,
                                      std::to_string(off + 1)}));
  master.Send("+FULLRESYNC " + std::string(40, 'b') + " 500\r\n");
  master.Send("$" + std::to_string(rdb.size()) + "\r\n" +
              rdb.substr(0, rdb.size() / 2));
  master.Drop();  // ...and the RDB stops half way
  ASSERT_TRUE(master.Accept());
  EXPECT_EQ(AnswerHandshake(master),
            (std::vector<std::string>{"PSYNC", "?", "-1"}));
  EXPECT_THAT((*db)->GetSystem(kReplicaResumeKey).status(),
              StatusIs(StatusCode::kNotFound));
  state.replication().Shutdown();
}

}  // namespace
}  // namespace daxkv::kv
