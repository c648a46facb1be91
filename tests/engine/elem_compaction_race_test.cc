// Compaction of collections while their writers run: element runs are
// marked under the collection's shared lock only, copied, then swapped in
// under the key's stripe (engine/elem_compactor.cc), so a writer may replace,
// pop, delete or rename between those steps. Writer threads own their keys
// (a hash, a list and a sorted set each) and keep a model of them; a
// compactor thread compacts all the while. The DB must then equal the
// models, before and after reopening and after compacting everything: an
// element lost or duplicated by a swap, or one deleted that comes back
// because a tombstone was dropped too early, fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/engine/txn_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

constexpr int kWriters = 3;
constexpr int kFields = 48;

struct Model {
  std::map<std::string, std::string> hash;
  std::deque<std::string> list;
  std::map<std::string, double> zset;
};

std::string Key(char kind, int w) {
  return std::string(1, kind) + std::to_string(w);
}

// `key` as Dump() prints it, holding `kind`'s part of `m` ('h' hash, 'l'
// list, 'z' sorted set; anything else: absent).
std::string DumpKey(const std::string& key, char kind, const Model& m) {
  std::string out = key + "=";
  if (kind == 'h' && !m.hash.empty()) {
    out += "hash{";
    for (const auto& [f, v] : m.hash) out += f + "=" + v + ",";
    out += "}";
  } else if (kind == 'l' && !m.list.empty()) {
    out += "list[";
    for (const auto& e : m.list) out += e + ",";
    out += "]";
  } else if (kind == 'z' && !m.zset.empty()) {
    std::vector<std::pair<double, std::string>> by_score;
    for (const auto& [mem, sc] : m.zset) by_score.emplace_back(sc, mem);
    std::sort(by_score.begin(), by_score.end());
    out += "zset{";
    for (const auto& [sc, mem] : by_score) {
      out += mem + ":" + std::to_string(sc) + ",";
    }
    out += "}";
  } else {
    out += "none";
  }
  return out + ";";
}

// The writers' models as Dump(db, AllKeys()) prints them.
std::string ModelDump(const std::vector<Model>& models) {
  std::string out;
  for (int w = 0; w < kWriters; ++w) {
    for (char kind : {'h', 'l', 'z', 't'}) {
      out += DumpKey(Key(kind, w), kind, models[w]);
    }
  }
  return out;
}

std::vector<std::string> AllKeys() {
  std::vector<std::string> keys;
  for (int w = 0; w < kWriters; ++w) {
    for (char kind : {'h', 'l', 'z', 't'}) keys.push_back(Key(kind, w));
  }
  return keys;
}

