// DBImpl: the hidden system namespace (docs/format.md, "System entries").
//
// A system entry is a batch sub-entry flagged format::kFlagSystem. It lives
// in the ordinary logs, so durability, crash atomicity and compaction are
// the batch record's; what differs is where it is indexed (SystemTable, not
// the key index, so no key walk or count sees it) and that flush_seq does
// not void it: Flush() keeps the segments that hold current system entries
// (sealed) instead of freeing them, and compaction copies those entries
// forward like live puts.
#include <cstring>
#include <unordered_map>

#include "engine/db_impl.h"

namespace daxkv::engine {

void AppendSystemSubEntry(std::string* image, uint8_t type, uint64_t seq,
                          std::string_view key, std::string_view value) {
  const size_t at = image->size();
  format::AppendSubEntry(image, type, seq, key, value, 0);
  (*image)[at + 1] =
      static_cast<char>(format::kFlagSubEntry | format::kFlagSystem);
}

namespace {

uint64_t EntryBytesAt(const char* base, uint64_t loc) {
  return format::IndexedEntryBytes(format::LoadEntry(base + loc));
}

}  // namespace

Status DBImpl::WriteSystem(const WriteBatch& batch) {
  DAXKV_RETURN_IF_ERROR(health_.CheckWritable());
  if (!batch.preconditions().empty()) {
    return InvalidArgumentError("system writes take no preconditions");
  }
  const auto& ops = batch.ops();
  std::unordered_map<std::string_view, size_t> last;  // the last op wins
  for (size_t i = 0; i < ops.size(); ++i) {
    DAXKV_RETURN_IF_ERROR(CheckSizes(ops[i].key, ops[i].value));
    if (ops[i].expire_at_ms != 0) {
      return InvalidArgumentError("system entries do not expire");
    }
    last[ops[i].key] = i;
  }
  bool all_deletes = true;
  for (const auto& op : ops) {
    all_deletes = all_deletes && op.type == WriteBatch::OpType::kDelete;
  }
  MutexLock wl(&sys_write_mu_);
  return RetryOnNoSpace(
      [&]() -> Status {
        const uint64_t seq = ++last_seq_;
        std::string image(format::kRecordHeaderSize, '\0');
        std::vector<std::pair<size_t, uint64_t>> placed;  // (op, offset)
        for (size_t i = 0; i < ops.size(); ++i) {
          if (last[ops[i].key] != i) continue;
          const bool del = ops[i].type == WriteBatch::OpType::kDelete;
          placed.push_back({i, image.size()});
          AppendSystemSubEntry(&image, del ? format::kTombstone : format::kPut,
                               seq, ops[i].key, ops[i].value);
        }
        if (placed.empty()) return OkStatus();
        format::SetBatchHeader(&image, seq);
        uint64_t rec_off;
        // Durability: sync, one record under one CRC: after a crash the
        // whole batch is there or none of it (a torn tail).
        Status appended =
            AppendImage(MyHead(), &image, true, all_deletes, &rec_off);
        if (appended.code() == StatusCode::kNoSpace && all_deletes) {
          appended =
              AppendImage(TombHead(), &image, true, all_deletes, &rec_off);
        }
        DAXKV_RETURN_IF_ERROR(appended);
        Status persisted = CheckPersisted("a system write");
        if (persisted.ok()) {
          for (auto [i, at] : placed) {
            PublishSystem(ops[i].key, rec_off + at, seq,
                          ops[i].type == WriteBatch::OpType::kDelete);
          }
        }
        if (IsSpanRecord(image.size())) ReleaseSpan(rec_off);
        return persisted;
      },
      all_deletes);
}

void DBImpl::PublishSystem(std::string_view key, uint64_t loc, uint64_t seq,
                           bool tombstone) {
  bool taken = false;
  const SystemTable::Entry old = sys_.Offer(key, {loc, seq, tombstone}, &taken);
  if (!taken) return;
  // A current system tombstone counts as live too: compaction keeps it
  // (an older put of its key may still be on the medium).
  if (old.loc != 0) {
    segs_[SegOf(old.loc)].live.fetch_sub(EntryBytesAt(base_, old.loc),
                                         std::memory_order_relaxed);
  }
  segs_[SegOf(loc)].live.fetch_add(EntryBytesAt(base_, loc),
                                   std::memory_order_relaxed);
}

StatusOr<std::string> DBImpl::GetSystem(std::string_view key) const {
  std::optional<std::string> value;
  // The value is copied under the table's lock: compaction moves an entry
  // (SystemTable::Relocate) before it frees the old copy's segment, and
  // Flush() keeps every current one.
  sys_.ForEach([&](const std::string& k, const SystemTable::Entry& e) {
    if (k != key || e.tombstone) return;
    value.emplace(format::EntryValue(base_, e.loc));
  });
  if (!value) return NotFoundError("no system entry");
  return std::move(*value);
}

StatusOr<DB::SystemEntries> DBImpl::ListSystem(std::string_view prefix) const {
  SystemEntries out;
  sys_.ForEach([&](const std::string& k, const SystemTable::Entry& e) {
    if (e.tombstone || k.compare(0, prefix.size(), prefix) != 0) return;
    out.emplace_back(k, std::string(format::EntryValue(base_, e.loc)));
  });
  return out;
}

Status DBImpl::RelocateSystem(uint64_t loc, const format::EntryHeader& e) {
  const std::string_view key(base_ + loc + format::kEntryHeaderSize, e.key_len);
  if (!sys_.IsCurrent(key, loc)) return OkStatus();  // superseded
  const std::string_view value(key.data() + key.size(), e.value_len);
  std::string image(format::kRecordHeaderSize, '\0');
  AppendSystemSubEntry(&image, e.type, e.seq, key, value);
  format::SetBatchHeader(&image, e.seq);
  uint64_t rec_off;
  DAXKV_RETURN_IF_ERROR(AppendImage(compaction_head_, &image, true,
                                    e.type == format::kTombstone, &rec_off));
  relocated_bytes_ += image.size();
  // A copy that failed to persist must not become the current entry.
  DAXKV_RETURN_IF_ERROR(CheckPersisted("compaction"));
  const uint64_t to = rec_off + format::kRecordHeaderSize;
  // A system write that superseded the entry meanwhile left this copy dead.
  if (sys_.Relocate(key, loc, to)) {
    const uint64_t bytes = EntryBytesAt(base_, loc);
    segs_[SegOf(loc)].live.fetch_sub(bytes, std::memory_order_relaxed);
    segs_[SegOf(to)].live.fetch_add(bytes, std::memory_order_relaxed);
  }
  if (IsSpanRecord(image.size())) ReleaseSpan(rec_off);
  return OkStatus();
}

void DBImpl::AccountSystemLive() {
  for (const auto& [seg, bytes] : SystemSegments()) {
    segs_[seg].live.fetch_add(bytes, std::memory_order_relaxed);
  }
}

std::map<uint64_t, uint64_t> DBImpl::SystemSegments() const {
  std::map<uint64_t, uint64_t> segs;
  sys_.ForEach([&](const std::string&, const SystemTable::Entry& e) {
    segs[SegOf(e.loc)] += EntryBytesAt(base_, e.loc);
  });
  return segs;
}

}  // namespace daxkv::engine
