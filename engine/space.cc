// DBImpl: compaction, Flush and Grow (the background thread that drives
// compaction: background.cc).
//
// Tombstones and compaction: a tombstone must stay on the medium while any
// older put of its key can still be found by recovery. dead_ counts, per
// key-hash bucket, the put entries on the medium that are no longer the
// indexed one (overwritten, deleted or relocated); compaction drops a
// tombstone only when its key has a newer indexed entry or its bucket
// counts no dead puts. Counts are decremented only after the segment holding
// those puts is durably freed, so the test is conservative at every instant.
#include <algorithm>
#include <cstring>

#include "engine/db_impl.h"

namespace daxkv::engine {

uint64_t DBImpl::FreeSegments() const {
  MutexLock l(&alloc_mu_);
  return free_list_.size();
}

int64_t DBImpl::PickVictim(double max_live_ratio) const {
  // A victim a crash interrupted goes first, whatever its ratio: until it
  // is freed the compaction log may hold the only room (compaction_resume.cc).
  if (resume_.victim() >= 0) return resume_.victim();
  int64_t best = -1;
  double best_ratio = max_live_ratio;
  const uint64_t n = segment_count_.load();
  for (uint64_t i = 0; i < n; ++i) {
    const SegMeta& m = segs_[i];
    if (m.use.load() != SegUse::kSealed) continue;
    // A span is never copied (its record is larger than a segment): it is
    // a victim only once its record is dead, and is then freed whole.
    if (m.span.load() > 1 && m.live.load() != 0) continue;
    const double ratio = m.KeptRatio();
    if (ratio <= best_ratio) {
      best_ratio = ratio;
      best = static_cast<int64_t>(i);
    }
  }
  return best;
}

Status DBImpl::CompactSegment(int64_t seg) {
  // Freeing needs every copy made durable first, which a latched error
  // says the engine can no longer promise.
  DAXKV_RETURN_IF_ERROR(health_.CheckWritable());
  SegMeta& m = segs_[seg];
  if (m.use.load() != SegUse::kSealed) {
    return FailedPreconditionError("segment " + std::to_string(seg) +
                                   " is not sealed");
  }
  // Never copy an entry the scan would have refused under a new checksum.
  DAXKV_RETURN_IF_ERROR(ScrubSegment(seg));
  // Every record in the victim was appended before it was sealed: those of
  // the stripes idle now are published (KeyCompactor then tells a dead
  // put of one without its stripe).
  const StripeBits busy = PassIdleStripes();
  const char* sp = SegBase(seg);
  const uint64_t seg_off = static_cast<uint64_t>(sp - base_);
  const uint32_t tail = m.tail.load();
  compacting_epoch_.store(m.epoch);
  elems_.Reset();  // a run an error cut short (its victim stays)
  keys_.Begin(sp, tail, busy);
  // Dead-put counts to drop once the victim is durably free: its puts
  // (keys' and elements').
  std::vector<uint64_t> forget;
  Status status;
  for (uint32_t off = format::kSegmentHeaderSize; off < tail;) {
    keys_.Advance();
    const char* rec = sp + off;
    format::EntryHeader re = format::LoadEntry(rec + 8);
    format::ForEachEntry(rec, [&](uint64_t o, const format::EntryHeader& e) {
      compaction_mu_.AssertHeld();  // held by this function's caller
      if (format::IsSystemEntry(e)) {  // never voided by a flush
        status = RelocateSystem(seg_off + off + o, e);
        return status.ok();
      }
      if (e.seq <= flush_seq_.load()) return true;
      if (format::IsElemEntry(e.type)) {
        status = elems_.Queue(seg_off + off + o, e, &forget);
        return status.ok();
      }
      const KeyHash kh(format::EntryKey(rec + o));
      status = keys_.Relocate(seg_off + off + o, e, kh, forget);
      if (format::HoldsValue(e.type)) forget.push_back(kh.low());
      return status.ok();
    });
    if (!status.ok()) break;
    off += static_cast<uint32_t>(format::RecordSize(re.key_len, re.value_len));
  }
  // Also after an error: the copies made are persisted, and indexed unless
  // their persist failed.
  const Status indexed = keys_.Finish();
  DAXKV_RETURN_IF_ERROR(status);
  DAXKV_RETURN_IF_ERROR(indexed);
  DAXKV_RETURN_IF_ERROR(elems_.Relocate(&forget));
  // Durability: every live entry was re-appended and persisted above (an
  // element run persists its own copies). The entries left behind are
  // superseded by a newer record of their key (or were void), but that
  // record may be an unsynced append, visible at once and durable only at
  // the next Sync(): freeing this segment first would let a crash lose the
  // acknowledged entry here together with its unsynced successor (or undo
  // a durable delete). So every record visible now, which includes every
  // record that superseded an entry dropped above, is made durable before
  // the free. One group commit per victim.
  DAXKV_RETURN_IF_ERROR(PersistUserHeads());
  FreeSegment(seg);
  resume_.Finish(seg);
  dead_.ForgetAll(forget);
  compactions_++;
  return OkStatus();
}

bool DBImpl::CompactForSpace(bool for_delete) {
  MutexLock l(&compaction_mu_);
  // One compaction can gain nothing: when the compaction head has no
  // segment (after an open, e.g. a recovery that found every segment in
  // use) its first allocation takes the segment the victim gives back. So
  // compact until a user write fits, not once: callers retry only a few
  // times. reserve_ + 2 rounds refill the reserve from zero free segments,
  // counting that first allocation; the bound keeps a truly full pool's
  // NoSpace cheap. Returns whether the caller should retry: room was made,
  // or at least one segment was compacted (a delete needs less room than a
  // put). No victim at all means the pool really is full (NoSpace).
  // A span that found no room asks for its segment count on top of the
  // reserve; freeing that many does not promise a contiguous run, so it
  // then has one made (defrag.cc).
  // A delete needs only the tombstone log's segment, and takes any victim
  // with dead bytes (the puts it deleted are): a delete must not fail
  // while space can be won.
  const uint64_t span = for_delete ? 0 : span_wanted_.exchange(0);
  const uint64_t want = for_delete ? kCompactionReserve + 1
                                   : reserve_ + std::max<uint64_t>(1, span);
  const uint64_t limit = want + 1;
  const double max_live_ratio = for_delete ? 0.999 : 0.97;
  // Dead collections' bytes count as live until the freer has been
  // through them: finish that first, so victims are chosen right.
  RunFreer(~uint64_t{0});
  bool compacted = false;
  bool full = false;
  for (uint64_t i = 0; i < limit && FreeSegments() < want; ++i) {
    int64_t victim = PickVictim(max_live_ratio);
    if (victim < 0) {
      full = true;
      break;
    }
    Status s = CompactSegment(victim);
    health_.NoteBackgroundFailure(s, "compaction");
    if (!s.ok()) {
      full = true;
      break;
    }
    compacted = true;
  }
  if (span > 1 && LongestFreeRun() < span) {
    return MakeContiguousRun(span) || compacted;
  }
  return full ? compacted : true;
}

uint64_t DBImpl::TEST_Scrub(size_t max_segments) {
  ScrubSome(max_segments);
  return scrub_.pending();
}

StatusOr<uint64_t> DBImpl::TEST_Compact(size_t max_segments) {
  uint64_t freed = 0;
  MutexLock l(&compaction_mu_);
  RunFreer(~uint64_t{0});  // as CompactForSpace
  while (freed < max_segments) {
    int64_t victim = PickVictim(0.97);
    if (victim < 0) break;
    Status s = CompactSegment(victim);
    health_.NoteBackgroundFailure(s, "compaction");
    DAXKV_RETURN_IF_ERROR(s);
    ++freed;
  }
  return freed;
}

Status DBImpl::Flush() {
  // Every writer is out, not only appends: a writer holds its key's stripe
  // from its read (Update, SetExpiry, PutIf, Delete look the key up) to its
  // Publish(). Holding the heads alone let an INCR that read before the
  // flush write the old value back after it, and let SetExpiry copy value
  // bytes out of a segment the flush had freed. So the flush takes every
  // stripe, in ascending order as batches do (lock order in db_impl.h):
  // 4096 uncontended locks, cheap next to the flush itself.
  DAXKV_RETURN_IF_ERROR(health_.CheckWritable());
  MutexLock sw(&sys_write_mu_);  // every durable system entry is in sys_
  MutexLock cl(&compaction_mu_);
  StripeSet stripes(this);
  stripes.AddAll();
  HeadSet heads(this);
  flush_seq_ = last_seq_.load();
  {
    MutexLock l(&sb_mu_);
    sb_.flush_seq = flush_seq_;
    // Durability: once the superblock with flush_seq is durable, every
    // record written so far is void; freeing the segments below is then
    // only space reclamation (a crash midway leaves void records that
    // compaction frees). Were that persist to fail, freeing them would lose
    // what the flush did not durably void: nothing is freed and the error
    // is latched.
    DAXKV_RETURN_IF_ERROR(WriteSuperBlockLocked());
  }
  DAXKV_RETURN_IF_ERROR(CheckPersisted("a flush"));
  for (uint32_t i = 0; i < kShardCount; ++i) {
    Index::Shard& s = index_->shard_at(i);
    WriteLock l(s.mu);
    // Every key the flush deletes gets a new WATCH version.
    index_->ForEach(s, [&](uint64_t loc, bool) {
      touch_.Touch(TouchTable::Slot(KeyHash(format::EntryKey(base_ + loc))),
                   flush_seq_.load());
    });
    index_->Clear(s);
  }
  // The collections die with the keys (their DRAM goes to the freer; no
  // live bytes to subtract: every segment is freed below).
  for (Collection* c : colls_->TakeAll()) EnqueueDead(c, false);
  for (auto& n : coll_counts_) n = 0;
  elements_ = 0;
  // The system namespace survives: the segments holding its current
  // entries are kept (sealed; their void records are compacted away like
  // any dead bytes) and every other one is freed.
  const std::map<uint64_t, uint64_t> system = SystemSegments();
  auto keeps = [&](int64_t seg) {
    return seg >= 0 && system.count(static_cast<uint64_t>(seg)) != 0;
  };
  for (auto& h : heads_) {
    h->mu.AssertHeld();  // HeadSet holds every head
    if (keeps(h->seg)) SealHead(*h);
    h->seg = -1;
  }
  compaction_head_.mu.AssertHeld();
  if (keeps(compaction_head_.seg)) SealHead(compaction_head_);
  compaction_head_.seg = -1;
  resume_.Finish(resume_.victim());
  const uint64_t n = segment_count_.load();
  for (uint64_t i = 0; i < n; ++i) {
    SegUse use = segs_[i].use.load();
    if (use != SegUse::kActive && use != SegUse::kSealed) continue;
    auto kept = system.find(i);
    if (kept == system.end()) {
      FreeSegment(i);
      continue;
    }
    segs_[i].live = kept->second;
    segs_[i].tomb = 0;  // the tombstones there are void
  }
  dead_.Clear();
  return OkStatus();
}

Status DBImpl::Grow(size_t new_size) {
  DAXKV_RETURN_IF_ERROR(health_.CheckWritable());
  MutexLock cl(&compaction_mu_);
  HeadSet heads(this);
  if (new_size <= region_->size()) {
    return InvalidArgumentError("Grow(" + std::to_string(new_size) +
                                "): pool is already " +
                                std::to_string(region_->size()) + " bytes");
  }
  uint64_t usable = std::min<uint64_t>(new_size, format::kMaxPoolBytes);
  uint64_t count = (usable - format::kDataOffset) / segment_size_;
  if (count > seg_capacity_) {
    return NotSupportedError("Grow beyond " + std::to_string(seg_capacity_) +
                             " segments needs a reopen");
  }
  DAXKV_RETURN_IF_ERROR(region_->Grow(new_size));
  const uint64_t old = segment_count_.load();
  {
    MutexLock l(&alloc_mu_);
    for (uint64_t i = old; i < count; ++i) {
      segs_[i].use = SegUse::kFree;
      free_list_.insert(free_list_.begin(), static_cast<int64_t>(i));
    }
  }
  segment_count_ = count;
  {
    MutexLock l(&sb_mu_);
    sb_.segment_count = count;
    // Durability: the new segments exist (zeroed) before the superblock
    // that counts them; a crash in between leaves the old, consistent
    // geometry.
    DAXKV_RETURN_IF_ERROR(WriteSuperBlockLocked());
  }
  return CheckPersisted("a pool growth");
}

Stats DBImpl::GetStats() const {
  Stats st;
  st.keys = Count();
  for (uint32_t i = 0; i < kShardCount; ++i) {
    const Index::Shard& s = index_->shard_at(i);
    ReadLock l(s.mu);
    st.expiring_keys += s.expiring.size();
  }
  st.pool_bytes = region_->size();
  st.segments = segment_count_.load();
  st.free_segments = FreeSegments();
  for (uint64_t i = 0; i < st.segments; ++i) {
    const SegMeta& m = segs_[i];
    if (m.use.load() == SegUse::kFree) continue;
    st.used_bytes += m.tail.load();
    st.live_bytes += m.live.load();
  }
  st.persists = misc_persists_.load() + compaction_head_.persists.load();
  for (auto& h : heads_) st.persists += h->persists.load();
  st.head_moves = head_moves_.load();
  st.compactions = compactions_.load();
  st.prefaulted_segments = prefaulted_.load();
  st.relocated_bytes = relocated_bytes_.load();
  st.expired_reclaimed = expired_reclaimed_.load();
  st.recovery_ms = recovery_ms_;
  st.recovered_records = recovered_records_;
  st.dropped_records = dropped_records_;
  st.clean_shutdown = clean_shutdown_;
  st.index_recovery = index_recovery_;
  st.scrub_pending_segments = scrub_.pending();
  st.scrub_verified_records = scrub_.records();
  st.scrub_damaged_records = health_.DamagedRecords();
  st.index_bytes = index_->MemoryBytes();
  st.background_failures = health_.background_failures();
  st.hashes = coll_counts_[static_cast<int>(KeyType::kHash)].load();
  st.lists = coll_counts_[static_cast<int>(KeyType::kList)].load();
  st.sets = coll_counts_[static_cast<int>(KeyType::kSet)].load();
  st.zsets = coll_counts_[static_cast<int>(KeyType::kZset)].load();
  st.streams = coll_counts_[static_cast<int>(KeyType::kStream)].load();
  st.elements = static_cast<uint64_t>(std::max<int64_t>(0, elements_.load()));
  st.collection_bytes = colls_->MemoryBytes();
  sys_.ForEach([&](const std::string&, const SystemTable::Entry& e) {
    if (!e.tombstone) ++st.system_keys;
  });
  colls_->ForEach([&](Collection* c) {
    ReadLock l(c->mu);
    st.collection_bytes += c->MemoryBytes();
  });
  st.freeing_collections = dead_colls_.count();
  if (Status e = BackgroundError(); !e.ok()) st.background_error = e.ToString();
  return st;
}

}  // namespace daxkv::engine