// One writer's operation on its keys, applied to the DB and its model.
Status WriterStep(DB* db, int w, uint64_t i, std::mt19937_64& rng, Model* m) {
  const std::string h = Key('h', w), l = Key('l', w), z = Key('z', w);
  const std::string pad(60 + rng() % 80, static_cast<char>('a' + i % 26));
  const int op = static_cast<int>(rng() % 100);
  const bool sync = rng() % 8 == 0;
  if (op < 40) {  // HSET over a field, mostly replacing it
    const std::string f = "f" + std::to_string(rng() % kFields);
    const std::string v = std::to_string(i) + pad;
    m->hash[f] = v;
    return Tx(
        db,
        [&](Txn& t) {
          bool created;
          return t.HashSet(h, f, v, SetMode::kUpsert, &created);
        },
        sync);
  }
  if (op < 48) {  // HDEL: its tombstone must outlive the puts it shadows
    const std::string f = "f" + std::to_string(rng() % kFields);
    m->hash.erase(f);
    return Tx(
        db,
        [&](Txn& t) {
          bool existed;
          return t.HashDelete(h, f, &existed);
        },
        sync);
  }
  if (op < 70) {  // a queue: push right, pop left once it is long
    const std::string v = std::to_string(i) + pad;
    m->list.push_back(v);
    const bool pop = m->list.size() > 40;
    if (pop) m->list.pop_front();
    return Tx(
        db,
        [&](Txn& t) {
          uint64_t n;
          DAXKV_RETURN_IF_ERROR(t.ListPush(l, End::kBack, v, false, &n));
          std::string out;
          return pop ? t.ListPop(l, End::kFront, &out) : OkStatus();
        },
        sync);
  }
  if (op < 92) {  // ZADD over a member (a new score), or ZREM
    const std::string mem = "m" + std::to_string(rng() % kFields);
    const bool rem = rng() % 5 == 0;
    const double score = static_cast<double>(rng() % 1000);
    if (rem) {
      m->zset.erase(mem);
    } else {
      m->zset[mem] = score;
    }
    return Tx(
        db,
        [&](Txn& t) {
          if (rem) {
            bool removed;
            return t.ZRemove(z, mem, &removed);
          }
          ZAddResult r;
          return t.ZAdd(z, mem, score, ZAddOptions{}, &r);
        },
        sync);
  }
  if (op < 97) {  // RENAME the hash away and back: runs see a new owner
    if (m->hash.empty()) return OkStatus();
    const std::string t = Key('t', w);
    bool done;
    DAXKV_RETURN_IF_ERROR(Tx(
        db, [&](Txn& x) { return x.Rename(h, t, false, &done); }, sync));
    return Tx(
        db, [&](Txn& x) { return x.Rename(t, h, false, &done); }, sync);
  }
  // DEL of the list (its elements die with its id), re-created next push.
  m->list.clear();
  return Tx(
      db,
      [&](Txn& t) {
        bool existed;
        return t.Delete(l, &existed);
      },
      sync);
}

