// ElemCompactor: compaction of a victim's element entries (docs/
// collections.md, "Tombstones and compaction"), a run of one collection's
// at a time. A victim holds a hot collection's elements back to back, and
// one stripe hold per run (not per element) keeps its writers from waking
// on every copy.
//
// An element put is relocated (same seq) when its collection is live and
// indexes it at this location; an element tombstone is kept while its
// collection is live, does not index its subkey, and the dead-put bucket
// of (id, subkey) counts superseded puts still on the medium. Anything of
// a dead id goes: ids are never reused, so nothing of one can come back.
//
// Thread-safety: REQUIRES the owning DB's compaction_mu_ for every call
// (the DB holds its ElemCompactor GUARDED_BY it). Lifetime: the DB's.
#ifndef DAXKV_ENGINE_ELEM_COMPACTOR_H_
#define DAXKV_ENGINE_ELEM_COMPACTOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/format.h"
#include "engine/log_head.h"

namespace daxkv::engine {

class DBImpl;

class ElemCompactor {
 public:
  explicit ElemCompactor(DBImpl& db) : db_(db) {}

  // Adds the element entry at `loc` to the run, relocating the run first
  // when it is full or of another collection. Pushes onto *forget the
  // dead-put hashes to decrement once the victim is freed.
  [[nodiscard]] Status Queue(uint64_t loc, const format::EntryHeader& e,
                             std::vector<uint64_t>* forget);
  // Relocates the run and empties it (the same *forget).
  [[nodiscard]] Status Relocate(std::vector<uint64_t>* forget);
  // Drops a run an error cut short (its victim stays).
  void Reset() { run_.clear(); }
  // A test's hook, run between a run's copies and their swap.
  void SetBeforeSwap(std::function<void()> fn) { before_swap_ = std::move(fn); }

 private:
  struct ElemMove {
    uint64_t loc = 0;        // the entry in the victim
    uint64_t dead_hash = 0;  // ElemDeadHash of its (id, subkey)
    uint64_t hint = ~0ull;   // a list's position of it (Relocate's hint)
    bool put = false;        // an element put (else a tombstone)
    bool copy = false;       // copied to the compaction log
    Placed placed;           // where, if copied
  };

  // Relocate's steps. MarkCopies sets each entry's `copy` (false: all when
  // the collection is dead, then returning false) and *key; CopyRun
  // appends the copies and persists them; Swap points the collection at
  // them under its key's stripe.
  bool MarkCopies(uint64_t id, std::string* key);
  // Of the tombstones MarkCopies marked, keeps those that still shadow a
  // put outside the victim (KeyCompactor::DeadPutsOutsideVictim).
  void KeepShadowingTombstones(const std::vector<uint64_t>& forget);
  Status CopyRun();
  void Swap(uint64_t id, std::string key, std::vector<uint64_t>* forget);

  DBImpl& db_;
  uint64_t run_id_ = 0;  // the collection run_'s entries belong to
  std::vector<ElemMove> run_;
  std::function<void()> before_swap_;
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_ELEM_COMPACTOR_H_
