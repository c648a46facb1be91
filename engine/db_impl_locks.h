// How DBImpl takes its stripes and log heads, in the lock order that
// engine/db_impl.h states: scoped locks that also acquire the phantom
// level capability standing for their array, so that clang's
// -Wthread-safety-beta checks the order. Included by engine/db_impl.h.
#ifndef DAXKV_ENGINE_DB_IMPL_LOCKS_H_
#define DAXKV_ENGINE_DB_IMPL_LOCKS_H_

#include <cstddef>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "engine/db_impl.h"
#include "engine/key_hash.h"

namespace daxkv::engine {

// One key's stripe.
class SCOPED_CAPABILITY DBImpl::StripeLock {
 public:
  StripeLock(DBImpl* db, const KeyHash& kh)
      ACQUIRE(db->Stripe(kh), db->stripe_level_)
      : mu_(db->Stripe(kh)) {
    mu_.Lock();
  }
  ~StripeLock() RELEASE() { mu_.Unlock(); }

 private:
  Mutex& mu_;
};
// Two keys' stripes (ascending; once when they are one stripe).
class SCOPED_CAPABILITY DBImpl::StripePairLock {
 public:
  StripePairLock(DBImpl* db, const KeyHash& a, const KeyHash& b)
      ACQUIRE(db->Stripe(a), db->Stripe(b), db->stripe_level_);
  ~StripePairLock() RELEASE();

 private:
  Mutex* first_;
  Mutex* second_;  // null when both keys share one stripe
};
// Any number of stripes, taken in ascending order (Add() them ascending,
// or AddAll()). The analysis cannot follow a set of held locks: a
// function that REQUIRES one key's stripe is called after
// AssertStripeIn(set, kh), which checks (debug builds) that the set holds
// it and asserts it to the analysis.
class SCOPED_CAPABILITY DBImpl::StripeSet {
 public:
  explicit StripeSet(DBImpl* db) ACQUIRE(db->stripe_level_) : db_(db) {}
  ~StripeSet() RELEASE();
  // REQUIRES: `stripe` above every stripe held.
  void Add(size_t stripe);
  void AddAll();
  // Debug builds: asserts that the set holds `kh`'s stripe.
  void Check(const KeyHash& kh) const;

 private:
  DBImpl* const db_;
  std::vector<size_t> held_;
};
// One log head.
class SCOPED_CAPABILITY DBImpl::HeadLock {
 public:
  HeadLock(DBImpl* db, LogHead& head) ACQUIRE(head.mu, db->head_level_)
      : mu_(head.mu) {
    if (!head.mu.TryLock()) {
      head.mu.Lock();
      waited_for_ = head.last_writer;
    }
    head.last_writer = kNoWriter;  // an append sets its ThreadId()
  }
  // The holder this lock waited for if it appended (its ThreadId()), else
  // kNoWriter.
  unsigned waited_for() const { return waited_for_; }
  ~HeadLock() RELEASE() { mu_.Unlock(); }

 private:
  Mutex& mu_;
  unsigned waited_for_ = kNoWriter;
};
// Every head (user heads in order, then the compaction head): Flush()
// and Grow(). Code touching a head's guarded fields under it asserts
// head.mu (Mutex::AssertHeld) per head.
class SCOPED_CAPABILITY DBImpl::HeadSet {
 public:
  explicit HeadSet(DBImpl* db) ACQUIRE(db->head_level_);
  ~HeadSet() RELEASE();

 private:
  DBImpl* const db_;
};

inline void DBImpl::AssertStripeIn(const StripeSet& set,
                                   const KeyHash& kh) const {
  set.Check(kh);
}

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_DB_IMPL_LOCKS_H_
