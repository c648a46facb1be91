// Crash-point tests: every persist point of put / delete / batch /
// compaction / expiry workloads is a simulated power failure (several seeds
// each); every image must recover to a state the contract allows. See
// tests/engine/crash_harness.h for the contract checked and the environment
// variables (DAXKV_CRASH_LONG=1 for the long mode).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <string>

#include "tests/engine/crash_harness.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine::crash {
namespace {

// Default-run minimum per workload; the five together exceed 10,000.
constexpr uint64_t kMinPointsPerWorkload = 2000;

// Groups of unsynced writes to distinct keys, then one Sync() (optionally
// with Compact(compact_per_group) between the writes and the Sync()).
struct GroupWorkload {
  const char* name;
  size_t segments = 16;
  uint64_t seed;
  int groups;
  int keys;
  int min_writes;
  int max_extra_writes;
  int delete_one_in;
  size_t compact_per_group = 0;
  int reopen_every;
  uint64_t min_points;
};

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override { config_ = CrashConfig::FromEnv(); }

  void Report(const CrashHarness& h,
              uint64_t min_points = kMinPointsPerWorkload) {
    Report(h, config_, min_points);
  }
  void Report(const CrashHarness& h, const CrashConfig& config,
              uint64_t min_points = kMinPointsPerWorkload) {
    const uint64_t* m = h.mode_images();
    std::printf(
        "[crash] %s: %llu crash points, %llu images recovered (whole lines "
        "%llu, torn words %llu, intermediate states %llu, both %llu)\n",
        ::testing::UnitTest::GetInstance()->current_test_info()->name(),
        static_cast<unsigned long long>(h.points()),
        static_cast<unsigned long long>(h.images_checked()),
        static_cast<unsigned long long>(m[0]),
        static_cast<unsigned long long>(m[1]),
        static_cast<unsigned long long>(m[2]),
        static_cast<unsigned long long>(m[3]));
    RecordProperty("crash_points", static_cast<int>(h.points()));
    RecordProperty("images_checked", static_cast<int>(h.images_checked()));
    if (config.full_run()) {
      EXPECT_GE(h.points(), min_points);
    }
  }

  void RunExpiryWorkload(const CrashConfig& config);
  void RunGroupWorkload(const GroupWorkload& w);

  static bool Live(const Model& m, const std::string& key, int64_t now) {
    auto it = m.find(key);
    return it != m.end() &&
           (it->second.expire_at_ms == 0 || it->second.expire_at_ms > now);
  }

  std::string Key(std::mt19937_64& rng, int keys) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "key%03d",
                  static_cast<int>(rng() % static_cast<uint64_t>(keys)));
    return buf;
  }

  // Mostly small values, sometimes a few KiB (the non-temporal copy path).
  static size_t ValueLen(std::mt19937_64& rng) {
    static constexpr size_t kLens[] = {1, 8, 24, 60, 100, 130, 250, 400, 2100};
    return kLens[rng() % std::size(kLens)];
  }

  CrashConfig config_;
};

// A crash while the very first open formats the pool: the create never
// returned, so the region must open again (blank or empty), not refuse.
TEST_F(CrashTest, FormatWorkload) {
  CrashHarness h({.workload = "format"}, config_);
  ASSERT_NO_FATAL_FAILURE(h.Open(/*check_format=*/true));
  EXPECT_GT(h.points(), 0u);
}

