// The server crash test's workload and image checks
// (tests/kv/server_crash_workload.h).
#include "tests/kv/server_crash_workload.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "engine/borrowed_region.h"
#include "tests/engine/crash_harness.h"
#include "tests/kv/in_process_server.h"
#include "tests/kv/server_crash_colls.h"
#include "tests/kv/server_crash_model.h"
#include "tests/kv/sim_engine_options.h"
#include "tests/support/sim_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::kv::server_crash {
namespace {

constexpr double kKeep[] = {0.0, 0.5, 0.9, 0.1};

}  // namespace

engine::Options EngineOptions(bool background, bool compaction) {
  engine::Options o;
  o.segment_size = kSegment;
  o.recovery_threads = 1;
  o.background_compaction = background && compaction;
  o.background_expiry = background;
  return o;
}

// `key` in `db` in the model's form (a collection's canonical string);
// errors other than absence go to *errors.
Value ReadKey(engine::DB& db, const std::string& key, std::string* errors) {
  auto r = db.Get(key);
  if (r.ok()) return r->value;
  if (engine::IsWrongType(r.status())) {  // a collection
    auto c = crash_colls::Read(db, key);
    if (c.ok()) return *c;
    *errors += "read(" + key + "): " + c.status().ToString() + "; ";
  } else if (r.status().code() != StatusCode::kNotFound) {
    *errors += "Get(" + key + "): " + r.status().ToString() + "; ";
  }
  return std::nullopt;
}

