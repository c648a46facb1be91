// SnapshotIo: the collections' part of the clean-close index snapshot
// (index_snapshot.h, CollHead). A clean close writes every collection's
// element index after the key index's shards; the next open rebuilds the
// collections from it without reading an element, into a fresh CollTable
// that replaces the open's only once every collection checked out.
#include <atomic>
#include <cstddef>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "engine/coll_source.h"
#include "engine/db_impl.h"
#include "engine/index_snapshot.h"
#include "engine/snapshot_io.h"

namespace daxkv::engine {

namespace sn = snapshot;
using coll::ScoredLocCodec;

namespace {

static_assert(sizeof(ScoredLocCodec::Entry) == sizeof(sn::OrderEntry) &&
                  offsetof(ScoredLocCodec::Entry, score) ==
                      offsetof(sn::OrderEntry, score) &&
                  offsetof(ScoredLocCodec::Entry, loc) ==
                      offsetof(sn::OrderEntry, loc) &&
                  offsetof(ScoredLocCodec::Entry, member_key) ==
                      offsetof(sn::OrderEntry, member_key),
              "the snapshot stores zset order entries as they are");

bool LargeZset(KeyType type, uint64_t n) {
  return type == KeyType::kZset && n > coll::ZsetIndex::kCompactMax;
}

uint64_t EntryBytes(bool large, uint64_t n) {
  return large ? sizeof(sn::ZsetCommon) + n * (sizeof(sn::OrderEntry) + 8)
               : n * 8;
}

// What a scan would set had_long to: whether an element now indexed is
// long (the flag only remembers that one was stored since the open).
bool HoldsLongElement(const Collection& c, const PoolSource& src)
    REQUIRES_SHARED(c.mu) {
  if (!c.had_long.load(std::memory_order_relaxed)) return false;
  std::vector<uint64_t> locs;
  c.AppendLocs(&locs);
  for (uint64_t loc : locs) {
    if (IsLongElement(c.type, src.Subkey(loc), src.Value(loc).size())) {
      return true;
    }
  }
  return false;
}

// The collection's entries as CollHead describes them (order and common:
// a large zset's; empty otherwise).
void ExportCollection(const Collection& c, const PoolSource& src,
                      std::vector<uint64_t>* words,
                      std::vector<ScoredLocCodec::Entry>* order,
                      sn::ZsetCommon* common) REQUIRES_SHARED(c.mu) {
  *common = {};
  if (c.packed()) {
    words->push_back(coll::ElemTable::Pack(0, c.packed_set().loc));
  } else if (c.type == KeyType::kHash || c.type == KeyType::kSet) {
    c.table().ForEachPacked([&](uint64_t w) { words->push_back(w); });
  } else if (UsesListIndex(c.type)) {
    c.AppendLocs(words);  // in list order
  } else {
    std::string_view part;
    c.zset().Export(src, words, order, &part);
    common->len = static_cast<uint8_t>(part.size());
    std::memcpy(common->bytes, part.data(), part.size());
  }
}

// A collection rebuilt from its head and entries (checked by the caller).
Collection* RestoreCollection(const sn::CollHead& ch,
                              const std::vector<uint64_t>& words,
                              const std::vector<ScoredLocCodec::Entry>& order,
                              const sn::ZsetCommon& common) {
  const auto type = static_cast<KeyType>(ch.type);
  auto* c = new Collection(type, ch.id, ch.meta_loc);
  c->had_long = ch.had_long != 0;
  WriteLock l(c->mu);  // nobody else sees it yet
  const uint64_t n = ch.count;
  if (ch.packed) {
    c->SetPacked({coll::ElemTable::PackedLoc(words[0]), ch.members});
  } else if (type == KeyType::kHash || type == KeyType::kSet) {
    c->mutable_table().AssignPacked(words.data(), n);
  } else if (UsesListIndex(type)) {
    c->mutable_list().Assign(n, [&](uint64_t i) { return words[i]; });
  } else {
    c->mutable_zset().Restore(n, words.data(),
                              ch.large ? order.data() : nullptr,
                              {common.bytes, common.len});
  }
  return c;
}

}  // namespace

uint64_t SnapshotIo::CollectionBytes(uint64_t* collections) const {
  uint64_t bytes = 0;
  *collections = 0;
  db_.colls_->ForEach([&](Collection* c) {
    ReadLock l(c->mu);
    const uint64_t n = c->packed() ? 1 : c->size();
    bytes += sizeof(sn::CollHead) + EntryBytes(LargeZset(c->type, n), n);
    ++*collections;
  });
  return bytes;
}

void SnapshotIo::WriteCollections(sn::ChunkStream& out,
                                  const sn::ChunkStream::CopyFn& copy) {
  const PoolSource src(db_.base_, db_.hash_seed_);
  std::vector<uint64_t> words;
  std::vector<ScoredLocCodec::Entry> order;
  sn::ZsetCommon common;
  db_.colls_->ForEach([&](Collection* c) {
    ReadLock l(c->mu);
    words.clear();
    order.clear();
    ExportCollection(*c, src, &words, &order, &common);
    sn::CollHead h{};
    h.id = c->id;
    h.meta_loc = c->meta_loc;
    h.count = words.size();
    h.type = static_cast<uint8_t>(c->type);
    h.had_long = HoldsLongElement(*c, src) ? 1 : 0;
    h.large = order.empty() ? 0 : 1;
    h.packed = c->packed() ? 1 : 0;
    h.members = c->packed() ? static_cast<uint32_t>(c->size()) : 0;
    out.Write(&h, sizeof(h), copy);
    if (h.large) out.Write(&common, sizeof(common), copy);
    out.Write(order.data(), order.size() * sizeof(order[0]), copy);
    out.Write(words.data(), words.size() * 8, copy);
  });
}

std::string SnapshotIo::ReadCollections(const sn::Header& h,
                                        sn::ChunkStream& in, int threads,
                                        CollTable* table) {
  const uint64_t lo = format::kDataOffset;
  const uint64_t hi = lo + h.segment_count * h.segment_size;
  auto in_pool = [&](uint64_t loc) { return loc >= lo && loc < hi; };
  // The heads in one pass (each checked), then the collections on
  // `threads` threads.
  std::vector<std::pair<sn::CollHead, uint64_t>> heads;
  heads.reserve(h.collections);
  std::unordered_set<uint64_t> ids;
  for (uint64_t i = 0; i < h.collections; ++i) {
    sn::CollHead ch;
    if (in.position() + sizeof(ch) > h.data_bytes) {
      return "collection " + std::to_string(i) + " out of bounds";
    }
    in.Read(&ch, sizeof(ch));
    const auto type = static_cast<KeyType>(ch.type);
    const uint64_t room = (h.data_bytes - in.position()) / 8;
    if (!IsCollectionType(ch.type) || ch.id == 0 || !in_pool(ch.meta_loc) ||
        ch.had_long > 1 || ch.count > room ||
        (ch.packed != 0 && (ch.packed > 1 || type != KeyType::kSet ||
                            ch.count != 1 || ch.members == 0)) ||
        ch.large != (LargeZset(type, ch.count) ? 1 : 0) ||
        in.position() + EntryBytes(ch.large != 0, ch.count) > h.data_bytes) {
      return "collection " + std::to_string(i) + " out of bounds";
    }
    if (!ids.insert(ch.id).second) {
      return "collection id " + std::to_string(ch.id) + " appears twice";
    }
    heads.emplace_back(ch, in.position());
    in.Seek(in.position() + EntryBytes(ch.large != 0, ch.count));
  }
  std::atomic<int64_t> bad{-1};
  auto restore = [&](size_t from) {
    sn::ChunkStream mine = in;
    std::vector<uint64_t> words;
    std::vector<ScoredLocCodec::Entry> order;
    for (size_t i = from; i < heads.size(); i += threads) {
      const auto& [ch, pos] = heads[i];
      mine.Seek(pos);
      sn::ZsetCommon common{};
      if (ch.large) mine.Read(&common, sizeof(common));
      order.resize(ch.large ? ch.count : 0);
      words.resize(ch.count);
      mine.Read(order.data(), order.size() * sizeof(order[0]));
      mine.Read(words.data(), words.size() * 8);
      bool ok = common.len <= sizeof(common.bytes);
      for (const auto& e : order) ok &= in_pool(e.loc);
      for (uint64_t w : words) {
        const uint64_t loc = UsesListIndex(static_cast<KeyType>(ch.type))
                                 ? w
                                 : coll::ElemTable::PackedLoc(w);
        ok &= in_pool(loc);
      }
      if (!ok) {
        bad.store(static_cast<int64_t>(i));
        return;
      }
      table->Insert(RestoreCollection(ch, words, order, common));
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(restore, t);
  restore(0);
  for (auto& t : pool) t.join();
  if (bad.load() >= 0) {
    return "collection " + std::to_string(bad.load()) +
           ": an element location or a zset's common part out of bounds";
  }
  return "";
}

}  // namespace daxkv::engine
