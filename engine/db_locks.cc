// DBImpl's lock helpers (db_impl.h, "how stripes and heads are taken"):
// the places where the thread-safety analysis is told what it cannot
// follow (sets of held locks), kept small and in one file.
#include <cassert>
#include <utility>

#include "engine/db_impl.h"

namespace daxkv::engine {

DBImpl::StripePairLock::StripePairLock(DBImpl* db, const KeyHash& a,
                                       const KeyHash& b) {
  first_ = &db->Stripe(a);
  second_ = &db->Stripe(b);
  if (first_ == second_) {
    second_ = nullptr;
  } else if (first_ > second_) {  // stripes_ is one array: address order
    std::swap(first_, second_);
  }
  first_->native().lock();
  if (second_ != nullptr) second_->native().lock();
}

DBImpl::StripePairLock::~StripePairLock() {
  if (second_ != nullptr) second_->native().unlock();
  first_->native().unlock();
}

void DBImpl::StripeSet::Add(size_t stripe) {
  assert(held_.empty() || stripe > held_.back());
  db_->stripes_[stripe].native().lock();
  held_.push_back(stripe);
}

void DBImpl::StripeSet::AddAll() {
  for (size_t i = held_.empty() ? 0 : held_.back() + 1; i < kStripes; ++i) {
    Add(i);
  }
}

void DBImpl::StripeSet::Check(const KeyHash& kh) const {
#ifndef NDEBUG
  const size_t want = kh.low() & (kStripes - 1);
  bool held = false;
  for (size_t s : held_) held = held || s == want;
  assert(held && "a function that requires a key's stripe called without it");
#endif
}

DBImpl::StripeSet::~StripeSet() {
  for (auto it = held_.rbegin(); it != held_.rend(); ++it) {
    db_->stripes_[*it].native().unlock();
  }
}

StripeBits DBImpl::PassIdleStripes() {
  StripeBits busy;
  for (size_t i = 0; i < kStripes; ++i) {
    std::mutex& mu = stripes_[i].native();
    const bool idle = mu.try_lock();
    if (idle) mu.unlock();
    busy[i] = !idle;
  }
  return busy;
}

DBImpl::HeadSet::HeadSet(DBImpl* db) : db_(db) { db_->LockAllHeads(); }
DBImpl::HeadSet::~HeadSet() { db_->UnlockAllHeads(); }

void DBImpl::LockAllHeads() {
  for (auto& h : heads_) h->mu.native().lock();
  compaction_head_.mu.native().lock();
}

void DBImpl::UnlockAllHeads() {
  compaction_head_.mu.native().unlock();
  for (auto it = heads_.rbegin(); it != heads_.rend(); ++it) {
    (*it)->mu.native().unlock();
  }
}

}  // namespace daxkv::engine