namespace {

// Whether `key` (read absent) may have expired: its acknowledged SET, or
// the one in flight, had a TTL whose deadline has passed.
bool MayHaveExpired(const Snapshot& snap, int c, const std::string& key,
                    const Op* op) {
  const int64_t now = SystemClock()->NowMs();  // after the read
  auto d = snap.deadline[c].find(key);
  if (d != snap.deadline[c].end() && now >= d->second) return true;
  return op != nullptr && op->ttl_ms > 0 && op->writes.count(key) != 0 &&
         now >= op->deadline_ms;
}

// Client c's keys in `db` against what it was told.
void CheckClient(engine::DB& db, const Snapshot& snap, int c,
                 std::string* out) {
  const Op* op = snap.inflight[c] ? &*snap.inflight[c] : nullptr;
  KeyModel keys = snap.acked[c];
  if (op != nullptr) keys.insert(op->writes.begin(), op->writes.end());
  int before = 0, after = 0;
  for (const auto& [key, unused] : keys) {
    Value got = ReadKey(db, key, out);
    auto a = snap.acked[c].find(key);
    Value acked = a == snap.acked[c].end() ? std::nullopt : a->second;
    bool is_acked = got == acked;
    bool in_op = op != nullptr && op->writes.count(key) != 0;
    bool is_new = in_op && got == op->writes.at(key);
    if (in_op && is_acked && !is_new) ++before;
    if (is_new && !is_acked) ++after;
    if (is_acked || is_new || (snap.flush_inflight && !got)) continue;
    if (!got && MayHaveExpired(snap, c, key, op)) continue;
    *out += "key " + key + " reads " + Show(got) + ", acknowledged " +
            Show(acked) +
            (op ? " (in flight: " + op->what + ")" : std::string()) +
            " history: " + snap.history[c] + "; ";
  }
  if (op != nullptr && op->atomic && before > 0 && after > 0) {
    *out += "'" + op->what + "' half applied (" + std::to_string(after) +
            " keys after, " + std::to_string(before) + " before); ";
  }
}

// "" when the recovered image holds what `snap` allows; else the first
// violations.
std::string CheckImage(const std::vector<char>& image, const Snapshot& snap) {
  testing::SimRegion region(image);
  auto db = engine::DB::Open(std::make_unique<engine::BorrowedRegion>(region),
                             EngineOptions(false));
  if (!db.ok()) return "open after the crash failed: " + db.status().ToString();
  std::string out;
  for (int c = 0; c < kClients; ++c) CheckClient(**db, snap, c, &out);
  for (const auto& [key, ctr] : snap.counters) {
    Value got = ReadKey(**db, key, &out);
    int64_t v = got ? std::stoll(*got) : 0;
    if ((v < ctr.acked || v > ctr.sent) && !(snap.flush_inflight && v == 0)) {
      out += "counter " + key + " = " + std::to_string(v) + ", acknowledged " +
             std::to_string(ctr.acked) + ", sent " + std::to_string(ctr.sent) +
             "; ";
    }
  }
  return out;
}

// The EVAL operation: returns STRLEN of its second key (an integer reply).
constexpr char kScript[] =
    "redis.call('set', KEYS[1], ARGV[1]) "
    "redis.call('set', KEYS[2], redis.call('get', KEYS[1]) .. ARGV[2]) "
    "redis.call('del', KEYS[3]) "
    "return redis.call('strlen', KEYS[2])";

// Every byte depends on (key, seq): a torn or stale value never matches.
using engine::crash::MakeValue;

// Expiring keys (5..64 ms): the engine's expiry reclaim deletes them while
// the clients write, and (with a replica attached) sends a DEL for each
// down the replication stream. One SET in four has no TTL: the key lives
// on, and a DEL of its expired predecessor must not take it (on the server
// or on a replica).
Op ExpiringSetOp(const std::string& p, std::mt19937_64& rng, uint64_t seq) {
  Op op;
  std::string key = p + "x" + std::to_string(rng() % 6);
  std::string v = MakeValue(key, seq, 20 + rng() % 200);
  op.writes[key] = v;
  if (rng() % 4 == 0) {
    op.what = "SET " + key;
    op.requests = {{"SET", key, v}};
    return op;
  }
  op.ttl_ms = 5 + static_cast<int64_t>(rng() % 60);
  op.what = "SET " + key + " PX " + std::to_string(op.ttl_ms);
  op.requests = {{"SET", key, v, "PX", std::to_string(op.ttl_ms)}};
  return op;
}

// SET (one in eight of 8-32 KB), DEL, APPEND (the
// model knows the acknowledged value it extends) or INCR: `pick` in
// [7, 70).
Op SingleKeyOp(const std::string& p, int pick, std::mt19937_64& rng,
               uint64_t seq, const KeyModel& acked) {
  Op op;
  if (pick < 35) {
    std::string key = p + "k" + std::to_string(rng() % 12);
    size_t len = rng() % 8 == 0 ? 8000 + rng() % 24000 : 20 + rng() % 400;
    std::string v = MakeValue(key, seq, len);
    op.what = "SET " + key;
    op.requests = {{"SET", key, v}};
    op.writes[key] = v;
  } else if (pick < 45) {
    std::string key = p + "k" + std::to_string(rng() % 12);
    op.what = "DEL " + key;
    op.requests = {{"DEL", key}};
    op.writes[key] = std::nullopt;
  } else if (pick < 55) {
    std::string key = p + "a" + std::to_string(rng() % 3);
    auto it = acked.find(key);
    std::string old = it != acked.end() && it->second ? *it->second : "";
    if (old.size() > 1500) {
      op.what = "DEL " + key;
      op.requests = {{"DEL", key}};
      op.writes[key] = std::nullopt;
    } else {
      std::string add = std::to_string(seq) + ",";
      op.what = "APPEND " + key;
      op.requests = {{"APPEND", key, add}};
      op.writes[key] = old + add;
    }
  } else {
    std::string ctr = "ctr" + std::to_string(rng() % kCounters);
    op.what = "INCR " + ctr;
    op.requests = {{"INCR", ctr}};
    op.counter = ctr;
  }
  return op;
}

// Writes to several keys that must commit together: MULTI/EXEC, MSET, or
// a script of three writes, one reading the script's own first write
// (all or nothing after a crash). `pick` in [70, 87) or [92, 100).
Op MultiKeyOp(const std::string& p, int pick, std::mt19937_64& rng,
              uint64_t seq) {
  Op op;
  const std::string n = std::to_string(rng() % 4);
  if (pick < 80) {
    std::string a = p + "t" + n + "a", b = p + "t" + n + "b";
    std::string del = p + "k" + std::to_string(rng() % 12);
    std::string va = MakeValue(a, seq, 64), vb = MakeValue(b, seq, 900);
    op.what = "MULTI SET " + a + " SET " + b + " DEL " + del + " EXEC";
    op.requests = {
        {"MULTI"}, {"SET", a, va}, {"SET", b, vb}, {"DEL", del}, {"EXEC"}};
    op.writes[a] = va;
    op.writes[b] = vb;
    op.writes[del] = std::nullopt;
  } else if (pick < 87) {
    std::string a = p + "m" + n + "a", b = p + "m" + n + "b";
    std::string va = MakeValue(a, seq, 300), vb = MakeValue(b, seq, 40);
    op.what = "MSET " + a + " " + b;
    op.requests = {{"MSET", a, va, b, vb}};
    op.writes[a] = va;
    op.writes[b] = vb;
  } else {
    std::string a = p + "e" + n + "a", b = p + "e" + n + "b";
    std::string del = p + "k" + std::to_string(rng() % 12);
    std::string va = MakeValue(a, seq, 200), vb = MakeValue(b, seq, 700);
    op.what = "EVAL SET " + a + " SET " + b + " DEL " + del;
    op.requests = {{"EVAL", kScript, "3", a, b, del, va, vb}};
    op.writes[a] = va;
    op.writes[b] = va + vb;
    op.writes[del] = std::nullopt;
  }
  return op;
}

}  // namespace