TEST(ElemCompactionRaceTest, WritersReplacePopDeleteAndRenameDuringCompaction) {
  EngineFixture f(48 << 20, 64 << 10);
  ASSERT_TRUE(f.Open().ok());
  std::vector<Model> models(kWriters);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> compactions{0};
  std::thread compactor([&] {
    while (!done.load(std::memory_order_acquire)) {
      auto r = TEST_Compact(f.db, 2);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      compactions += *r;
      if (*r == 0) std::this_thread::yield();
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937_64 rng(1000 + w);
      // Until the compactor has had its share of the cores, however the
      // threads are scheduled.
      for (uint64_t i = 0; i < 20000 || (compactions.load() < 40 && i < 400000);
           ++i) {
        Status s = WriterStep(f.db.get(), w, i, rng, &models[w]);
        ASSERT_TRUE(s.ok())
            << "writer " << w << " op " << i << ": " << s.ToString();
      }
    });
  }
  for (auto& t : writers) t.join();
  done.store(true, std::memory_order_release);
  compactor.join();
  std::printf("[race] %llu segments compacted while writing\n",
              static_cast<unsigned long long>(compactions.load()));
  EXPECT_GE(compactions.load(), 40u);

  const std::string want = ModelDump(models);
  EXPECT_EQ(Dump(f.db.get(), AllKeys()), want);
  EXPECT_OK(TEST_CheckElemDeadCounts(f.db.get()));
  ASSERT_TRUE(f.db->Sync().ok());
  ASSERT_TRUE(f.Reopen().ok());
  EXPECT_EQ(Dump(f.db.get(), AllKeys()), want) << "after reopening";
  // Everything compacted, twice (the second pass moves the first's copies
  // and drops tombstones whose dead puts are gone): still the same.
  for (int pass = 0; pass < 2; ++pass) {
    auto r = TEST_Compact(f.db, 10000);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  EXPECT_EQ(Dump(f.db.get(), AllKeys()), want) << "after compacting all";
  EXPECT_OK(TEST_CheckElemDeadCounts(f.db.get()));
  ASSERT_TRUE(f.Reopen().ok());
  EXPECT_EQ(Dump(f.db.get(), AllKeys()), want)
      << "after compacting all and reopening";
}

// What a writer does in the window between a run's copies and their swap
// (DBImpl::TEST_SetBeforeElemSwap), to the collection being compacted.
enum class Window {
  kReplace,    // every element rewritten: each copy is left dead
  kRemove,     // half the elements removed: their tombstones must stay
  kDeleteKey,  // the key deleted and made anew: a dead id's copies
  kRename,     // the key renamed: the swap follows the collection
  kShift,      // (lists) pushes in front: every position hint is stale
};

struct WindowCase {
  char kind;  // 'h' hash, 'l' list, 'z' sorted set
  Window window;
};

std::string ValueOf(int round, int i) {
  return "r" + std::to_string(round) + "-" + std::to_string(i) +
         std::string(90, 'v');
}

// One element op on key `k` of `kind`, applied to the DB and to `m`.
// `i` < 0 pops (lists) or removes element -i - 1.
Status ElemOp(DB* db, const std::string& k, char kind, int round, int i,
              Model* m) {
  return Tx(db, [&](Txn& t) -> Status {
    const std::string name =
        "e" + std::to_string(i < 0 ? -i - 1 : i) + std::string(60, 'n');
    if (kind == 'h') {
      bool b;
      if (i < 0) {
        m->hash.erase(name);
        return t.HashDelete(k, name, &b);
      }
      m->hash[name] = ValueOf(round, i);
      return t.HashSet(k, name, ValueOf(round, i), SetMode::kUpsert, &b);
    }
    if (kind == 'z') {
      if (i < 0) {
        bool b;
        m->zset.erase(name);
        return t.ZRemove(k, name, &b);
      }
      const double score = round * 1000.0 + (i * 37) % 500;
      m->zset[name] = score;
      ZAddResult r;
      return t.ZAdd(k, name, score, ZAddOptions{}, &r);
    }
    if (i < 0) {
      std::string out;
      m->list.pop_front();
      return t.ListPop(k, End::kFront, &out);
    }
    uint64_t n;
    m->list.push_back(ValueOf(round, i));
    return t.ListPush(k, End::kBack, ValueOf(round, i), false, &n);
  });
}

class ElemCompactionWindowTest : public ::testing::TestWithParam<WindowCase> {
 protected:
  static constexpr int kElems = 400;

  // Three rounds over the elements, the last two over even ones only
  // (lists: pushes, then pops of the first third): the first segments
  // hold some live elements among dead ones.
  void Fill(DB* db) {
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < kElems; i += round == 0 || kind_ == 'l' ? 1 : 2) {
        ASSERT_TRUE(ElemOp(db, key_, kind_, round, i, &model_).ok());
      }
    }
    if (kind_ != 'l') return;
    for (int i = 0; i < kElems; ++i) {
      ASSERT_TRUE(ElemOp(db, key_, kind_, 0, -1, &model_).ok());
    }
  }

  // The writer in the window: its first run only.
  void InWindow(DB* db) {
    if (windows_++ != 0) return;
    const int n = static_cast<int>(kind_ == 'l' ? model_.list.size() : kElems);
    switch (GetParam().window) {
      case Window::kReplace:
        if (kind_ == 'l') {
          for (int i = 0; i < n; ++i) {
            const std::string v = ValueOf(9, i);
            model_.list[i] = v;
            ASSERT_TRUE(
                Tx(db, [&](Txn& t) { return t.ListSet(key_, i, v); }).ok());
          }
          return;
        }
        for (int i = 0; i < n; ++i) {
          ASSERT_TRUE(ElemOp(db, key_, kind_, 9, i, &model_).ok());
        }
        return;
      case Window::kRemove:  // odd ones: the first segments' live ones
        for (int i = 1; i < n; i += 2) {
          ASSERT_TRUE(ElemOp(db, key_, kind_, 9, -i - 1, &model_).ok());
        }
        return;
      case Window::kDeleteKey: {
        bool existed;
        ASSERT_TRUE(
            Tx(db, [&](Txn& t) { return t.Delete(key_, &existed); }).ok());
        model_ = Model{};
        for (int i = 0; i < 5; ++i) {
          ASSERT_TRUE(ElemOp(db, key_, kind_, 9, i, &model_).ok());
        }
        return;
      }
      case Window::kRename: {
        bool done;
        ASSERT_TRUE(Tx(db, [&](Txn& t) {
                      return t.Rename(key_, "renamed", false, &done);
                    }).ok());
        key_ = "renamed";
        return;
      }
      case Window::kShift:
        for (int i = 0; i < 50; ++i) {
          const std::string v = ValueOf(8, i);
          model_.list.push_front(v);
          uint64_t len;
          ASSERT_TRUE(Tx(db, [&](Txn& t) {
                        return t.ListPush(key_, End::kFront, v, false, &len);
                      }).ok());
        }
        return;
    }
  }

  std::string Want() const {
    return DumpKey("k", key_ == "k" ? kind_ : ' ', model_) +
           DumpKey("renamed", key_ == "renamed" ? kind_ : ' ', model_);
  }

  const char kind_ = GetParam().kind;
  std::string key_ = "k";
  Model model_;
  int windows_ = 0;
};

