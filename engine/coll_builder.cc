#include "engine/coll_builder.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include "base/mutex.h"
#include "engine/coll_source.h"
#include "engine/key_type.h"

namespace daxkv::engine {

namespace {

// Item::packed: loc / 8 (bits 0-39), entry bytes / 8 (40-55; 0: larger,
// read the header), element type (56-58), tombstone (59), an element
// longer than 64 bytes (60), a batch sub-entry (61), a packed set's entry
// (62).
constexpr uint64_t kLocMask = (uint64_t{1} << 40) - 1;
constexpr int kSizeShift = 40;
constexpr int kTypeShift = 56;
constexpr uint64_t kTombBit = uint64_t{1} << 59;
constexpr uint64_t kLongBit = uint64_t{1} << 60;
constexpr uint64_t kSubBit = uint64_t{1} << 61;
constexpr uint64_t kPackedBit = uint64_t{1} << 62;

uint64_t ItemLoc(uint64_t packed) { return (packed & kLocMask) << 3; }
uint8_t ItemType(uint64_t packed) { return (packed >> kTypeShift) & 7; }

// Scores as unsigned integers in the order of the doubles (-0 as +0, which
// compare equal; never NaN).
uint64_t ScoreBits(double d) {
  if (d == 0) d = 0;
  const uint64_t b = std::bit_cast<uint64_t>(d);
  return (b >> 63) ? ~b : b | (uint64_t{1} << 63);
}
double BitsScore(uint64_t u) {
  return std::bit_cast<double>((u >> 63) ? u & ~(uint64_t{1} << 63) : ~u);
}

uint64_t KeyPrefix(std::string_view k) {
  unsigned char b[8] = {};
  std::memcpy(b, k.data(), std::min<size_t>(8, k.size()));
  uint64_t v = 0;
  for (unsigned char c : b) v = v << 8 | c;
  return v;
}

}  // namespace

CollBuilder::CollBuilder(const char* base, const format::SuperBlock& sb,
                         uint64_t hash_seed, int workers)
    : base_(base),
      sb_(sb),
      hash_seed_(hash_seed),
      workers_(std::max(workers, 1)) {
  for (Worker& w : workers_)
    w.parts.assign(size_t{1} << kPartitionBits, nullptr);
}

CollBuilder::~CollBuilder() {
  for (Worker& w : workers_) {
    for (Chunk* c : w.parts) {
      while (c != nullptr) delete std::exchange(c, c->next);
    }
  }
}

void CollBuilder::AddElem(int worker, uint64_t loc,
                          const format::EntryHeader& e) {
  const char* p = base_ + loc;
  const std::string_view subkey(p + format::kEntryHeaderSize, e.key_len);
  Item item;
  item.id = format::ElemId(e);
  item.hash = coll::ElemHash(hash_seed_, subkey);
  item.aux = 0;
  const uint8_t type = format::ElemType(e);
  const bool tomb = e.type == format::kElemTombstone;
  if (!tomb && type == static_cast<uint8_t>(KeyType::kZset)) {
    double score;
    std::memcpy(&score, p + format::kEntryHeaderSize + e.key_len, 8);
    item.aux = ScoreBits(score);
  } else if (UsesListIndex(static_cast<KeyType>(type))) {
    item.aux = KeyPrefix(subkey);
  }
  const uint64_t bytes = format::EntrySize(e.key_len, e.value_len);
  const uint64_t size8 = bytes / 8 < (1u << 16) ? bytes / 8 : 0;
  item.packed =
      (loc >> 3) | size8 << kSizeShift | uint64_t{type} << kTypeShift |
      (tomb ? kTombBit : 0) |
      (IsLongElement(static_cast<KeyType>(type), subkey, e.value_len) ? kLongBit
                                                                      : 0) |
      ((e.flags & format::kFlagSubEntry) ? kSubBit : 0) |
      (!tomb && type == static_cast<uint8_t>(KeyType::kSet) && e.value_len != 0
           ? kPackedBit
           : 0);
  Chunk*& head = workers_[worker].parts[PartitionOf(item.id)];
  if (head == nullptr || head->n == Chunk::kItems) {
    Chunk* c = new Chunk;  // items left uninitialised: written before read
    c->next = head;
    c->n = 0;
    head = c;
  }
  head->items[head->n++] = item;
}

void CollBuilder::BuildCollections(const Index& index, CollTable* table,
                                   PoolScan* out) {
  for (const Worker& w : workers_) {
    for (uint64_t loc : w.metas) {
      const format::EntryHeader e = format::LoadEntry(base_ + loc);
      const std::string_view key(base_ + loc + format::kEntryHeaderSize,
                                 e.key_len);
      const KeyHash kh(key);
      {
        const Index::Shard& s = index.shard(kh);
        ReadLock l(s.mu);
        if (!index.IndexedAt(s, kh, loc)) continue;  // superseded
      }
      const format::MetaPayload m = format::LoadMeta(base_ + loc);
      if (table->Find(m.id) != nullptr) {
        out->problems.push_back({loc, format::kEntryHeaderSize, false,
                                 "key '" + std::string(key.substr(0, 64)) +
                                     "' names collection id " +
                                     std::to_string(m.id) +
                                     ", which another live key names too"});
        continue;
      }
      table->Insert(new Collection(static_cast<KeyType>(m.type), m.id, loc));
    }
  }
}

// Phase 2b of one partition: its items sorted, then collection by
// collection: winners chosen, losers counted, the structure built.
class CollBuilder::Partition {
 public:
  Partition(const CollBuilder& b, const CollTable& table,
            std::vector<int64_t>* live,
            const std::function<void(uint64_t)>& on_dead)
      : b_(b),
        table_(table),
        live_(live),
        on_dead_(on_dead),
        src_(b.base_, b.hash_seed_) {}

