// SystemTable: the DRAM directory of the hidden system namespace
// (docs/format.md, "System entries"): per system key, where its newest
// entry (a put or a tombstone, flagged format::kFlagSystem) sits in the
// pool. System entries are never in the key index, so nothing that walks
// or counts keys (Scan, Count, Flush's voiding) sees them.
//
// Tombstones stay in the table (and on the medium: compaction copies the
// current one forward) so that an older put of the key can never come
// back; the system namespace holds a handful of keys, so this costs
// nothing that grows with the data.
//
// Thread-safety: every method may be called from any thread (one mutex).
#ifndef DAXKV_ENGINE_SYSTEM_TABLE_H_
#define DAXKV_ENGINE_SYSTEM_TABLE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "base/mutex.h"

namespace daxkv::engine {

class SystemTable {
 public:
  struct Entry {
    uint64_t loc = 0;  // pool offset of the entry's EntryHeader
    uint64_t seq = 0;
    bool tombstone = false;
  };

  // Recovery (any scan worker) and writers: `key`'s entry at `loc` with
  // `seq`, kept when newer than the one held (equal seq: a compaction
  // copy of the same entry; the one held stays). Returns the entry it
  // replaced (loc 0: none, or `loc` was not newer and *taken is false).
  Entry Offer(std::string_view key, const Entry& e, bool* taken) EXCLUDES(mu_);
  // Compaction moved `key`'s entry from `from` to `to`: true when `from`
  // was still the current entry (and now `to` is).
  bool Relocate(std::string_view key, uint64_t from, uint64_t to) EXCLUDES(mu_);
  bool IsCurrent(std::string_view key, uint64_t loc) const EXCLUDES(mu_);
  // Visits every current entry, tombstones included, in key order, under
  // the table's lock (fn must not call back into the table).
  void ForEach(
      const std::function<void(const std::string& key, const Entry& e)>& fn)
      const EXCLUDES(mu_);
  size_t size() const EXCLUDES(mu_);
  void Clear() EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_ GUARDED_BY(mu_);
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_SYSTEM_TABLE_H_
