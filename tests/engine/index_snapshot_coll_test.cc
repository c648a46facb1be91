// The collections' part of the clean-close index snapshot
// (engine/coll_snapshot.cc): a clean reopen of a pool holding hashes,
// lists, sets, sorted sets and streams of every DRAM form loads them
// without a scan and ends up where a scan of the same bytes ends up,
// OBJECT ENCODING's hints included; the restored indexes take writes,
// compaction and a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "engine/db.h"
#include "engine/format.h"
#include "engine/index_snapshot.h"
#include "engine/txn.h"
#include "tests/engine/clean_close_fixture.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/engine/txn_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

std::string Elem(int i) { return "e" + std::to_string(i); }

std::vector<std::string> AllKeys(DB& db) {
  std::vector<std::string> keys;
  uint64_t cursor = 0;
  do {
    auto page = db.Scan(cursor, 500);
    EXPECT_OK(page);
    if (!page.ok()) break;
    keys.insert(keys.end(), page->keys.begin(), page->keys.end());
    cursor = page->next_cursor;
  } while (cursor != 0);
  std::sort(keys.begin(), keys.end());
  return keys;
}

// Everything a reopen must reproduce: each key's content and KeyInfo (its
// size and, with `hints`, its DRAM form and long-element hint, which an
// open resets to what the elements now indexed call for), and what the
// open derives.
std::string ObserveColls(DB& db, bool hints = true) {
  const std::vector<std::string> keys = AllKeys(db);
  std::string out = Dump(&db, keys);
  for (const std::string& k : keys) {
    const KeyInfo i = StatOf(&db, k);
    out += "\n" + k + " size=" + std::to_string(i.size) +
           (hints ? " compact=" + std::to_string(i.compact) +
                        " long=" + std::to_string(i.had_long_element)
                  : "") +
           " packed=" + std::to_string(i.packed) +
           " expires=" + std::to_string(i.expire_at_ms != 0);
  }
  const Stats st = db.GetStats();
  for (uint64_t v : {st.keys, st.expiring_keys, st.live_bytes, st.used_bytes,
                     st.free_segments, st.hashes, st.lists, st.sets, st.zsets,
                     st.streams, st.elements}) {
    out += " " + std::to_string(v);
  }
  return out;
}

// Where two Observe texts part (they are too long to print whole).
std::string FirstDifference(const std::string& a, const std::string& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  if (i == a.size() && i == b.size()) return "";
  const size_t from = i < 60 ? 0 : i - 60;
  return "at " + std::to_string(i) + ": '" + a.substr(from, 120) + "' vs '" +
         b.substr(from, 120) + "'";
}

Status ZAdd(Txn& t, std::string_view key, std::string_view m, double score) {
  ZAddResult r;
  return t.ZAdd(key, m, score, {}, &r);
}

