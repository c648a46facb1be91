// daxkv-coll-bench: the DRAM cost per element and the speed of the
// collection structures (engine/coll_*.h), for issue 14's memory goal:
// DRAM per element at most half of redis-server's used_memory per element
// for the same data (bench/collections/redis_memory.py measures Redis;
// summary.py puts the two side by side).
//
// Memory/<type>/collections:C/per:P builds C collections of P elements
// through the structures' normal insert paths (the element bytes live in an
// arena standing in for the pool, allocated first and not counted) and
// reports per element:
//   struct_bytes   the structures' own accounting (MemoryBytes())
//   heap_bytes     glibc mallinfo2() in-use growth: what the process really
//                  holds for them, allocator overhead included
//   total_bytes    heap_bytes + kCollectionOverhead / P: what phase B adds
//                  per collection (docs/collections.md, "DRAM")
// Shapes and element strings are redis_memory.py's. Its intset shape (sets
// of the integers 0..99) is EngineMemory/intset (recovery_bench.cc): packed
// sets hold no structure, so only the whole engine's figure says anything.
//
// Ops/* time single operations on 1M-element collections; the arena is
// DRAM, so these are the structures' costs, not a persist's or a pmem read's.
// Build/<type> times recovery's phase-2 bulk build (100k collections x 100
// elements, from the sorted items phase 1 leaves): ns_per_element.
// Recovery/<type> opens a real pool of collections (recovery_bench.cc).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/collections/heap_in_use.h"
#include "bench/collections/recovery_bench.h"
#include "engine/coll_elem_table.h"
#include "engine/coll_list.h"
#include "engine/coll_zset.h"

namespace daxkv::engine::coll {
namespace {

// Per collection, besides its structure (docs/collections.md, "DRAM"): the
// Collection header (lock, type, flags, stripe, id, meta location, owning
// transaction: 40 bytes; phase B allocates it together with the structure,
// whose own allocation the heap figure already counts), the key index slot
// (8 bytes at mean load 0.56: 14) and the collection table slot (14).
constexpr double kCollectionOverhead = 40 + 14 + 14;

// Element bytes in fixed slots ([len][up to slot - 1 bytes], 16 bytes
// unless told), scores beside them; location of element i = 8 * (i + 1).
class ArenaMedium final : public ElemSource {
 public:
  explicit ArenaMedium(size_t slot = 16)
      : ElemSource(0x9e3779b97f4a7c15ull), slot_(slot) {}
  uint64_t Add(std::string_view s, double score) {
    const size_t at = bytes_.size();
    bytes_.resize(at + slot_);
    bytes_[at] = static_cast<char>(s.size());
    std::memcpy(&bytes_[at + 1], s.data(), s.size());
    scores_.push_back(score);
    return 8 * scores_.size();
  }
  std::string_view Subkey(uint64_t loc) const override {
    const char* p = &bytes_[(loc / 8 - 1) * slot_];
    return {p + 1, static_cast<size_t>(p[0])};
  }
  double Score(uint64_t loc) const override { return scores_[loc / 8 - 1]; }
  void SetScore(uint64_t loc, double score) { scores_[loc / 8 - 1] = score; }
  void Clear() {
    std::vector<char>().swap(bytes_);
    std::vector<double>().swap(scores_);
  }