TEST_F(CrashTest, PutWorkload) {
  CrashHarness h({.workload = "put"}, config_);
  ASSERT_NO_FATAL_FAILURE(h.Open());
  std::mt19937_64 rng(1);
  const int ops = config_.Ops(2200);
  for (int op = 0; op < ops && !HasFailure(); ++op) {
    std::string key = Key(rng, 40);
    std::string value = MakeValue(key, op, ValueLen(rng));
    int kind = rng() % 10;
    bool live = Live(h.model(), key, h.clock().NowMs());
    PutMode mode = kind == 0   ? PutMode::kIfAbsent
                   : kind == 1 ? PutMode::kIfPresent
                               : PutMode::kUpsert;
    bool applies =
        mode == PutMode::kUpsert || (mode == PutMode::kIfAbsent ? !live : live);
    Status s = h.Step(
        "put " + key, [&](DB* db) { return db->PutIf(mode, key, value); },
        [&](Model* m) {
          if (applies) (*m)[key] = {value, 0};
        });
    if (applies) {
      ASSERT_OK(s) << "op " << op;
    } else {
      // A refused conditional put says why: the key is there, or it isn't.
      ASSERT_THAT(
          s, StatusIs(mode == PutMode::kIfAbsent ? StatusCode::kAlreadyExists
                                                 : StatusCode::kNotFound))
          << "op " << op << ": conditional put applied";
    }
    if (op % 700 == 699) {
      ASSERT_NO_FATAL_FAILURE(h.Reopen());
    }
  }
  Report(h);
}

TEST_F(CrashTest, DeleteWorkload) {
  CrashHarness h({.workload = "delete"}, config_);
  ASSERT_NO_FATAL_FAILURE(h.Open());
  std::mt19937_64 rng(2);
  const int ops = config_.Ops(2700);
  for (int op = 0; op < ops && !HasFailure(); ++op) {
    std::string key = Key(rng, 24);
    int kind = rng() % 100;
    Status s;
    if (kind < 50) {
      std::string value = MakeValue(key, op, ValueLen(rng));
      s = h.Step(
          "put " + key, [&](DB* db) { return db->Put(key, value); },
          [&](Model* m) {
            (*m)[key] = {value, 0};
          });
    } else if (kind < 92) {
      bool expect_existed = Live(h.model(), key, h.clock().NowMs());
      bool existed = !expect_existed;
      s = h.Step(
          "delete " + key, [&](DB* db) { return db->Delete(key, &existed); },
          [&](Model* m) { m->erase(key); });
      EXPECT_EQ(existed, expect_existed) << "op " << op;
    } else if (kind < 99) {
      // Read-modify-write: append one byte, or delete when long enough.
      const Model& m = h.model();
      bool live = Live(m, key, h.clock().NowMs());
      std::string old = live ? m.at(key).value : "";
      bool erase = old.size() > 300;
      std::string next = old + static_cast<char>('a' + op % 26);
      s = h.Step(
          "update " + key,
          [&](DB* db) {
            return db->Update(
                key, [&](const UpdateInput& in, UpdateOutput* out) {
                  if (!erase)
                    out->value = (in.old ? *in.old : "") + next.back();
                  return OkStatus();
                });
          },
          [&](Model* m) {
            if (erase) {
              m->erase(key);
            } else {
              (*m)[key] = {next, 0};
            }
          });
    } else {
      s = h.Step(
          "flush", [](DB* db) { return db->Flush(); },
          [](Model* m) { m->clear(); });
    }
    ASSERT_OK(s) << "op " << op;
    if (op % 800 == 799) {
      ASSERT_NO_FATAL_FAILURE(h.Reopen());
    }
  }
  Report(h);
}

