// daxkv-inspect pool on fresh, written, crashed (crash simulator) and
// corrupted pools, with fsck exit codes, plus a fuzz run on damaged copies.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "dax/region.h"
#include "engine/db.h"
#include "engine/format.h"
#include "engine/txn.h"
#include "tests/support/sim_region.h"
#include "tests/support/status_matchers.h"
#include "tests/tools/inspect_test_util.h"

namespace daxkv::inspect {
namespace {

using nlohmann::json;

constexpr size_t kPoolSize = size_t{16} << 20;
constexpr size_t kSegment = size_t{1} << 20;

engine::Options TestOptions() {
  engine::Options o;
  o.segment_size = kSegment;
  o.background_compaction = false;
  o.background_expiry = false;
  return o;
}

// A scratch file under /dev/shm removed at scope exit.
class TempPath {
 public:
  TempPath() {
    static int n = 0;
    path_ = "/dev/shm/daxkv-inspect-pool-" + std::to_string(getpid()) + "-" +
            std::to_string(n++);
  }
  ~TempPath() { std::filesystem::remove(path_); }
  const std::string& str() const { return path_; }

 private:
  std::string path_;
};

std::vector<char> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void WriteAll(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void FillDb(engine::DB& db, int keys) {
  for (int i = 0; i < keys; ++i) {
    int64_t ttl = i < 10 ? 4102444800000 : 0;  // year 2100
    ASSERT_OK(db.Put("key" + std::to_string(i), std::string(100, 'v'), ttl));
  }
}

// Creates a cleanly closed pool file with `keys` keys.
void MakePool(const std::string& path, int keys) {
  dax::OpenOptions o;
  o.create_if_missing = true;
  o.create_size = kPoolSize;
  StatusOr<std::unique_ptr<dax::Region>> region = dax::OpenRegion(path, o);
  ASSERT_OK(region);
  StatusOr<std::unique_ptr<engine::DB>> db =
      engine::DB::Open(std::move(*region), TestOptions());
  ASSERT_OK(db);
  FillDb(**db, keys);
}

json CheckJson(const std::string& path, int* rc,
               std::vector<std::string> extra = {"--check"}) {
  std::vector<std::string> argv = {"pool", path, "--json"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::string out;
  std::string err;
  *rc = RunTool(argv, &out, &err);
  return json::parse(out, nullptr, /*allow_exceptions=*/false);
}

TEST(InspectPoolTest, FreshPoolIsClean) {
  TempPath p;
  MakePool(p.str(), 0);
  int rc = -1;
  json j = CheckJson(p.str(), &rc);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(rc, kExitOk) << j.dump(2);
  EXPECT_EQ(j["keys"], 0);
  EXPECT_EQ(j["clean_shutdown"], true);
  EXPECT_EQ(j["superblock_a_valid"], true);
  EXPECT_EQ(j["superblock_b_valid"], true);
  EXPECT_EQ(j["format_version"], engine::format::kFormatVersion);
  EXPECT_EQ(j["segment_size"], kSegment);
  EXPECT_EQ(j["region"]["read_only"], true);
}

TEST(InspectPoolTest, WrittenPoolCountsKeysAndIsNotModified) {
  TempPath p;
  MakePool(p.str(), 200);
  std::vector<char> before = ReadAll(p.str());
  int rc = -1;
  json j = CheckJson(p.str(), &rc);
  EXPECT_EQ(rc, kExitOk) << j.dump(2);
  EXPECT_EQ(j["keys"], 200);
  EXPECT_EQ(j["expiring_keys"], 10);
  EXPECT_GT(j["live_bytes"].get<uint64_t>(), 200u * 100);
  EXPECT_EQ(ReadAll(p.str()), before) << "pool --check wrote to the pool";
  std::string out;
  std::string err;
  EXPECT_EQ(RunTool({"pool", p.str()}, &out, &err), kExitOk) << err;
  EXPECT_NE(out.find("keys:        200"), std::string::npos) << out;
  EXPECT_NE(out.find("shutdown:    clean"), std::string::npos) << out;
}

// Key entries whose key_len is 0 (the empty key, format version 5): a
// meta, the tombstone a rename leaves, a put with a TTL. No damage.
TEST(InspectPoolTest, EmptyKeyEntriesAreNotDamage) {
  TempPath p;
  MakePool(p.str(), 3);
  {
    dax::OpenOptions o;
    auto region = dax::OpenRegion(p.str(), o);
    ASSERT_OK(region);
    auto db = engine::DB::Open(std::move(*region), TestOptions());
    ASSERT_OK(db);
    ASSERT_OK((*db)->RunTxn({}, {}, [](engine::Txn& t) -> Status {
      bool created;
      DAXKV_RETURN_IF_ERROR(
          t.HashSet("", "", "v", engine::SetMode::kUpsert, &created));
      return t.Rename("", "h", false, &created);
    }));
    ASSERT_OK((*db)->Put("", "empty", 4102444800000));
  }
  int rc = -1;
  json j = CheckJson(p.str(), &rc);
  EXPECT_EQ(rc, kExitOk) << j.dump(2);
  EXPECT_EQ(j["keys"], 5);
  EXPECT_EQ(j["expiring_keys"], 4);
  EXPECT_EQ(j["problems"].size(), 0u) << j.dump(2);
}

TEST(InspectPoolTest, CrashedPoolFromTheSimulator) {
  auto sim = std::make_unique<testing::SimRegion>(kPoolSize);
  testing::SimRegion* raw = sim.get();
  StatusOr<std::unique_ptr<engine::DB>> db =
      engine::DB::Open(std::move(sim), TestOptions());
  ASSERT_OK(db);
  FillDb(**db, 50);
  TempPath p;
  WriteAll(p.str(), raw->CrashImage(/*seed=*/7));  // power cut, DB still open
  db->reset();
  int rc = -1;
  json j = CheckJson(p.str(), &rc);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(rc, kExitOk) << j.dump(2);  // a crash is not damage
  EXPECT_EQ(j["clean_shutdown"], false);
  EXPECT_EQ(j["keys"], 50);  // every Put was synced before the cut
  std::string out;
  std::string err;
  RunTool({"pool", p.str()}, &out, &err);
  EXPECT_NE(out.find("NOT clean"), std::string::npos) << out;
}

TEST(InspectPoolTest, OneBadSuperblockIsRepairable) {
  TempPath p;
  MakePool(p.str(), 20);
  std::vector<char> bytes = ReadAll(p.str());
  bytes[engine::format::kSuperBlockOffsetA + 40] ^= 0x5a;
  WriteAll(p.str(), bytes);
  int rc = -1;
  json j = CheckJson(p.str(), &rc);
  EXPECT_EQ(rc, kExitErrorsRepairable) << j.dump(2);
  EXPECT_EQ(j["superblock_a_valid"], false);
  EXPECT_EQ(j["keys"], 20);
  j = CheckJson(p.str(), &rc, {"--repair"});
  EXPECT_EQ(rc, kExitErrorsRepairable) << j.dump(2);  // fsck: corrected
  j = CheckJson(p.str(), &rc);
  EXPECT_EQ(rc, kExitOk) << j.dump(2);
  EXPECT_EQ(j["superblock_a_valid"], true);
}

TEST(InspectPoolTest, DamagedRecordIsFoundAndRepaired) {
  TempPath p;
  MakePool(p.str(), 20);
  std::vector<char> bytes = ReadAll(p.str());
  // Inside the first record's value, past the segment header.
  bytes[engine::format::kDataOffset + engine::format::kSegmentHeaderSize +
        engine::format::kRecordHeaderSize + 50] ^= 0x01;
  WriteAll(p.str(), bytes);
  int rc = -1;
  json j = CheckJson(p.str(), &rc);
  EXPECT_EQ(rc, kExitErrorsRepairable) << j.dump(2);
  ASSERT_FALSE(j["problems"].empty());
  j = CheckJson(p.str(), &rc, {"--repair"});
  EXPECT_EQ(rc, kExitErrorsRepairable) << j.dump(2);
  EXPECT_GE(j["repair"]["dropped_records"].get<uint64_t>(), 1u);
  j = CheckJson(p.str(), &rc);
  EXPECT_EQ(rc, kExitOk) << j.dump(2);
  EXPECT_EQ(j["keys"], 19);
}

// Issue 11, finding 6: both superblock pages zeroed while the segments
// still hold the data. `pool --check` used to say "holds no daxkv pool"
// (and the server formatted over it); it now reads the pool through a
// superblock rebuilt from the segments (repairable), `--repair` writes it.
TEST(InspectPoolTest, ZeroedSuperblocksAreRebuiltFromTheSegments) {
  TempPath p;
  MakePool(p.str(), 120);
  std::vector<char> bytes = ReadAll(p.str());
  std::fill(bytes.begin(), bytes.begin() + engine::format::kDataOffset, 0);
  WriteAll(p.str(), bytes);
  int rc = -1;
  json j = CheckJson(p.str(), &rc);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(rc, kExitErrorsRepairable) << j.dump(2);
  EXPECT_EQ(j["keys"], 120);
  EXPECT_EQ(ReadAll(p.str()), bytes) << "pool --check wrote to the pool";
  std::string out;
  std::string err;
  RunTool({"pool", p.str(), "--check"}, &out, &err);
  EXPECT_NE(out.find("rebuilt from"), std::string::npos) << out;
  j = CheckJson(p.str(), &rc, {"--repair"});
  EXPECT_EQ(rc, kExitErrorsRepairable) << j.dump(2);
  j = CheckJson(p.str(), &rc);
  EXPECT_EQ(rc, kExitOk) << j.dump(2);
  EXPECT_EQ(j["keys"], 120);
  EXPECT_EQ(j["superblock_a_valid"], true);
  EXPECT_EQ(j["superblock_b_valid"], true);
}

// --check reports a state word the code corrected (and repair rewrites).
TEST(InspectPoolTest, CorrectedStateWordIsReportedAndRepaired) {
  TempPath p;
  MakePool(p.str(), 20);
  std::vector<char> bytes = ReadAll(p.str());
  bytes[engine::format::kDataOffset + engine::format::kStateWordOffset + 3] ^=
      0x08;
  WriteAll(p.str(), bytes);
  int rc = -1;
  json j = CheckJson(p.str(), &rc);
  EXPECT_EQ(rc, kExitErrorsRepairable) << j.dump(2);
  ASSERT_FALSE(j["segments"].empty());
  EXPECT_EQ(j["segments"][0]["state"], "in-use");
  EXPECT_EQ(j["segments"][0]["state_note"], "corrected");
  j = CheckJson(p.str(), &rc, {"--repair"});
  EXPECT_EQ(rc, kExitErrorsRepairable) << j.dump(2);
  j = CheckJson(p.str(), &rc);
  EXPECT_EQ(rc, kExitOk) << j.dump(2);
  EXPECT_EQ(j["segments"][0]["state_note"], "");
  EXPECT_EQ(j["keys"], 20);
}

TEST(InspectPoolTest, BadInputsGiveClearErrorsAndExitCodes) {
  TempPath p;
  std::string out;
  std::string err;
  EXPECT_EQ(RunTool({"pool", "/nonexistent/pool"}, &out, &err),
            kExitOperational);
  EXPECT_NE(err.find("no such file"), std::string::npos);
  EXPECT_EQ(RunTool({"pool"}, &out, &err), kExitUsage);
  WriteAll(p.str(), {});
  EXPECT_EQ(RunTool({"pool", p.str(), "--check"}, &out, &err),
            kExitOperational);
  WriteAll(p.str(), std::vector<char>(1 << 20, 0));
  EXPECT_EQ(RunTool({"pool", p.str(), "--check"}, &out, &err),
            kExitOperational);
  EXPECT_NE(err.find("holds no daxkv pool"), std::string::npos) << err;
  std::vector<char> garbage(1 << 20);
  std::mt19937 rng(1);
  for (char& c : garbage) c = static_cast<char>(rng());
  WriteAll(p.str(), garbage);
  EXPECT_EQ(RunTool({"pool", p.str(), "--check"}, &out, &err),
            kExitUnrecoverable);
  EXPECT_NE(err.find("not a usable daxkv pool"), std::string::npos) << err;
}

TEST(InspectPoolTest, TruncatedPoolIsRefusedNotCrashed) {
  TempPath p;
  MakePool(p.str(), 50);
  std::vector<char> bytes = ReadAll(p.str());
  bytes.resize(bytes.size() / 2);
  WriteAll(p.str(), bytes);
  int rc = -1;
  json j = CheckJson(p.str(), &rc);
  EXPECT_TRUE(rc == kExitUnrecoverable || rc == kExitOperational) << rc;
  ASSERT_FALSE(j.is_discarded());
  EXPECT_FALSE(j["error"].get<std::string>().empty());
}

TEST(InspectPoolTest, InUsePoolIsReadWithoutHarmAndNotRepaired) {
  TempPath p;
  MakePool(p.str(), 30);
  StatusOr<std::unique_ptr<dax::Region>> region =
      dax::OpenRegion(p.str(), dax::OpenOptions{});
  ASSERT_OK(region);
  StatusOr<std::unique_ptr<engine::DB>> db =
      engine::DB::Open(std::move(*region), TestOptions());
  ASSERT_OK(db);
  int rc = -1;
  json j = CheckJson(p.str(), &rc, {});
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(rc, kExitOk) << j.dump(2);
  EXPECT_EQ(j["region"]["in_use_elsewhere"], true);
  EXPECT_EQ(j["keys"], 30);
  std::string out;
  std::string err;
  EXPECT_EQ(RunTool({"pool", p.str(), "--repair"}, &out, &err),
            kExitOperational);
  EXPECT_NE(err.find("stop it before --repair"), std::string::npos) << err;
  ASSERT_OK((*db)->Put("after", "inspection"));
  EXPECT_OK((*db)->Get("key1"));
}

// Damaged copies of a written pool: flipped bytes in the superblocks and the
// used segments, truncations, garbage runs. Every run must end with a valid
// exit code and JSON on stdout; a crash fails the whole binary.
TEST(InspectPoolTest, FuzzedPoolsNeverCrashTheTool) {
  TempPath base;
  MakePool(base.str(), 100);
  const std::vector<char> good = ReadAll(base.str());
  const size_t hot = engine::format::kDataOffset + 2 * kSegment;
  std::mt19937_64 rng(20261123);
  TempPath p;
  int seen[17] = {};
  for (int iter = 0; iter < 120; ++iter) {
    std::vector<char> bytes = good;
    switch (iter % 4) {
      case 0:
      case 1:
        for (int k = 1 + static_cast<int>(rng() % 16); k > 0; --k) {
          bytes[rng() % hot] ^= static_cast<char>(1 + rng() % 255);
        }
        break;
      case 2:
        bytes.resize(rng() % bytes.size());
        break;
      case 3: {
        size_t at = rng() % hot;
        size_t len = std::min<size_t>(1 + rng() % 4096, bytes.size() - at);
        for (size_t i = 0; i < len; ++i)
          bytes[at + i] = static_cast<char>(rng());
        break;
      }
    }
    WriteAll(p.str(), bytes);
    int rc = -1;
    json j = CheckJson(p.str(), &rc);
    ASSERT_TRUE(rc == 0 || rc == 1 || rc == 4 || rc == 8)
        << "iteration " << iter << " exit " << rc;
    ASSERT_FALSE(j.is_discarded()) << "iteration " << iter << ": no JSON";
    ++seen[rc];
  }
  // The fuzz must reach the interesting outcomes, not just one of them.
  EXPECT_GT(seen[kExitErrorsRepairable] + seen[kExitUnrecoverable], 0);
}

}  // namespace
}  // namespace daxkv::inspect
