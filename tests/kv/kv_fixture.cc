#include "tests/kv/kv_fixture.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <sstream>

#include "dax/region.h"
#include "kv/executor.h"
#include "kv/resp_writer.h"
#include "tests/support/status_matchers.h"

namespace daxkv::kv {

std::string Bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}
std::string Int(int64_t v) { return ":" + std::to_string(v) + "\r\n"; }

namespace {

std::unique_ptr<engine::DB> OpenDb(const std::string& path,
                                   const Clock* clock) {
  dax::OpenOptions ro;
  ro.create_if_missing = true;
  ro.create_size = 64ull << 20;
  auto region = dax::OpenRegion(path, ro);
  EXPECT_OK(region);
  if (!region.ok()) return nullptr;
  engine::Options eo;
  eo.segment_size = 1u << 20;
  eo.background_compaction = false;
  eo.background_expiry = false;
  eo.clock = clock;
  auto db = engine::DB::Open(std::move(*region), eo);
  EXPECT_OK(db);
  if (!db.ok()) return nullptr;
  return std::move(*db);
}

}  // namespace

void KvFixture::SetUp() {
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  path_ = "/dev/shm/daxkv_kv_test_" + std::to_string(getpid()) + "_" +
          std::to_string(counter++) + "_" + info->name() + ".pool";
  std::remove(path_.c_str());
  db_ = OpenDb(path_, &clock_);
  ASSERT_NE(db_, nullptr);
  state_ = std::make_unique<ServerState>(db_.get(), config_, &clock_);
  client_.id = state_->NextClientId();
  client_.authenticated = true;
  state_->Register(&client_, nullptr);
}

void KvFixture::TearDown() {
  if (state_) state_->Unregister(&client_);
  state_.reset();
  db_.reset();
  std::remove(path_.c_str());
}

std::thread KvFixture::HoldStripe(const std::string& key, int ms) {
  std::promise<void> held;
  std::future<void> is_held = held.get_future();
  std::thread holder([this, key, ms, held = std::move(held)]() mutable {
    engine::TxnOptions o;
    o.keys = {key};
    auto txn = db_->BeginTxn(o);
    ASSERT_TRUE(txn.ok());
    held.set_value();
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    (*txn)->Abort();
  });
  is_held.wait();
  return holder;
}

void KvFixture::Reopen() {
  state_->Unregister(&client_);
  state_.reset();
  db_.reset();
  db_ = OpenDb(path_, &clock_);
  ASSERT_NE(db_, nullptr);
  state_ = std::make_unique<ServerState>(db_.get(), config_, &clock_);
  state_->Register(&client_, nullptr);
}

void ForwardedKvFixture::SetUp() {
  KvFixture::SetUp();
  fwd_ = std::make_unique<ForwardingDb>(db_.get());
  UseDb(fwd_.get());
}

void ForwardedKvFixture::TearDown() {
  UseDb(db_.get());
  fwd_.reset();
  KvFixture::TearDown();
}

void KvFixture::UseDb(engine::DB* db) {
  state_->Unregister(&client_);
  state_ = std::make_unique<ServerState>(db, config_, &clock_);
  state_->Register(&client_, nullptr);
}

std::string KvFixture::RunAs(Client& client,
                             const std::vector<std::string>& argv) {
  std::vector<std::string_view> views(argv.begin(), argv.end());
  std::string out;
  ReplyWriter writer(&out, client.resp);
  ExecuteCommand(*state_, client, views, writer);
  if (client.touched_db) {
    client.touched_db = false;
    EXPECT_TRUE(SyncRound(*state_));
  }
  return out;
}

std::string KvFixture::RunArgs(const std::vector<std::string>& argv) {
  return RunAs(client_, argv);
}

std::string KvFixture::Run(std::string_view line) {
  std::vector<std::string> argv;
  std::istringstream in{std::string(line)};
  std::string a;
  while (in >> a) argv.push_back(a);
  return RunArgs(argv);
}

}  // namespace daxkv::kv