TEST_P(ElemCompactionWindowTest, WriterInTheWindowLosesNothing) {
  EngineFixture f(16 << 20, 64 << 10);
  ASSERT_TRUE(f.Open().ok());
  Fill(f.db.get());
  DB* db = f.db.get();
  ASSERT_TRUE(TEST_SetBeforeElemSwap(db, [&] { InWindow(db); }).ok());
  auto r = TEST_Compact(f.db, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(TEST_SetBeforeElemSwap(db, nullptr).ok());
  EXPECT_EQ(windows_ > 0, true) << "no run of copies was swapped";
  const std::vector<std::string> keys = {"k", "renamed"};
  EXPECT_EQ(Dump(db, keys), Want());
  EXPECT_OK(TEST_CheckElemDeadCounts(db));
  ASSERT_TRUE(db->Sync().ok());
  ASSERT_TRUE(f.Reopen().ok());
  EXPECT_EQ(Dump(f.db.get(), keys), Want()) << "after reopening";
  for (int pass = 0; pass < 2; ++pass) {
    ASSERT_TRUE(TEST_Compact(f.db, 10000).ok());
  }
  EXPECT_EQ(Dump(f.db.get(), keys), Want()) << "after compacting all";
  EXPECT_OK(TEST_CheckElemDeadCounts(f.db.get()));
  ASSERT_TRUE(f.Reopen().ok());
  EXPECT_EQ(Dump(f.db.get(), keys), Want())
      << "after compacting all and reopening";
}

std::string WindowCaseName(const ::testing::TestParamInfo<WindowCase>& info) {
  static const char* kNames[] = {"Replace", "Remove", "DeleteKey", "Rename",
                                 "Shift"};
  const char kind = info.param.kind;
  const char* type = kind == 'h' ? "Hash" : kind == 'z' ? "Zset" : "List";
  return std::string(type) + kNames[static_cast<int>(info.param.window)];
}

INSTANTIATE_TEST_SUITE_P(Windows, ElemCompactionWindowTest,
                         ::testing::Values(WindowCase{'h', Window::kReplace},
                                           WindowCase{'h', Window::kRemove},
                                           WindowCase{'h', Window::kDeleteKey},
                                           WindowCase{'h', Window::kRename},
                                           WindowCase{'z', Window::kReplace},
                                           WindowCase{'z', Window::kRemove},
                                           WindowCase{'z', Window::kDeleteKey},
                                           WindowCase{'l', Window::kReplace},
                                           WindowCase{'l', Window::kRemove},
                                           WindowCase{'l', Window::kShift},
                                           WindowCase{'l', Window::kRename}),
                         WindowCaseName);

}  // namespace
}  // namespace daxkv::engine