TEST_F(CrashTest, BatchWorkload) {
  CrashHarness h({.workload = "batch"}, config_);
  ASSERT_NO_FATAL_FAILURE(h.Open());
  std::mt19937_64 rng(3);
  const int ops = config_.Ops(2200);
  for (int op = 0; op < ops && !HasFailure(); ++op) {
    WriteBatch batch;
    Model delta_model = h.model();
    std::set<std::string> used;
    int n = 2 + rng() % 5;
    bool guarded = rng() % 8 == 0;
    bool guard_holds = true;
    for (int i = 0; i < n; ++i) {
      std::string key = Key(rng, 32);
      if (!used.insert(key).second) continue;  // one op per key per batch
      if (guarded && i == 0) {
        batch.RequireVersion(key, 0);  // must be absent at commit
        guard_holds = !Live(h.model(), key, h.clock().NowMs());
      }
      if (rng() % 4 == 0) {
        batch.Delete(key);
        delta_model.erase(key);
      } else {
        std::string value = MakeValue(key, op * 8 + i, ValueLen(rng) / 2 + 1);
        batch.Put(key, value);
        delta_model[key] = {value, 0};
      }
    }
    Status s = h.Step(
        "batch of " + std::to_string(batch.Count()),
        [&](DB* db) { return db->Write(batch); },
        [&](Model* m) {
          if (guard_holds) *m = delta_model;
        });
    if (guard_holds) {
      ASSERT_OK(s) << "op " << op;
    } else {
      ASSERT_THAT(s, StatusIs(StatusCode::kAborted)) << "op " << op;
    }
    if (op % 600 == 599) {
      ASSERT_NO_FATAL_FAILURE(h.Reopen());
    }
  }
  Report(h);
}

TEST_F(CrashTest, CompactionWorkload) {
  // A small pool of small segments: overwrites leave dead bytes everywhere
  // and compaction must run often, both by hand and when space runs out.
  CrashHarness h({.workload = "compaction", .segments = 10}, config_);
  ASSERT_NO_FATAL_FAILURE(h.Open());
  std::mt19937_64 rng(4);
  const int rounds = config_.Ops(60);
  uint64_t freed = 0;
  for (int round = 0; round < rounds && !HasFailure(); ++round) {
    for (int i = 0; i < 40; ++i) {
      std::string key = Key(rng, 20);
      std::string value = MakeValue(key, round * 100 + i, 300 + rng() % 900);
      Status s = h.Step(
          "put " + key, [&](DB* db) { return db->Put(key, value); },
          [&](Model* m) {
            (*m)[key] = {value, 0};
          });
      ASSERT_OK(s) << "round " << round;
    }
    if (round % 3 == 0) {
      std::string key = Key(rng, 20);
      ASSERT_TRUE(h.Step(
                       "delete " + key, [&](DB* db) { return db->Delete(key); },
                       [&](Model* m) { m->erase(key); })
                      .ok());
    }
    uint64_t n = 0;
    Status s = h.Step(
        "compact",
        [&](DB* db) {
          auto r = TEST_Compact(db, 2);
          if (r.ok()) n = *r;
          return r.status();
        },
        [](Model*) {});
    ASSERT_OK(s) << "round " << round;
    freed += n;
    if (round % 20 == 19) {
      ASSERT_NO_FATAL_FAILURE(h.Reopen());
    }
  }
  EXPECT_GT(freed, 0u) << "compaction never freed a segment";
  Report(h);
}

void CrashTest::RunExpiryWorkload(const CrashConfig& config) {
  CrashHarness h({.workload = "expiry"}, config);
  ASSERT_NO_FATAL_FAILURE(h.Open());
  std::mt19937_64 rng(5);
  const int ops = config.Ops(2400);
  uint64_t reclaimed = 0;
  for (int op = 0; op < ops && !HasFailure(); ++op) {
    std::string key = Key(rng, 32);
    const int64_t now = h.clock().NowMs();
    int kind = rng() % 10;
    Status s;
    if (kind < 6) {
      int64_t expire = rng() % 3 == 0 ? 0 : now + 1 + rng() % 60;
      std::string value = MakeValue(key, op, ValueLen(rng) / 2 + 1);
      s = h.Step(
          "put-with-expiry " + key,
          [&](DB* db) { return db->Put(key, value, expire); },
          [&](Model* m) {
            (*m)[key] = {value, expire};
          });
    } else if (kind < 8) {
      int64_t expire = rng() % 4 == 0 ? 0 : now + 1 + rng() % 60;
      bool live = Live(h.model(), key, now);
      s = h.Step(
          "set-expiry " + key,
          [&](DB* db) { return db->SetExpiry(key, expire); },
          [&](Model* m) {
            if (live) (*m)[key].expire_at_ms = expire;
          });
      if (!live) {
        ASSERT_THAT(s, StatusIs(StatusCode::kNotFound)) << "op " << op;
        s = OkStatus();
      }
    } else {
      uint64_t n = 0;
      s = h.Step(
          "reclaim-expired",
          [&](DB* db) {
            auto r = TEST_ReclaimExpired(db);
            if (r.ok()) n = *r;
            return r.status();
          },
          [now](Model* m) {
            std::erase_if(*m, [now](const auto& kv) {
              return kv.second.expire_at_ms != 0 &&
                     kv.second.expire_at_ms <= now;
            });
          });
      reclaimed += n;
    }
    ASSERT_OK(s) << "op " << op;
    h.clock().AdvanceMs(static_cast<int64_t>(rng() % 8));
    if (op % 800 == 799) {
      ASSERT_NO_FATAL_FAILURE(h.Reopen());
    }
  }
  EXPECT_GT(reclaimed, 0u) << "no expired key was ever reclaimed";
  Report(h, config);
}