// Every DRAM form: dense and table hashes and sets, a packed set and one
// that left the form,
// short and long lists pushed at both ends and popped, compact and large
// zsets, a large zset shrunk back under the compact limit, a hash whose
// only long field was deleted (a scan finds none) and one that keeps it,
// a stream, an expiring collection, and a compaction that relocated
// elements.
void PopulateCollections(DB& db) {
  bool b;
  uint64_t n;
  std::string v;
  ASSERT_OK(Tx(&db, [&](Txn& t) -> Status {
    for (int i = 0; i < 20; ++i) {
      DAXKV_RETURN_IF_ERROR(
          t.HashSet("h:small", Elem(i), "v", SetMode::kUpsert, &b));
      DAXKV_RETURN_IF_ERROR(t.SetAdd("s:ints", std::to_string(i * 7), &b));
      DAXKV_RETURN_IF_ERROR(t.SetAdd("s:unpacked", std::to_string(i), &b));
      DAXKV_RETURN_IF_ERROR(ZAdd(t, "z:small", Elem(i), i % 5));
      DAXKV_RETURN_IF_ERROR(
          t.ListPush("l:small", End::kBack, Elem(i), false, &n));
    }
    for (int i = 0; i < 700; ++i) {
      DAXKV_RETURN_IF_ERROR(t.HashSet(
          "h:big", Elem(i), std::string(i % 90, 'x'), SetMode::kUpsert, &b));
      DAXKV_RETURN_IF_ERROR(t.SetAdd("s:big", Elem(i), &b));
      DAXKV_RETURN_IF_ERROR(ZAdd(t, "z:big", Elem(i), (i * 37) % 101 - 50.5));
      DAXKV_RETURN_IF_ERROR(ZAdd(t, "z:shrunk", Elem(i), i));
      DAXKV_RETURN_IF_ERROR(t.ListPush(
          "l:big", i % 3 == 0 ? End::kFront : End::kBack, Elem(i), false, &n));
    }
    DAXKV_RETURN_IF_ERROR(t.HashSet("h:was-long", std::string(80, 'f'), "v",
                                    SetMode::kUpsert, &b));
    DAXKV_RETURN_IF_ERROR(
        t.HashSet("h:was-long", "short", "v", SetMode::kUpsert, &b));
    DAXKV_RETURN_IF_ERROR(
        t.HashSet("h:long", std::string(80, 'f'), "v", SetMode::kUpsert, &b));
    for (int i = 0; i < 5; ++i) {
      DAXKV_RETURN_IF_ERROR(t.StreamPut("x", std::string(16, 'a' + i),
                                        "entry" + std::to_string(i), true, &b));
    }
    return t.SetExpiry("h:small", InOneHour());
  }));
  ASSERT_OK(Tx(&db, [&](Txn& t) -> Status {
    DAXKV_RETURN_IF_ERROR(t.HashDelete("h:was-long", std::string(80, 'f'), &b));
    // Unpacked by "x", and not packed again once it is gone (as Redis).
    DAXKV_RETURN_IF_ERROR(t.SetAdd("s:unpacked", "x", &b));
    DAXKV_RETURN_IF_ERROR(t.SetRemove("s:unpacked", "x", &b));
    for (int i = 0; i < 700; i += 2) {
      DAXKV_RETURN_IF_ERROR(t.HashDelete("h:big", Elem(i), &b));
      DAXKV_RETURN_IF_ERROR(t.SetRemove("s:big", Elem(i + 1), &b));
    }
    for (int i = 0; i < 650; ++i) {
      DAXKV_RETURN_IF_ERROR(t.ZRemove("z:shrunk", Elem(i), &b));
    }
    for (int i = 0; i < 100; ++i) {
      DAXKV_RETURN_IF_ERROR(
          t.ListPop("l:big", i % 2 ? End::kFront : End::kBack, &v));
    }
    return OkStatus();
  }));
  ASSERT_OK(TEST_Compact(&db, 8));
}

// Reopens compare without the hints (they are what the open decides).
class IndexSnapshotCollTest : public CleanCloseFixture<std::string> {
 protected:
  void Populate(DB& db) override { PopulateCollections(db); }
  std::string Observe(DB& db) override { return ObserveColls(db, false); }
};

TEST_F(IndexSnapshotCollTest, CleanReopenLoadsCollectionsAsAScanWould) {
  auto image = f_.Snapshot();
  EXPECT_EQ(Reopen(), "snapshot");
  EXPECT_EQ(f_.db->GetStats().recovered_records, 0u);  // read no record
  EXPECT_OK(TEST_CheckElemDeadCounts(f_.db.get()));
  // The scan's view of the long-element hints: the field that made
  // h:was-long long is gone, h:long keeps its own.
  EXPECT_FALSE(StatOf(f_.db.get(), "h:was-long").had_long_element);
  EXPECT_TRUE(StatOf(f_.db.get(), "h:long").had_long_element);
  EXPECT_TRUE(StatOf(f_.db.get(), "z:shrunk").compact);
  EXPECT_TRUE(StatOf(f_.db.get(), "s:ints").packed);
  EXPECT_FALSE(StatOf(f_.db.get(), "s:unpacked").packed);
  EXPECT_FALSE(StatOf(f_.db.get(), "z:big").compact);
  const std::string loaded = ObserveColls(*f_.db);
  f_.db.reset();

  EngineFixture scanned;
  ASSERT_NO_FATAL_FAILURE(OpenScanning(image, &scanned));
  EXPECT_EQ(FirstDifference(ObserveColls(*scanned.db), loaded), "");
}