 private:
  const size_t slot_;
  std::vector<char> bytes_;
  std::vector<double> scores_;
};

// "f:0000042": redis_memory.py's element strings.
std::string Elem(const char* prefix, uint64_t i) {
  std::string digits = std::to_string(i % 10000000);
  return prefix + std::string(7 - digits.size(), '0') + digits;
}

enum class Type { kHash, kList, kSet, kZset };

// C collections x P elements of one type; returns the structures' own
// accounting. `objects` keeps them alive until the caller has measured.
template <typename S, typename AddFn>
uint64_t BuildAll(uint64_t c, uint64_t p, std::vector<std::unique_ptr<S>>* out,
                  AddFn&& add) {
  uint64_t accounted = 0;
  for (uint64_t k = 0; k < c; ++k) {
    auto s = std::make_unique<S>();
    for (uint64_t i = 0; i < p; ++i) add(*s, k * p + i, i);
    accounted += s->MemoryBytes();
    out->push_back(std::move(s));
  }
  return accounted;
}

void BM_Memory(benchmark::State& state, Type type) {
  const uint64_t c = state.range(0), p = state.range(1);
  const char* prefix = type == Type::kHash   ? "f:"
                       : type == Type::kList ? "e:"
                                             : "m:";
  auto elem = [&](uint64_t i) { return Elem(prefix, i); };
  for (auto _ : state) {
    ArenaMedium m;
    std::vector<uint64_t> locs(c * p);
    for (uint64_t k = 0; k < c; ++k) {
      for (uint64_t i = 0; i < p; ++i) {
        locs[k * p + i] = m.Add(elem(i), double(i));
      }
    }
    std::vector<std::unique_ptr<ElemTable>> tables;
    std::vector<std::unique_ptr<ListIndex>> lists;
    std::vector<std::unique_ptr<ZsetIndex>> zsets;
    tables.reserve(c);
    lists.reserve(c);
    zsets.reserve(c);
    const uint64_t before = HeapInUse();
    uint64_t accounted = 0;
    if (type == Type::kList) {
      accounted = BuildAll(c, p, &lists, [&](ListIndex& l, uint64_t e, uint64_t) {
        l.PushBack(locs[e]);
      });
    } else if (type == Type::kZset) {
      accounted = BuildAll(c, p, &zsets, [&](ZsetIndex& z, uint64_t e, uint64_t i) {
        z.Insert(m, m.Subkey(locs[e]), double(i), locs[e]);
      });
    } else {
      accounted = BuildAll(c, p, &tables, [&](ElemTable& t, uint64_t e, uint64_t) {
        t.Upsert(m, m.Subkey(locs[e]), locs[e]);
      });
    }
    const uint64_t heap = HeapInUse() - before;
    const double n = double(c * p);
    state.counters["struct_bytes_per_element"] = accounted / n;
    state.counters["heap_bytes_per_element"] = heap / n;
    state.counters["total_bytes_per_element"] =
        heap / n + kCollectionOverhead / double(p);
    state.counters["elements"] = n;
  }
}

// --- single operations on 1M-element collections -----------------------------

constexpr uint64_t kBig = 1000000;

struct BigFixture {
  ArenaMedium m;
  std::vector<uint64_t> locs;
  ListIndex list;
  ElemTable table;
  ZsetIndex zset;
  BigFixture() {
    std::mt19937_64 rng(1);
    for (uint64_t i = 0; i < 2 * kBig; ++i) {
      locs.push_back(m.Add(Elem("m:", i), double(rng() % 100000000)));
    }
    for (uint64_t i = 0; i < kBig; ++i) {
      list.PushBack(locs[i]);
      table.Upsert(m, m.Subkey(locs[i]), locs[i]);
      zset.Insert(m, m.Subkey(locs[i]), m.Score(locs[i]), locs[i]);
    }
  }
};

BigFixture& Big() {
  static BigFixture* f = new BigFixture();
  return *f;
}

void BM_ListPushBackPopFront(benchmark::State& state) {
  ListIndex& l = Big().list;
  for (auto _ : state) {
    l.PushBack(l.Erase(0));
  }
}

void BM_ListIndex(benchmark::State& state) {
  ListIndex& l = Big().list;
  std::mt19937_64 rng(2);
  for (auto _ : state) benchmark::DoNotOptimize(l.At(rng() % kBig));
}

void BM_ListRange100(benchmark::State& state) {
  ListIndex& l = Big().list;
  std::mt19937_64 rng(3);
  uint64_t sum = 0;
  for (auto _ : state) {
    const uint64_t from = rng() % (kBig - 100);
    l.tree().Forward(from, from + 100, [&](uint64_t, uint64_t loc) {
      sum += loc;
      return true;
    });
  }
  benchmark::DoNotOptimize(sum);
}

void BM_ListInsertEraseMiddle(benchmark::State& state) {
  ListIndex& l = Big().list;
  std::mt19937_64 rng(4);
  for (auto _ : state) {
    const uint64_t at = rng() % kBig;
    l.Insert(at, 8);
    l.Erase(at);
  }
}

void BM_HashFind(benchmark::State& state) {
  BigFixture& f = Big();
  std::mt19937_64 rng(5);
  for (auto _ : state) {
    const uint64_t loc = f.locs[rng() % kBig];
    benchmark::DoNotOptimize(f.table.Find(f.m, f.m.Subkey(loc)));
  }
}

void BM_HashUpsertErase(benchmark::State& state) {
  BigFixture& f = Big();
  std::mt19937_64 rng(6);
  for (auto _ : state) {
    const uint64_t loc = f.locs[kBig + rng() % kBig];
    f.table.Upsert(f.m, f.m.Subkey(loc), loc);
    f.table.EraseIndexed(f.m, f.m.Subkey(loc), loc);
  }
}

void BM_SetSample(benchmark::State& state) {
  BigFixture& f = Big();
  std::mt19937_64 rng(7);
  for (auto _ : state) benchmark::DoNotOptimize(f.table.Sample(rng));
}

void BM_ZsetInsertErase(benchmark::State& state) {
  BigFixture& f = Big();
  std::mt19937_64 rng(8);
  for (auto _ : state) {
    const uint64_t loc = f.locs[kBig + rng() % kBig];
    const std::string_view member = f.m.Subkey(loc);
    f.zset.Insert(f.m, member, f.m.Score(loc), loc);
    f.zset.Erase(f.m, member);
  }
}

// redis-benchmark's zadd test once its members are in: ZADD myzset
// <score> element:<12 digits>, scores and members both drawn from
// [0, 100000), so every call moves a present member to a new score among
// ties of about one member per score, all members sharing 15 bytes.
struct RescoreFixture {
  static constexpr uint64_t kMembers = 100000;
  ArenaMedium m{32};
  // Member i's two elements, 8 bytes apart in location: the current one
  // and the one its next update writes (an arena that grew per update
  // would time its own reallocations).
  std::vector<uint64_t> locs;
  ZsetIndex zset;
  RescoreFixture() {
    std::mt19937_64 rng(11);
    for (uint64_t i = 0; i < kMembers; ++i) {
      locs.push_back(m.Add(Member(i), double(rng() % kMembers)));
      m.Add(Member(i), 0);
      zset.Insert(m, Member(i), m.Score(locs[i]), locs[i]);
    }
  }
  static std::string Member(uint64_t i) {
    char b[24];
    std::snprintf(b, sizeof(b), "element:%012llu",
                  static_cast<unsigned long long>(i));
    return b;
  }
};

void BM_ZsetRescore(benchmark::State& state) {
  static RescoreFixture* f = new RescoreFixture();
  std::mt19937_64 rng(12);
  for (auto _ : state) {
    const uint64_t i = rng() % RescoreFixture::kMembers;
    const uint64_t old_loc = f->locs[i];
    const uint64_t loc = old_loc ^ (16 * (i + 1)) ^ (16 * (i + 1) - 8);
    f->m.SetScore(loc, double(rng() % RescoreFixture::kMembers));
    benchmark::DoNotOptimize(f->zset.Rescore(f->m, f->m.Subkey(loc),
                                             f->m.Score(old_loc), old_loc,
                                             f->m.Score(loc), loc));
    f->locs[i] = loc;
  }
}

void BM_ZsetRank(benchmark::State& state) {
  BigFixture& f = Big();
  std::mt19937_64 rng(9);
  for (auto _ : state) {
    const uint64_t loc = f.locs[rng() % kBig];
    benchmark::DoNotOptimize(
        f.zset.RankOf(f.m, f.m.Subkey(loc), f.m.Score(loc)));
  }
}

void BM_ZsetRangeByScore100(benchmark::State& state) {
  BigFixture& f = Big();
  std::mt19937_64 rng(10);
  uint64_t sum = 0;
  for (auto _ : state) {
    const uint64_t from = f.zset.ScoreBound(f.m, double(rng() % 99000000), false);
    f.zset.Forward(from, from + 100, [&](uint64_t, uint64_t loc) {
      sum += loc;
      return true;
    });
  }
  benchmark::DoNotOptimize(sum);
}

// --- recovery's phase-2 bulk build ------------------------------------------

void BM_Build(benchmark::State& state, Type type) {
  const uint64_t c = 100000, p = 100;
  std::mt19937_64 rng(11);
  std::vector<ZsetIndex::Member> items(p);
  for (uint64_t i = 0; i < p; ++i) {
    items[i] = {8 * (i + 1), double(i), rng()};  // compact: reads nothing
  }
  const ArenaMedium none;
  for (auto _ : state) {
    std::vector<ElemTable> tables(type == Type::kHash ? c : 0);
    std::vector<ListIndex> lists(type == Type::kList ? c : 0);
    std::vector<ZsetIndex> zsets(type == Type::kZset ? c : 0);
    const auto start = std::chrono::steady_clock::now();
    for (uint64_t k = 0; k < c; ++k) {
      if (type == Type::kHash) {
        tables[k].Reserve(p);
        for (const auto& it : items) tables[k].InsertUnique(it.hash, it.loc);
      } else if (type == Type::kList) {
        lists[k].Assign(p, [&](uint64_t i) { return items[i].loc; });
      } else {
        zsets[k].Assign(none, items);
      }
    }
    const double secs = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - start)
                            .count();
    state.SetIterationTime(secs);
    state.counters["ns_per_element"] = secs * 1e9 / double(c * p);
  }
}

void Register() {
  const struct {
    const char* name;
    Type type;
  } types[] = {{"hash", Type::kHash},
               {"list", Type::kList},
               {"set", Type::kSet},
               {"zset", Type::kZset}};
  for (const auto& t : types) {
    auto* b = benchmark::RegisterBenchmark(
        (std::string("Memory/") + t.name).c_str(),
        [type = t.type](benchmark::State& s) { BM_Memory(s, type); });
    b->ArgNames({"collections", "per"})->Args({100000, 100});
    b->Args({10, 100000});
    b->Iterations(1)->Unit(benchmark::kMillisecond);
  }
  for (const auto& t : types) {
    // Sets build as hashes do.
    if (t.type == Type::kSet) continue;
    benchmark::RegisterBenchmark(
        (std::string("Build/") + t.name).c_str(),
        [type = t.type](benchmark::State& s) { BM_Build(s, type); })
        ->UseManualTime()
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  }
  BENCHMARK(BM_ListPushBackPopFront)->Name("Ops/list_rpush_lpop");
  BENCHMARK(BM_ListIndex)->Name("Ops/list_lindex");
  BENCHMARK(BM_ListRange100)->Name("Ops/list_lrange_100");
  BENCHMARK(BM_ListInsertEraseMiddle)->Name("Ops/list_linsert_lrem_middle");
  BENCHMARK(BM_HashFind)->Name("Ops/hash_hget");
  BENCHMARK(BM_HashUpsertErase)->Name("Ops/hash_hset_hdel_new_field");
  BENCHMARK(BM_SetSample)->Name("Ops/set_srandmember");
  BENCHMARK(BM_ZsetInsertErase)->Name("Ops/zset_zadd_zrem_new_member");
  BENCHMARK(BM_ZsetRescore)->Name("Ops/zset_zadd_rescore");
  BENCHMARK(BM_ZsetRank)->Name("Ops/zset_zrank");
  BENCHMARK(BM_ZsetRangeByScore100)->Name("Ops/zset_zrangebyscore_100");
}

}  // namespace
}  // namespace daxkv::engine::coll

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  daxkv::engine::coll::Register();
  daxkv::engine::coll::RegisterRecovery();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
