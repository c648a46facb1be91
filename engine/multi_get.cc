// DBImpl::MultiGet: Get for a batch of keys in three passes over the batch,
// so that the DRAM misses of its keys overlap instead of following one
// another (issue 17):
//   1. hash every key; prefetch its index slot, its shard's lock line and
//      its publish word;
//   2. under each shard's lock, take the key's candidate slot (the first on
//      its probe path with its position: no log byte read) and prefetch
//      that log entry's header, key and first value bytes;
//   3. Get itself (GetHashed: the same lock, publish-word wait and checks),
//      now on cached lines, and the copy.
// Passes 1-2 only prefetch: a stale prefetch (the key was rewritten or its
// segment compacted in between) costs a miss, never a wrong answer, and a
// prefetch never faults. So each key's result is Get's, read at a moment
// no transaction publishes the key; the clock is read once for the batch.
#include <algorithm>
#include <cstdint>

#include "engine/db_impl.h"

namespace daxkv::engine {

void DBImpl::MultiGet(std::span<const std::string_view> keys,
                      std::span<std::string> values, std::span<Status> statuses,
                      std::span<ReadInfo> infos, size_t max_value_bytes) const {
  int64_t now_ms = -1;  // read once, and only if a key has an expiry
  for (size_t off = 0; off < keys.size(); off += kMultiGetChunk) {
    const size_t n = std::min(kMultiGetChunk, keys.size() - off);
    MultiGetChunk(
        keys.subspan(off, n), values.data() + off, statuses.data() + off,
        infos.empty() ? nullptr : infos.data() + off, &now_ms, max_value_bytes);
  }
}

void DBImpl::PrefetchEntry(const Index::Shard& s, const KeyHash& kh,
                           std::string_view key) const {
  const uint64_t loc = index_->Candidate(s, kh);
  if (loc == 0) return;
  // The header, the key (compared first) and up to 128 value bytes, at
  // most 4 lines.
  constexpr uintptr_t kLine = 64;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(base_ + loc);
  const uintptr_t end =
      std::min(begin + format::kEntryHeaderSize + key.size() + 128,
               (begin & ~(kLine - 1)) + 4 * kLine);
  for (uintptr_t line = begin & ~(kLine - 1); line < end; line += kLine) {
    __builtin_prefetch(reinterpret_cast<const void*>(line));
  }
}

void DBImpl::MultiGetChunk(std::span<const std::string_view> keys,
                           std::string* values, Status* statuses,
                           ReadInfo* infos, int64_t* now_ms,
                           size_t max_value) const {
  KeyHash hashes[kMultiGetChunk];
  const size_t n = keys.size();
  for (size_t i = 0; i < n; ++i) {
    hashes[i] = KeyHash(keys[i]);
    index_->PrefetchSlot(hashes[i]);
    __builtin_prefetch(&index_->shard(hashes[i]), /*rw=*/1);  // its lock
    words_.Prefetch(PublishWords::Slot(hashes[i]));
  }
  for (size_t i = 0; i < n; ++i) {
    const Index::Shard& s = index_->shard(hashes[i]);
    ReadLock l(s.mu);
    PrefetchEntry(s, hashes[i], keys[i]);
  }
  for (size_t i = 0; i < n; ++i) {
    statuses[i] =
        GetHashed(hashes[i], keys[i], &values[i],
                  infos == nullptr ? nullptr : &infos[i], now_ms, max_value);
  }
}

}  // namespace daxkv::engine