TEST_F(IndexSnapshotCollTest, RestoredCollectionsTakeWritesCompactionAndCrash) {
  EXPECT_EQ(Reopen(), "snapshot");
  DB* db = f_.db.get();
  bool b;
  uint64_t n;
  std::string v;
  ASSERT_OK(Tx(db, [&](Txn& t) -> Status {
    for (int i = 0; i < 700; i += 3) {
      DAXKV_RETURN_IF_ERROR(
          t.HashSet("h:big", Elem(i), "new", SetMode::kUpsert, &b));
      DAXKV_RETURN_IF_ERROR(t.SetRemove("s:big", Elem(i), &b));
      DAXKV_RETURN_IF_ERROR(ZAdd(t, "z:big", Elem(i), -i));
    }
    DAXKV_RETURN_IF_ERROR(ZAdd(t, "z:shrunk", "added", 0.5));
    DAXKV_RETURN_IF_ERROR(t.SetAdd("s:ints", "-1", &b));
    DAXKV_RETURN_IF_ERROR(t.ListPush("l:big", End::kFront, "head", false, &n));
    DAXKV_RETURN_IF_ERROR(t.ListPop("l:big", End::kBack, &v));
    return t.HashDelete("h:small", Elem(3), &b);
  }));
  // Every element of the restored collections moves at least once.
  ASSERT_OK(TEST_Compact(db, 1000));
  EXPECT_OK(TEST_CheckElemDeadCounts(db));
  const std::string written = Observe(*db);
  EXPECT_EQ(HashAll(db, "h:big").at(Elem(3)), "new");
  EXPECT_EQ(ListAll(db, "l:big").front(), "head");

  // A crash (no clean close) scans; the clean close after writes loads.
  EngineFixture crashed;
  crashed.buffer = f_.Snapshot();
  crashed.options = f_.options;
  ASSERT_OK(crashed.Open());
  EXPECT_EQ(crashed.db->GetStats().index_recovery, "scan: no snapshot");
  EXPECT_EQ(FirstDifference(Observe(*crashed.db), written), "");
  crashed.db.reset();
  closed_ = written;
  f_.db.reset();
  EXPECT_EQ(Reopen(), "snapshot");
}

TEST_F(IndexSnapshotCollTest, DamagedCollectionBytesMeanAScan) {
  // Flip a byte in the stream's last chunk, where the collections end: its
  // CRC no longer matches, and the open scans and loses nothing.
  const format::SuperBlock sb = SuperBlockA();
  snapshot::Header h;
  std::memcpy(&h, f_.buffer->data() + HeaderOffset(), sizeof(h));
  EXPECT_GT(h.collections, 10u);
  const snapshot::Chunk last = ChunkAt(static_cast<int>(h.chunks) - 1);
  (*f_.buffer)[sb.data_offset + last.segment * sb.segment_size +
               format::kSegmentHeaderSize + last.bytes - 1] ^= 1;
  EXPECT_EQ(Reopen().substr(0, 11), "scan: chunk");
}

TEST(IndexSnapshotCollPoolTest, EmptyAndDeletedCollectionsLeaveNoTrace) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  bool b;
  ASSERT_OK(Tx(f.db.get(), [&](Txn& t) -> Status {
    DAXKV_RETURN_IF_ERROR(t.HashSet("h", "f", "v", SetMode::kUpsert, &b));
    return t.SetAdd("gone", "m", &b);
  }));
  ASSERT_OK(
      Tx(f.db.get(), [&](Txn& t) { return t.SetRemove("gone", "m", &b); }));
  f.db.reset();
  ASSERT_OK(f.Open());
  EXPECT_EQ(f.db->GetStats().index_recovery, "snapshot");
  EXPECT_EQ(HashAll(f.db.get(), "h").at("f"), "v");
  EXPECT_EQ(StatOf(f.db.get(), "gone").type, KeyType::kNone);
  const Stats st = f.db->GetStats();
  EXPECT_EQ(st.hashes, 1u);
  EXPECT_EQ(st.sets, 0u);
  EXPECT_EQ(st.elements, 1u);
}

}  // namespace
}  // namespace daxkv::engine