TEST_F(CrashTest, ExpiryWorkload) { RunExpiryWorkload(config_); }

// The long-mode image that wedged a pool before compaction resumed after a
// crash (engine/compaction_resume.cc): compaction had taken the last free
// segment for its log and copied tombstones into it. Recovery sealed that
// log, so the pool opened with no free segment and every later write got
// NoSpace although ~32 keys were live. Pinned here so the default run
// covers it; the long mode covers the whole class (every point, 4 seeds):
// DAXKV_CRASH_LONG=1 engine_test --gtest_filter=CrashTest.ExpiryWorkload.
// Since puts leave three segments free (issue 11, finding 11) this
// workload no longer drives compaction into the last free segment at this
// point (nor, in long mode, at any deep-checked one): the class is pinned
// deterministically by DbSpaceTest.CrashesWhileCompactionHoldsTheLastSegment
// NeverWedge (compaction_crash_test.cc), which fails without the resume.
TEST_F(CrashTest, CompactionCutAfterTakingTheLastFreeSegmentResumes) {
  if (config_.only_point) GTEST_SKIP() << "a single point was asked for";
  if (config_.scale < 1.0) {
    GTEST_SKIP() << "the pinned image needs the full-scale workload";
  }
  CrashConfig c;
  c.long_mode = true;
  c.seeds_per_point = 4;
  c.only_point = 5465;
  c.only_seed = 87442;
  c.keep_probability = 0.1;  // what seed 87442 meant when it was pinned
  RunExpiryWorkload(c);
}

void CrashTest::RunGroupWorkload(const GroupWorkload& w) {
  CrashHarness h({.workload = w.name, .segments = w.segments}, config_);
  ASSERT_NO_FATAL_FAILURE(h.Open());
  std::mt19937_64 rng(w.seed);
  WriteOptions unsynced;
  unsynced.sync = false;
  const int groups = config_.Ops(w.groups);
  uint64_t freed = 0;
  for (int g = 0; g < groups && !HasFailure(); ++g) {
    std::map<std::string, std::optional<std::string>> writes;
    int n = w.min_writes + rng() % w.max_extra_writes;
    for (int i = 0; i < n; ++i) {
      std::string key = Key(rng, w.keys);
      const bool del = rng() % w.delete_one_in == 0;
      const size_t len =
          w.compact_per_group ? 300 + rng() % 900 : ValueLen(rng);
      writes[key] =
          del ? std::nullopt
              : std::optional<std::string>(MakeValue(key, g * 16 + i, len));
    }
    std::string what = "group of " + std::to_string(writes.size()) +
                       (w.compact_per_group ? " + Compact" : "") + " + Sync";
    Status s = h.Step(
        what,
        [&](DB* db) {
          for (const auto& [key, value] : writes) {
            Status st = value ? db->Put(key, *value, 0, unsynced)
                              : db->Delete(key, nullptr, unsynced);
            if (!st.ok()) return st;
          }
          if (w.compact_per_group) {
            auto c = TEST_Compact(db, w.compact_per_group);
            if (!c.ok()) return c.status();
            freed += *c;
          }
          return db->Sync();
        },
        [&](Model* m) {
          for (const auto& [key, value] : writes) {
            if (value) {
              (*m)[key] = {*value, 0};
            } else {
              m->erase(key);
            }
          }
        },
        /*atomic=*/false);
    ASSERT_OK(s) << "group " << g;
    if (g % w.reopen_every == w.reopen_every - 1) {
      ASSERT_NO_FATAL_FAILURE(h.Reopen());
    }
  }
  if (w.compact_per_group) {
    EXPECT_GT(freed, 0u) << "compaction never freed a segment";
  }
  Report(h, w.min_points);
}

