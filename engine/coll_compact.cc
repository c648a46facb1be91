// DBImpl: compaction of collection entries (docs/collections.md,
// "Tombstones and compaction"), the same for a resumed compaction, and
// the repair of elements recovery found under a collection of another
// type.
//
// An element put is relocated (same seq) when its collection is live and
// indexes it at this location; an element tombstone is kept while its
// collection is live, does not index its subkey, and the dead-put bucket
// of (id, subkey) counts superseded puts still on the medium. Anything of
// a dead id goes: ids are never reused, so nothing of one can come back.
#include <string>

#include "engine/coll_source.h"
#include "engine/db_impl.h"

namespace daxkv::engine {

namespace {

// The key of the meta entry at `loc` (its bytes stay put while the caller
// holds compaction_mu_: only compaction and Flush free segments).
std::string_view MetaKey(const char* base, uint64_t loc) {
  return {base + loc + format::kEntryHeaderSize,
          format::Load32(base + loc + 4)};
}

}  // namespace

Status DBImpl::RelocateElem(uint64_t loc, const format::EntryHeader& e,
                            std::vector<uint64_t>* forget) {
  const uint64_t id = format::ElemId(e);
  const std::string_view subkey(base_ + loc + format::kEntryHeaderSize,
                                e.key_len);
  const uint64_t dead_hash =
      ElemDeadHash(id, coll::ElemHash(hash_seed_, subkey));
  const bool put = e.type == format::kElem;
  const PoolSource src(base_, hash_seed_);
  for (;;) {
    // The owning key's stripe pins the collection (every remover and
    // every writer holds it); find the key first, then check it still owns
    // the id (a rename may have moved it meanwhile).
    std::string key;
    const bool live = colls_->WithShared(id, [&](Collection* c) {
      c->mu.AssertReaderHeld();
      key = MetaKey(base_, c->meta_loc);
    });
    if (!live) {
      // Counted dead when its id died (recovery, or the freer), unless
      // the freer has yet to count it: then it never will (it skips freed
      // segments).
      if (put && !FreerPending(id)) forget->push_back(dead_hash);
      return OkStatus();
    }
    const KeyHash kh(key);
    StripeLock l(this, kh);
    Collection* c = colls_->Find(id);
    if (c == nullptr) continue;  // died meanwhile
    bool indexed, present;
    // A list's position of the element: the stripe held keeps it until
    // Relocate below, which then needs no second search.
    uint64_t hint = ~0ull;
    {
      ReadLock r(c->mu);
      if (MetaKey(base_, c->meta_loc) != key) continue;  // renamed
      indexed = put && c->IndexedAt(src, subkey, loc, &hint);
      present = !put && c->Contains(src, subkey);
    }
    if (put) {
      // Dead (counted when superseded), or its copy stays behind (counted
      // below): either way one count goes once the victim is freed.
      forget->push_back(dead_hash);
      if (!indexed) return OkStatus();
    } else if (present || DeadCount(dead_hash) == 0 ||
               TombstoneRelocated(loc, e)) {
      return OkStatus();
    }
    Placed placed;
    const std::string_view value(subkey.data() + subkey.size(), e.value_len);
    DAXKV_RETURN_IF_ERROR(AppendEntry(compaction_head_, e.type, subkey, value,
                                      e.expire_at_ms, e.seq, true, &placed,
                                      e.reserved));
    relocated_bytes_ += format::RecordSize(subkey.size(), value.size());
    // A copy that failed to persist must not become the indexed one.
    DAXKV_RETURN_IF_ERROR(CheckPersisted("compaction"));
    if (placed.span) ReleaseSpan(placed.loc);
    if (!put) return OkStatus();
    {
      WriteLock w(c->mu);
      c->Relocate(src, subkey, loc, placed.loc, hint);
    }
    segs_[SegOf(loc)].live.fetch_sub(format::IndexedEntryBytes(e),
                                     std::memory_order_relaxed);
    segs_[SegOf(placed.loc)].live.fetch_add(
        format::IndexedEntryBytes(format::LoadEntry(base_ + placed.loc)),
        std::memory_order_relaxed);
    NoteDead(dead_hash);  // the copy left behind until the victim is freed
    return OkStatus();
  }
}

void DBImpl::AdoptRelocatedElem(uint64_t loc, const format::EntryHeader& e) {
  if (e.type == format::kElemTombstone) {
    if (resume_victim_ >= 0) relocated_tombs_.emplace_back(e.seq, loc);
    return;
  }
  Collection* c = colls_->Find(format::ElemId(e));
  if (c == nullptr) return;
  const PoolSource src(base_, hash_seed_);
  const std::string_view subkey(base_ + loc + format::kEntryHeaderSize,
                                e.key_len);
  uint64_t cur;
  {
    WriteLock l(c->mu);
    cur = c->Locate(src, subkey);
    // Indexed elsewhere with the same seq: the original of this copy.
    if (cur == 0 || cur == loc || src.Seq(cur) != e.seq) return;
    c->Relocate(src, subkey, cur, loc);
  }
  segs_[SegOf(cur)].live.fetch_sub(
      format::IndexedEntryBytes(format::LoadEntry(base_ + cur)),
      std::memory_order_relaxed);
  segs_[SegOf(loc)].live.fetch_add(format::IndexedEntryBytes(e),
                                   std::memory_order_relaxed);
}

Status DBImpl::DropMismatchedElements(const PoolScan& scan) {
  for (uint64_t loc : scan.mismatched_elements) {
    const format::EntryHeader e = format::LoadEntry(base_ + loc);
    const std::string_view subkey(base_ + loc + format::kEntryHeaderSize,
                                  e.key_len);
    Placed placed;
    // Durability: a sync element tombstone (seq above every entry)
    // shadows the element for good; recovery never indexed it.
    DAXKV_RETURN_IF_ERROR(AppendEntry(MyHead(), format::kElemTombstone, subkey,
                                      {}, e.expire_at_ms, ++last_seq_, true,
                                      &placed, e.reserved));
  }
  dropped_records_ += scan.mismatched_elements.size();
  return OkStatus();
}

}  // namespace daxkv::engine