  // Takes the partition's items out of `chunks` (freeing them) and
  // recovers its collections.
  void Run(const std::vector<Chunk*>& chunks,
           std::vector<PoolProblem>* problems,
           std::vector<uint64_t>* mismatched);

 private:
  // Items [first, last) share one id.
  void OneCollection(const Item* first, const Item* last);
  // Items [first, last) share one id and one hash: the winner per distinct
  // subkey (highest seq), into winners_; losing puts counted dead.
  void Resolve(const Item* first, const Item* last, uint64_t id);
  void Dead(uint64_t id, const Item& it) {
    if (!(it.packed & kTombBit) && on_dead_) {
      on_dead_(ElemDeadHash(id, it.hash));
    }
  }
  uint64_t Bytes(const Item& it) const;
  void Build(Collection* c) REQUIRES(c->mu);
  // A set whose one winner is its packed entry takes the packed form
  // (true); a packed entry beside members is reported and dropped.
  bool BuildPacked(Collection* c) REQUIRES(c->mu);

  const CollBuilder& b_;
  const CollTable& table_;
  std::vector<int64_t>* live_;
  const std::function<void(uint64_t)>& on_dead_;
  PoolSource src_;
  coll::ItemSorter sorter_;
  std::vector<Item> in_;      // the partition's items as filed
  std::vector<Item> sorted_;  // ... by (id, hash)
  std::vector<coll::IdGroup> groups_;
  std::vector<const Item*> winners_;
  std::vector<PoolProblem>* problems_ = nullptr;
  std::vector<uint64_t>* mismatched_ = nullptr;
};

uint64_t CollBuilder::Partition::Bytes(const Item& it) const {
  uint64_t n = ((it.packed >> kSizeShift) & 0xFFFF) * 8;
  if (n == 0) {
    const format::EntryHeader e =
        format::LoadEntry(b_.base_ + ItemLoc(it.packed));
    n = format::EntrySize(e.key_len, e.value_len);
  }
  return (it.packed & kSubBit) ? n : n + 8;
}

void CollBuilder::Partition::Run(const std::vector<Chunk*>& chunks,
                                 std::vector<PoolProblem>* problems,
                                 std::vector<uint64_t>* mismatched) {
  problems_ = problems;
  mismatched_ = mismatched;
  in_.clear();  // keeps its capacity: the thread's partitions reuse it
  for (Chunk* c : chunks) {
    while (c != nullptr) {
      in_.insert(in_.end(), c->items, c->items + c->n);
      delete std::exchange(c, c->next);
    }
  }
  sorter_.Sort(in_.data(), in_.size(), &sorted_, &groups_);
  for (const coll::IdGroup& g : groups_) {
    OneCollection(sorted_.data() + g.begin, sorted_.data() + g.end);
  }
}

void CollBuilder::Partition::Resolve(const Item* first, const Item* last,
                                     uint64_t id) {
  if (last - first == 1) {
    winners_.push_back(first);
    return;
  }
  // Rare (an overwritten element, or a hash collision): compare subkeys
  // and seqs on the medium.
  std::vector<const Item*> group;
  for (const Item* it = first; it < last; ++it) group.push_back(it);
  while (!group.empty()) {
    const std::string_view subkey = src_.Subkey(ItemLoc(group[0]->packed));
    const Item* best = nullptr;
    std::vector<const Item*> rest;
    for (const Item* it : group) {
      if (src_.Subkey(ItemLoc(it->packed)) != subkey) {
        rest.push_back(it);
        continue;
      }
      if (best == nullptr ||
          src_.Seq(ItemLoc(it->packed)) > src_.Seq(ItemLoc(best->packed))) {
        if (best != nullptr) Dead(id, *best);
        best = it;
      } else {
        Dead(id, *it);
      }
    }
    winners_.push_back(best);
    group.swap(rest);
  }
}

void CollBuilder::Partition::OneCollection(const Item* first,
                                           const Item* last) {
  const uint64_t id = first->id;
  Collection* c = table_.Find(id);
  if (c == nullptr) {  // no live meta names the id: garbage
    for (const Item* it = first; it < last; ++it) Dead(id, *it);
    return;
  }
  winners_.clear();
  for (const Item* p = first; p < last;) {
    const Item* q = p;
    while (q < last && q->hash == p->hash) ++q;
    Resolve(p, q, id);
    p = q;
  }
  std::erase_if(winners_, [&](const Item* it) {
    if (it->packed & kTombBit) return true;
    if (ItemType(it->packed) == static_cast<uint8_t>(c->type)) return false;
    const uint64_t loc = ItemLoc(it->packed);
    mismatched_->push_back(loc);
    problems_->push_back(
        {loc, format::kEntryHeaderSize, true,
         "element at " + format::HexOffset(loc) + " of collection type " +
             std::to_string(ItemType(it->packed)) + " belongs to a " +
             KeyTypeName(c->type) + " (repair deletes the element)"});
    return true;
  });
  WriteLock l(c->mu);  // uncontended: this partition owns the collection
  Build(c);
}

bool CollBuilder::Partition::BuildPacked(Collection* c) {
  const auto packed = std::find_if(
      winners_.begin(), winners_.end(),
      [](const Item* it) { return (it->packed & kPackedBit) != 0; });
  if (packed == winners_.end()) return false;
  const uint64_t loc = ItemLoc((*packed)->packed);
  if (winners_.size() == 1) {
    c->SetPacked({loc, coll::PackedInts(src_.Value(loc)).size()});
    return true;
  }
  // A Txn unpacks a set in one record, deleting the packed entry: both
  // forms live means damage. The members win; repair deletes the entry.
  mismatched_->push_back(loc);
  problems_->push_back({loc, format::kEntryHeaderSize, true,
                        "packed set entry at " + format::HexOffset(loc) +
                            " beside " + std::to_string(winners_.size() - 1) +
                            " members of its set (repair deletes the entry)"});
  winners_.erase(packed);
  return false;
}

void CollBuilder::Partition::Build(Collection* c) {
  const bool packed = c->type == KeyType::kSet && BuildPacked(c);
  const uint64_t seg0 = b_.sb_.data_offset, seg_size = b_.sb_.segment_size;
  for (const Item* it : winners_) {
    const uint64_t loc = ItemLoc(it->packed);
    (*live_)[(loc - seg0) / seg_size] += static_cast<int64_t>(Bytes(*it));
    if (it->packed & kLongBit) c->had_long = true;
  }
  if (packed) return;
  const size_t n = winners_.size();
  auto loc_of = [&](size_t i) { return ItemLoc(winners_[i]->packed); };
  if (c->type == KeyType::kHash || c->type == KeyType::kSet) {
    c->mutable_table().Reserve(n);
    for (const Item* it : winners_) {
      c->mutable_table().InsertUnique(it->hash, ItemLoc(it->packed));
    }
    return;
  }
  // Lists by order key, streams by entry ID, zsets by (score, member): the
  // prefix or score bits decide; the medium only on ties.
  std::sort(winners_.begin(), winners_.end(),
            [&](const Item* a, const Item* b) {
              if (a->aux != b->aux) return a->aux < b->aux;
              return src_.Subkey(ItemLoc(a->packed)) <
                     src_.Subkey(ItemLoc(b->packed));
            });
  if (UsesListIndex(c->type)) {
    c->mutable_list().Assign(n, loc_of);
    return;
  }
  std::vector<coll::ZsetIndex::Member> members(n);
  for (size_t i = 0; i < n; ++i) {
    members[i] = {loc_of(i), BitsScore(winners_[i]->aux), winners_[i]->hash};
  }
  c->mutable_zset().Assign(src_, members);
}

void CollBuilder::BuildElements(const CollTable& table, int threads,
                                const std::function<void(uint64_t)>& on_dead,
                                PoolScan* out) {
  const uint32_t parts = 1u << kPartitionBits;
  std::atomic<uint32_t> next{0};
  Mutex mu;  // merges the threads' results
  auto work = [&] {
    std::vector<int64_t> live(sb_.segment_count, 0);
    std::vector<PoolProblem> problems;
    std::vector<uint64_t> mismatched;
    Partition part(*this, table, &live, on_dead);
    std::vector<Chunk*> chunks(workers_.size());
    for (uint32_t p; (p = next.fetch_add(1)) < parts;) {
      for (size_t w = 0; w < workers_.size(); ++w) {
        chunks[w] = std::exchange(workers_[w].parts[p], nullptr);
      }
      part.Run(chunks, &problems, &mismatched);
    }
    MutexLock l(&mu);
    for (uint64_t s = 0; s < live.size(); ++s) {
      if (live[s] != 0) out->live_bytes[s] += static_cast<uint64_t>(live[s]);
    }
    out->problems.insert(out->problems.end(), problems.begin(), problems.end());
    out->mismatched_elements.insert(out->mismatched_elements.end(),
                                    mismatched.begin(), mismatched.end());
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

}  // namespace daxkv::engine