// Group commit: unsynced writes to distinct keys, then one Sync(). Until
// Sync() returns each key may independently hold its old or new value.
TEST_F(CrashTest, GroupCommitWorkload) {
  RunGroupWorkload({.name = "group-commit",
                    .seed = 6,
                    .groups = 1000,
                    .keys = 32,
                    .min_writes = 2,
                    .max_extra_writes = 6,
                    .delete_one_in = 5,
                    .reopen_every = 400,
                    .min_points = 1000});
}

// Group commit with compaction inside the group, as the server runs it
// (background compaction every 20 ms, Sync() once per event-loop round):
// compaction may free the segment of a key's acknowledged value while the
// newer value (or delete) that superseded it is still unsynced. Until the
// Sync() returns each key may hold its old or new value, never an older
// one, nor nothing when it had a value.
TEST_F(CrashTest, GroupCommitWithCompactionWorkload) {
  RunGroupWorkload({.name = "group-commit+compaction",
                    .segments = 10,
                    .seed = 8,
                    .groups = 700,
                    .keys = 20,
                    .min_writes = 3,
                    .max_extra_writes = 8,
                    .delete_one_in = 4,
                    .compact_per_group = 2,
                    .reopen_every = 250,
                    .min_points = 1500});
}

// The harness itself: a model that disagrees with what the engine durably
// wrote must be reported, or every green run above would prove nothing.
void RunWithALyingModel() {
  CrashConfig config;
  config.seeds_per_point = 4;
  CrashHarness h({.workload = "self-test"}, config);
  h.Open();
  auto put = [](std::string k, std::string v) {
    return [k, v](DB* db) { return db->Put(k, v); };
  };
  h.Step("put a", put("a", "1"), [](Model* m) {
     (*m)["a"] = {"1", 0};
   }).IgnoreError();
  // The model records a value the engine is never asked to write.
  h.Step("put b", put("b", "2"), [](Model* m) {
     (*m)["b"] = {"X", 0};
   }).IgnoreError();
  h.Step("put c", put("c", "3"), [](Model* m) {
     (*m)["c"] = {"3", 0};
   }).IgnoreError();
}

TEST_F(CrashTest, HarnessReportsAStateTheModelDoesNotAllow) {
  ::testing::TestPartResultArray reported;
  {
    ::testing::ScopedFakeTestPartResultReporter intercept(
        ::testing::ScopedFakeTestPartResultReporter::
            INTERCEPT_ONLY_CURRENT_THREAD,
        &reported);
    RunWithALyingModel();
  }
  ASSERT_GT(reported.size(), 0) << "the lying model went unnoticed";
  for (int i = 0; i < reported.size(); ++i) {
    std::string message = reported.GetTestPartResult(i).message();
    EXPECT_NE(message.find("matches neither"), std::string::npos) << message;
    EXPECT_NE(message.find("DAXKV_CRASH_POINT="), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace daxkv::engine::crash