void ServerCrashTest::SetUp() {
  env_ = CrashEnv::Get();
  region_ = std::make_unique<testing::SimRegion>(8192 + kSegments * kSegment);
  ASSERT_NO_FATAL_FAILURE(StartSimServer(
      *region_, EngineOptions(true, env_.compaction),
      [this](uint64_t point) { OnPersistPoint(point); }, &db_, &server_));
}
void ServerCrashTest::TearDown() { StopSimServer(*region_, &db_, &server_); }

// The images first, then what the clients had been told: no group commit
// can finish meanwhile (this hook holds the region's lock, which every
// drain needs), so every reply already received is covered by an image,
// and every request whose stores an image may hold is in flight or
// acknowledged in the snapshot (a client marks a request in flight before
// it sends it).
void ServerCrashTest::OnPersistPoint(uint64_t point) {
  if (!capturing_.load()) return;
  points_.fetch_add(1);
  std::vector<std::pair<uint64_t, double>> seeds;
  std::vector<std::vector<char>> images;
  for (int i = 0; i < env_.images_per_point; ++i) {
    uint64_t seed = point * 16 + static_cast<uint64_t>(i);
    double keep = kKeep[(point * env_.images_per_point + i) % 4];
    seeds.emplace_back(seed, keep);
    images.push_back(region_->CrashImage(seed, keep));
  }
  Snapshot snap;
  {
    std::lock_guard<std::mutex> l(model_.mu);
    snap = static_cast<const Snapshot&>(model_);
  }
  for (size_t i = 0; i < images.size(); ++i) {
    images_.fetch_add(1);
    std::string v = CheckImage(images[i], snap);
    if (v.empty()) continue;
    violations_.fetch_add(1);
    std::lock_guard<std::mutex> l(failures_mu_);
    if (failures_.size() < 8) {
      failures_.push_back("workload seed " + std::to_string(env_.seed) +
                          ", persist point " + std::to_string(point) +
                          ", image seed " + std::to_string(seeds[i].first) +
                          ", keep " + std::to_string(seeds[i].second) + ": " +
                          v);
    }
  }
}

// The client's keys: x0..x5 (SET PX), k0..k11 (SET/DEL), a0..a2 (APPEND), t<n>a/b, m<n>a/b
// and e<n>a/b (MULTI/EXEC, MSET and EVAL pairs), h<n>, l<n>, z<n>, s<n> and
// cs<n> (CollBlockOp); shared counters ctr0..2.
Op ServerCrashTest::NextOp(int client, std::mt19937_64& rng, uint64_t seq) {
  const std::string p = "c" + std::to_string(client) + ":";
  const int pick = static_cast<int>(rng() % 100);
  const KeyModel& acked = model_.acked[client];  // read by this thread only
  if (pick < 7) return ExpiringSetOp(p, rng, seq);
  if (pick < 70) return SingleKeyOp(p, pick, rng, seq, acked);
  if (pick < 87 || pick >= 95) return MultiKeyOp(p, pick, rng, seq);
  const bool block = pick < 91;
  crash_colls::Block b = block ? crash_colls::MakeBlock(p, rng, seq, acked)
                               : crash_colls::MakePipeline(p, rng, seq, acked);
  Op op;
  op.what = std::move(b.what);
  op.requests = std::move(b.requests);
  op.writes = std::move(b.writes);
  op.atomic = block;
  return op;
}

// Sends the op, reads its replies and moves it from in flight to
// acknowledged. False (with a test failure) on an unexpected reply.
bool ServerCrashTest::Execute(int client, TestClient& conn, Op op) {
  // Before the send: the server's expiry time is later.
  if (op.ttl_ms > 0) op.deadline_ms = SystemClock()->NowMs() + op.ttl_ms;
  {
    std::lock_guard<std::mutex> l(model_.mu);
    model_.inflight[client] = op;
    if (!op.counter.empty()) ++model_.counters[op.counter].sent;
  }
  if (!conn.SendAll(op.requests)) return false;
  std::vector<Reply> replies;
  for (size_t i = 0; i < op.requests.size(); ++i)
    replies.push_back(conn.Read());
  const Reply& last = replies.back();
  bool good = last.type == ':' || last.ok() ||
              (last.type == '*' && !last.null &&
               last.elems.size() == op.requests.size() - 2);
  if (!good) {
    ADD_FAILURE() << "client " << client << " '" << op.what << "' got "
                  << last.Describe();
    return false;
  }
  std::lock_guard<std::mutex> l(model_.mu);
  for (const auto& [k, v] : op.writes) {
    model_.acked[client][k] = v;
    if (op.ttl_ms > 0) {
      model_.deadline[client][k] = op.deadline_ms;
    } else {
      model_.deadline[client].erase(k);
    }
  }
  if (!op.counter.empty()) {
    Counter& c = model_.counters[op.counter];
    c.acked = std::max(c.acked, last.integer);
  }
  model_.inflight[client].reset();
  model_.history[client] += op.what + " | ";
  if (model_.history[client].size() > 400) model_.history[client].erase(0, 200);
  return true;
}

