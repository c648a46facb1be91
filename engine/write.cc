// DBImpl: reads and single-key writes.
#include <algorithm>
#include <cstring>

#include "engine/db_impl.h"
#include "engine/txn.h"

namespace daxkv::engine {

namespace {

bool Expired(const format::EntryHeader& e, int64_t now) {
  return e.expire_at_ms != 0 && e.expire_at_ms <= now;
}

}  // namespace

Status DBImpl::CheckSizes(std::string_view key, std::string_view value) const {
  // The empty key is a key like any other (Redis accepts "" everywhere).
  if (key.size() > kMaxKeySize) {
    return InvalidArgumentError("key of " + std::to_string(key.size()) +
                                " bytes exceeds the maximum of " +
                                std::to_string(kMaxKeySize));
  }
  if (value.size() > kMaxValueSize) {
    return InvalidArgumentError("value of " + std::to_string(value.size()) +
                                " bytes exceeds the maximum of " +
                                std::to_string(kMaxValueSize));
  }
  return OkStatus();
}

DBImpl::Current DBImpl::Lookup(const KeyHash& kh, std::string_view key) const {
  Current cur;
  const Index::Shard& s = index_->shard(kh);
  ReadLock l(s.mu);
  IndexHit hit = index_->Find(s, kh, key);
  if (hit.loc == 0) return cur;
  cur.loc = hit.loc;
  cur.entry = format::LoadEntry(base_ + hit.loc);
  cur.live = !Expired(cur.entry, cur.entry.expire_at_ms ? NowMs() : 0);
  return cur;
}

void DBImpl::Publish(const KeyHash& kh, std::string_view key, uint64_t loc,
                     uint64_t seq, bool tombstone) {
  Index::Shard& s = index_->shard(kh);
  IndexHit prev;
  uint64_t prev_bytes = 0;
  LinkedBytes prev_link;
  uint64_t prev_meta = 0;  // the collection id the key held
  {
    WriteLock l(s.mu);
    // Flush() excludes writers (it holds every stripe), so a fresh entry is
    // never voided here; kept as a guard (a void entry must not be indexed).
    if (seq <= flush_seq_.load()) return;
    prev = tombstone ? index_->Erase(s, kh, key)
                     : index_->Upsert(s, kh, key, loc, false);
    if (prev.loc != 0) {
      const format::EntryHeader pe = format::LoadEntry(base_ + prev.loc);
      prev_bytes = format::IndexedEntryBytes(pe);
      prev_link = LinkedBytesOf(prev.loc);
      if (pe.type == format::kMeta) {
        prev_meta = format::LoadMeta(base_ + prev.loc).id;
      }
    }
  }
  if (prev.loc != 0) {
    segs_[SegOf(prev.loc)].live.fetch_sub(prev_bytes,
                                          std::memory_order_relaxed);
    AddLinkedLive(prev_link, -1);
    NoteDeadPut(kh);
  }
  if (!tombstone) {
    const format::EntryHeader e = format::LoadEntry(base_ + loc);
    segs_[SegOf(loc)].live.fetch_add(format::IndexedEntryBytes(e),
                                     std::memory_order_relaxed);
    AddLinkedLive(LinkedBytesOf(loc), +1);
    if (e.type == format::kMeta) [[unlikely]] {
      AdoptMeta(format::LoadMeta(base_ + loc), loc);
    }
  }
  // Then the collection the key held dies (unless the new entry, or a
  // renamed key, holds it now). Deletes and deaths change a key's WATCH
  // version without a newer entry of it: its touch word says so.
  if (prev_meta != 0) [[unlikely]] {
    KillCollection(prev_meta, prev.loc);
  }
  if (tombstone || prev_meta != 0) touch_.Touch(TouchTable::Slot(kh), seq);
}

Status DBImpl::WriteEntry(const KeyHash& kh, uint8_t type, std::string_view key,
                          std::string_view value, int64_t expire_at_ms,
                          bool sync, const Current& cur) {
  if (type == format::kTombstone && cur.loc == 0) {
    // Durability: a tombstone for a key with no entry would shadow nothing
    // durable here, but the absence may be another writer's unsynced
    // delete (visible before it is durable): a synced delete must not
    // return before that absence is durable, and nothing of ours says which
    // head holds it, so every head's unsynced bytes are persisted. A crash
    // before that completes: the delete had not returned.
    return sync ? PersistUserHeads() : OkStatus();
  }
  Placed placed;
  uint64_t seq = ++last_seq_;
  Status appended =
      AppendEntry(MyHead(), type, key, value, expire_at_ms, seq, sync, &placed);
  if (appended.code() == StatusCode::kNoSpace && type == format::kTombstone) {
    // The pool is full for this head: the shared tombstone log may still
    // take a segment (KeepFree()), so a delete goes through.
    appended = AppendEntry(TombHead(), type, key, value, expire_at_ms, seq,
                           sync, &placed);
  }
  if (!appended.ok()) return appended;
  // A write whose persist (or any earlier one) failed is neither published
  // nor acknowledged. An unsynced write persisted nothing: the Sync() that
  // acknowledges it checks.
  Status persisted;
  if (sync || placed.span) persisted = CheckPersisted("a write");
  if (persisted.ok()) {
    Publish(kh, key, placed.loc, seq, type == format::kTombstone);
  }
  if (placed.span) ReleaseSpan(placed.loc);
  return persisted;
}

// Runs fn(kh, current state) under the key's stripe, retrying after
// compaction when the pool is full. `lookup` false skips reading the
// current state (plain upserts learn the old entry in Publish()).
template <typename Fn>
Status DBImpl::KeyedWrite(std::string_view key, bool lookup, Fn&& fn,
                          bool is_delete) {
  DAXKV_RETURN_IF_ERROR(health_.CheckWritable());
  DAXKV_RETURN_IF_ERROR(CheckSizes(key, {}));
  KeyHash kh(key);
  // Publish() reads the key's slot and counts the old entry's death after
  // the record's persist: start those DRAM misses now so that they overlap
  // the persist. (Prefetching the old entry too, via a shared-locked peek
  // at the slot, measured slower: the peek waits for the slot before the
  // persist starts.)
  PrefetchHashed(kh, /*write=*/true);
  return RetryOnNoSpace(
      [&]() -> Status {
        StripeLock l(this, kh);
        return fn(kh, lookup ? Lookup(kh, key) : Current());
      },
      is_delete);
}

Status DBImpl::Put(std::string_view key, std::string_view value,
                   int64_t expire_at_ms, const WriteOptions& opts) {
  return PutIf(PutMode::kUpsert, key, value, expire_at_ms, opts);
}

Status DBImpl::PutIf(PutMode mode, std::string_view key, std::string_view value,
                     int64_t expire_at_ms, const WriteOptions& opts) {
  DAXKV_RETURN_IF_ERROR(CheckSizes(key, value));
  return KeyedWrite(key, mode != PutMode::kUpsert,
                    [&](const KeyHash& kh, const Current& cur) -> Status {
                      AssertStripeHeld(kh);  // KeyedWrite holds it
                      if (mode == PutMode::kIfAbsent && cur.live) {
                        return AlreadyExistsError("key exists");
                      }
                      if (mode == PutMode::kIfPresent && !cur.live) {
                        return NotFoundError("key not found");
                      }
                      return WriteEntry(kh, format::kPut, key, value,
                                        expire_at_ms, opts.sync, cur);
                    });
}

StatusOr<ReadResult> DBImpl::Get(std::string_view key) const {
  ReadResult r;
  ReadInfo info;
  DAXKV_RETURN_IF_ERROR(Get(key, &r.value, &info));
  r.expire_at_ms = info.expire_at_ms;
  r.version = info.version;
  return r;
}

Status DBImpl::Get(std::string_view key, std::string* value,
                   ReadInfo* info) const {
  KeyHash kh(key);
  index_->PrefetchSlot(kh);  // overlaps the shard lock's acquisition
  int64_t now_ms = -1;
  return GetHashed(kh, key, value, info, &now_ms);
}

void DBImpl::PrefetchKey(std::string_view key, bool write) const {
  PrefetchHashed(KeyHash(key), write);
}

void DBImpl::PrefetchEntry(std::string_view key) const {
  const KeyHash kh(key);
  const Index::Shard& s = index_->shard(kh);
  ReadLock l(s.mu);
  PrefetchEntry(s, kh, key);
}

void DBImpl::PrefetchHashed(const KeyHash& kh, bool write) const {
  index_->PrefetchSlot(kh);
  words_.Prefetch(PublishWords::Slot(kh));
  touch_.Prefetch(TouchTable::Slot(kh));
  // Publish() counts the old entry's death there: a locked add that would
  // wait for the line (most of Publish()'s time in an EVALSHA profile).
  if (write) dead_.Prefetch(kh.low());
}

Status DBImpl::GetHashed(const KeyHash& kh, std::string_view key,
                         std::string* value, ReadInfo* info, int64_t* now_ms,
                         size_t max_value) const {
  const size_t word = PublishWords::Slot(kh);
  const Index::Shard& s = index_->shard(kh);
  for (;;) {
    {
      ReadLock l(s.mu);
      // A transaction that wrote the key publishes all its keys at commit,
      // one after the other: reads wait for it to finish, so that reads on
      // one thread see it entirely or not at all (docs/collections.md,
      // "Publish words").
      if (!PublishWords::Publishing(words_.Load(word))) [[likely]] {
        return GetLocked(s, kh, key, value, info, now_ms, max_value);
      }
    }
    words_.WaitQuiet(word);
  }
}

Status DBImpl::GetLocked(const Index::Shard& s, const KeyHash& kh,
                         std::string_view key, std::string* value,
                         ReadInfo* info, int64_t* now_ms,
                         size_t max_value) const {
  IndexHit hit = index_->Find(s, kh, key);
  if (hit.loc == 0) return NotFoundError("key not found");
  DAXKV_RETURN_IF_ERROR(health_.CheckNotDamaged(hit.loc));
  const char* p = base_ + hit.loc;
  format::EntryHeader e = format::LoadEntry(p);
  if (e.expire_at_ms != 0) {
    if (*now_ms < 0) *now_ms = NowMs();
    if (e.expire_at_ms <= *now_ms) return NotFoundError("key expired");
  }
  if (e.type == format::kMeta) [[unlikely]] {
    return WrongTypeError();
  }
  if (e.type == format::kLink) {
    std::string_view v = format::EntryValue(base_, hit.loc);
    DAXKV_RETURN_IF_ERROR(
        health_.CheckNotDamaged(static_cast<uint64_t>(v.data() - base_)));
    if (v.size() > max_value) return ValueOverBatchLimit();
    value->assign(v.data(), v.size());
  } else {
    if (e.value_len > max_value) return ValueOverBatchLimit();
    value->assign(p + format::kEntryHeaderSize + e.key_len, e.value_len);
  }
  if (info != nullptr) *info = {e.expire_at_ms, e.seq};
  return OkStatus();
}

bool DBImpl::Exists(std::string_view key) const {
  KeyHash kh(key);
  return Lookup(kh, key).live;
}

uint64_t DBImpl::Count() const {
  uint64_t n = 0;
  int64_t now = -1;
  for (uint32_t i = 0; i < kShardCount; ++i) {
    const Index::Shard& s = index_->shard_at(i);
    ReadLock l(s.mu);
    n += s.used;
    if (s.expiring.empty()) continue;
    if (now < 0) now = NowMs();
    for (auto it = s.expiring.begin();
         it != s.expiring.end() && it->first <= now; ++it) {
      --n;
    }
  }
  return n;
}

Status DBImpl::Delete(std::string_view key, bool* existed,
                      const WriteOptions& opts) {
  if (existed) *existed = false;
  return KeyedWrite(
      key, true,
      [&](const KeyHash& kh, const Current& cur) {
        AssertStripeHeld(kh);  // KeyedWrite holds it
        if (existed) *existed = cur.live;
        return WriteEntry(kh, format::kTombstone, key, {}, 0, opts.sync, cur);
      },
      /*is_delete=*/true);
}

Status DBImpl::Update(std::string_view key, const UpdateFn& fn,
                      const WriteOptions& opts) {
  return KeyedWrite(key, true, [&](const KeyHash& kh, const Current& cur) {
    AssertStripeHeld(kh);  // KeyedWrite holds it
    std::string old;
    UpdateInput in;
    if (cur.live && cur.entry.type == format::kMeta) return WrongTypeError();
    if (cur.live) {
      std::string_view v = format::EntryValue(base_, cur.loc);
      old.assign(v.data(), v.size());
      in.old = &old;
      in.old_expire_at_ms = cur.entry.expire_at_ms;
    }
    UpdateOutput out;
    DAXKV_RETURN_IF_ERROR(fn(in, &out));
    if (!out.value) {
      return WriteEntry(kh, format::kTombstone, key, {}, 0, opts.sync, cur);
    }
    DAXKV_RETURN_IF_ERROR(CheckSizes(key, *out.value));
    return WriteEntry(kh, format::kPut, key, *out.value, out.expire_at_ms,
                      opts.sync, cur);
  });
}

Status DBImpl::SetExpiry(std::string_view key, int64_t expire_at_ms,
                         const WriteOptions& opts) {
  return KeyedWrite(key, true, [&](const KeyHash& kh, const Current& cur) {
    AssertStripeHeld(kh);  // KeyedWrite holds it
    if (!cur.live) return NotFoundError("key not found");
    // The stripe keeps the old entry in place (compaction takes it too).
    // A link is re-appended as a link (the value it names stays put).
    std::string_view value(
        base_ + cur.loc + format::kEntryHeaderSize + cur.entry.key_len,
        cur.entry.value_len);
    return WriteEntry(kh, cur.entry.type, key, value, expire_at_ms, opts.sync,
                      cur);
  });
}

StatusOr<DB::ScanPage> DBImpl::Scan(uint64_t cursor, size_t count) const {
  return ScanTyped(cursor, count, KeyType::kNone);
}

StatusOr<DB::ScanPage> DBImpl::ScanTyped(uint64_t cursor, size_t count,
                                         KeyType type) const {
  uint64_t shard = cursor >> kPosBits;
  uint32_t lo = static_cast<uint32_t>(cursor & ((1u << kPosBits) - 1));
  if (shard >= kShardCount) {
    return InvalidArgumentError("scan cursor " + std::to_string(cursor) +
                                " is out of range");
  }
  count = std::max<size_t>(count, 1);
  ScanPage page;
  const int64_t now = NowMs();
  while (shard < kShardCount && page.keys.size() < count) {
    const Index::Shard& s = index_->shard_at(static_cast<uint32_t>(shard));
    uint32_t hi;
    {
      ReadLock l(s.mu);
      hi =
          index_->ScanRange(s, lo, count - page.keys.size(), [&](uint64_t loc) {
            const char* p = base_ + loc;
            format::EntryHeader e = format::LoadEntry(p);
            if (Expired(e, now)) return;
            if (type != KeyType::kNone && TypeAt(loc) != type) return;
            page.keys.emplace_back(p + format::kEntryHeaderSize, e.key_len);
          });
    }
    if (hi >= (1u << kPosBits)) {
      ++shard;
      lo = 0;
    } else {
      lo = hi;
    }
  }
  page.next_cursor = shard >= kShardCount ? 0 : (shard << kPosBits | lo);
  return page;
}

}  // namespace daxkv::engine