// Every client pauses between operations; client 0 sends FLUSHALL.
void ServerCrashTest::PauseForFlush(int client) {
  std::unique_lock<std::mutex> l(flush_mu_);
  if (!flush_wanted_ || client == 0) return;
  uint64_t round = flush_round_;
  ++paused_;
  flush_cv_.notify_all();
  flush_cv_.wait(l, [&] { return flush_round_ != round; });
}

void ServerCrashTest::FlushAll(TestClient& conn) {
  {
    std::unique_lock<std::mutex> l(flush_mu_);
    flush_wanted_ = true;
    flush_cv_.wait(l, [&] { return paused_ == running_ - 1; });
  }
  {
    std::lock_guard<std::mutex> l(model_.mu);
    model_.flush_inflight = true;
  }
  Reply r = conn.Call({"FLUSHALL"});
  EXPECT_TRUE(r.ok()) << r.Describe();
  {
    // Acknowledged: every key is gone, for good.
    std::lock_guard<std::mutex> l(model_.mu);
    for (auto& keys : model_.acked) {
      for (auto& [k, v] : keys) v = std::nullopt;
    }
    for (auto& [k, c] : model_.counters) c = Counter{};
    model_.flush_inflight = false;
  }
  std::lock_guard<std::mutex> l(flush_mu_);
  flush_wanted_ = false;
  paused_ = 0;
  ++flush_round_;
  flush_cv_.notify_all();
}

void ServerCrashTest::RunClient(int client) {
  TestClient conn;
  ASSERT_TRUE(conn.Connect(server_->port()));
  std::mt19937_64 rng(env_.seed * 1000 + static_cast<uint64_t>(client));
  for (int i = 0; i < env_.ops_per_client; ++i) {
    if (env_.flushall && client == 0 && i > 0 && i % 100 == 0) {
      FlushAll(conn);
    }
    PauseForFlush(client);
    uint64_t seq = static_cast<uint64_t>(i) * kClients + client;
    if (!Execute(client, conn, NextOp(client, rng, seq))) break;
  }
  std::lock_guard<std::mutex> l(flush_mu_);
  --running_;
  flush_cv_.notify_all();
}

void ServerCrashTest::RunClients() {
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([this, c] { RunClient(c); });
  }
  for (auto& t : clients) t.join();
}

std::string ServerCrashTest::CheckFinal(const std::vector<char>& image) {
  // Nothing is in flight: every reply was read.
  Snapshot final_state = static_cast<const Snapshot&>(model_);
  for (auto& op : final_state.inflight) op.reset();
  final_state.flush_inflight = false;
  for (auto& [k, c] : final_state.counters) c.sent = c.acked;
  return CheckImage(image, final_state);
}

std::vector<std::string> ServerCrashTest::Keys() {
  std::lock_guard<std::mutex> l(model_.mu);
  std::vector<std::string> keys;
  for (const KeyModel& m : model_.acked) {
    for (const auto& [k, unused] : m) keys.push_back(k);
  }
  for (const auto& [k, unused] : model_.counters) keys.push_back(k);
  return keys;
}

void ServerCrashTest::ExpectCrashesChecked(const engine::Stats& st,
                                           const char* what) {
  std::printf(
      "%s: %d clients x %d ops, %llu persist points, %llu crash images "
      "checked, %llu compactions, %llu expired keys reclaimed\n",
      what, kClients, env_.ops_per_client,
      static_cast<unsigned long long>(points_.load()),
      static_cast<unsigned long long>(images_.load()),
      static_cast<unsigned long long>(st.compactions),
      static_cast<unsigned long long>(st.expired_reclaimed));
  for (const auto& f : failures_) ADD_FAILURE() << f;
  EXPECT_EQ(violations_.load(), 0u);
  // The test tests something: crashes were checked, compaction ran, and
  // the reclaim deleted expired keys while the clients wrote.
  EXPECT_GT(images_.load(), 500u);
  if (env_.compaction) {
    EXPECT_GT(st.compactions, 0u);
  }
  EXPECT_GT(st.expired_reclaimed, 0u);
}

}  // namespace daxkv::kv::server_crash
