// TxnImpl (txn_impl.h): the batch image's sub-entries, element puts and
// tombstones, the in-place changes to collection structures and the undo
// log that reverses them.
#include <algorithm>
#include <cassert>

#include "engine/txn_impl.h"

namespace daxkv::engine {

uint64_t TxnImpl::AppendSub(uint8_t type, std::string_view key,
                            std::string_view value, int64_t expire,
                            uint16_t reserved, int32_t key_index,
                            Collection* c) {
  Sub sub;
  sub.off = static_cast<uint32_t>(image_.size());
  sub.key = key_index;
  sub.coll = c;
  // The seq is stamped at commit.
  format::AppendSubEntry(&image_, type, 0, key, value, expire, reserved);
  subs_.push_back(sub);
  return coll::kPendingBase + sub.off;
}

void TxnImpl::Supersede(int32_t sub) {
  if (subs_[sub].superseded) return;
  subs_[sub].superseded = true;
  undo_.push_back({Undo::kSuperseded, sub});
}

int32_t TxnImpl::SubAt(uint64_t pending_loc) const {
  const uint64_t off = pending_loc - coll::kPendingBase;
  auto it =
      std::lower_bound(subs_.begin(), subs_.end(), off,
                       [](const Sub& s, uint64_t o) { return s.off < o; });
  assert(it != subs_.end() && it->off == off);
  return static_cast<int32_t>(it - subs_.begin());
}

void TxnImpl::NoteRemoved(Collection* c, uint64_t loc) {
  if (coll::IsPending(loc)) return;
  // The entry was just read (its subkey compared): hashing it now, and
  // starting the load of the counter ElemGone bumps at commit, overlaps
  // that miss with the commit's record work.
  const uint64_t dead_hash = ElemDeadHash(c->id, src_.Hash(src_.Subkey(loc)));
  db_->dead_.Prefetch(dead_hash);
  removed_.push_back({c, loc, dead_hash});
  undo_.push_back({Undo::kRemoved});
}

uint64_t TxnImpl::PutElem(Collection* c, std::string_view subkey,
                          std::string_view value, uint64_t cur) {
  bool shadows = cur != 0;
  if (cur != 0 && coll::IsPending(cur)) {
    const int32_t s = SubAt(cur);
    shadows = subs_[s].shadows_medium;
    Supersede(s);
  } else if (cur == 0 && !tombs_.empty()) {
    const int32_t tomb = tombs_.Take(image_, c, subkey);
    if (tomb >= 0) {  // this Txn deleted a committed element
      shadows = true;
      Supersede(tomb);
      undo_.push_back({Undo::kTombGone, tomb, c});
    }
  }
  const uint64_t loc =
      AppendSub(format::kElem, subkey, value, static_cast<int64_t>(c->id),
                static_cast<uint16_t>(c->type), -1, c);
  subs_.back().shadows_medium = shadows;
  if (!c->had_long.load(std::memory_order_relaxed) &&
      IsLongElement(c->type, subkey, value.size())) {
    c->had_long.store(true, std::memory_order_relaxed);  // a hint: not undone
  }
  return loc;
}

void TxnImpl::DelElem(Collection* c, std::string_view subkey, uint64_t cur) {
  bool shadows = true;
  if (coll::IsPending(cur)) {
    const int32_t s = SubAt(cur);
    shadows = subs_[s].shadows_medium;
    Supersede(s);
  }
  if (!shadows) return;  // nothing committed to delete
  AppendSub(format::kElemTombstone, subkey, {}, static_cast<int64_t>(c->id),
            static_cast<uint16_t>(c->type), -1, c);
  const int32_t sub = static_cast<int32_t>(subs_.size()) - 1;
  tombs_.Add(image_, c, subs_[sub].off, sub);
  undo_.push_back({Undo::kTomb, sub, c});
}

void TxnImpl::TableSet(Collection* c, std::string_view subkey, uint64_t loc) {
  uint64_t old;
  {
    WriteLock l(c->mu);
    old = c->mutable_table().Upsert(src_, subkey, loc);
  }
  undo_.push_back({Undo::kTableSet, 0, c, loc, old});
  if (old != 0) NoteRemoved(c, old);
}

void TxnImpl::TableErase(Collection* c, std::string_view subkey) {
  uint64_t old;
  {
    WriteLock l(c->mu);
    old = c->mutable_table().Erase(src_, subkey);
  }
  undo_.push_back({Undo::kTableErase, 0, c, old});
  NoteRemoved(c, old);
}

void TxnImpl::ListInsertAt(Collection* c, uint64_t pos, uint64_t loc) {
  {
    WriteLock l(c->mu);
    c->mutable_list().Insert(pos, loc);
  }
  subs_[SubAt(loc)].hint = pos;
  undo_.push_back({Undo::kListInsert, 0, c, pos});
}

void TxnImpl::ListEraseAt(Collection* c, uint64_t pos) {
  uint64_t old;
  {
    WriteLock l(c->mu);
    old = c->mutable_list().Erase(pos);
  }
  undo_.push_back({Undo::kListErase, 0, c, pos, old});
  NoteRemoved(c, old);
}

void TxnImpl::ListSetAt(Collection* c, uint64_t pos, uint64_t loc) {
  uint64_t old;
  {
    WriteLock l(c->mu);
    old = c->list().At(pos);
    c->mutable_list().Set(pos, loc);
  }
  if (coll::IsPending(loc)) subs_[SubAt(loc)].hint = pos;
  undo_.push_back({Undo::kListSet, 0, c, pos, old});
  NoteRemoved(c, old);
}

void TxnImpl::ZInsert(Collection* c, std::string_view member, double score,
                      uint64_t loc) {
  uint64_t rank;
  {
    WriteLock l(c->mu);
    rank = c->mutable_zset().Insert(src_, member, score, loc);
  }
  // Relocate's first guess at commit: right unless this Txn moved ranks.
  if (coll::IsPending(loc)) subs_[SubAt(loc)].hint = rank;
  undo_.push_back({Undo::kZInsert, 0, c, loc});
}

void TxnImpl::ZEraseMember(Collection* c, std::string_view member) {
  uint64_t old;
  {
    WriteLock l(c->mu);
    old = c->mutable_zset().Erase(src_, member);
  }
  undo_.push_back({Undo::kZErase, 0, c, old});
  NoteRemoved(c, old);
}

void TxnImpl::ZRescore(Collection* c, std::string_view member, double old,
                       uint64_t cur, double score, uint64_t loc) {
  uint64_t rank;
  {
    WriteLock l(c->mu);
    rank = c->mutable_zset().Rescore(src_, member, old, cur, score, loc);
  }
  if (coll::IsPending(loc)) subs_[SubAt(loc)].hint = rank;
  // The records ZEraseMember then ZInsert leave, in their order: undone
  // last to first, the member leaves `loc`, then returns to `cur`.
  undo_.push_back({Undo::kZErase, 0, c, cur});
  NoteRemoved(c, cur);
  undo_.push_back({Undo::kZInsert, 0, c, loc});
}

void TxnImpl::EraseRanks(Collection* c, uint64_t from, uint64_t to) {
  if (from >= to) return;
  const uint64_t first = saved_locs_.size();
  const bool list = UsesListIndex(c->type);
  {
    ReadLock l(c->mu);
    auto save = [&](uint64_t, uint64_t loc) {
      saved_locs_.push_back(loc);
      return true;
    };
    if (list) {
      c->list().tree().Forward(from, to, save);
    } else {
      c->zset().Forward(from, to, save);
    }
  }
  for (uint64_t i = first; i < saved_locs_.size(); ++i) {
    const uint64_t loc = saved_locs_[i];
    DelElem(c, std::string(src_.Subkey(loc)), loc);
    NoteRemoved(c, loc);
  }
  {
    WriteLock l(c->mu);
    if (list) {
      c->mutable_list().EraseRange(from, to);
    } else {
      c->mutable_zset().EraseRanks(src_, from, to);
    }
  }
  undo_.push_back({list ? Undo::kListErased : Undo::kZErased,
                   static_cast<int32_t>(to - from), c, from, first});
}

void TxnImpl::UndoOne(const Undo& u) {
  Collection* c = u.c;
  switch (u.kind) {
    case Undo::kView:
      keys_[u.i].view = saved_views_[u.b].view;
      keys_[u.i].key_sub = saved_views_[u.b].key_sub;
      saved_views_.pop_back();
      return;
    case Undo::kSuperseded:
      subs_[u.i].superseded = false;
      return;
    case Undo::kTomb:
      // The image still holds the sub-entry: RollbackTo undoes first.
      tombs_.Remove(image_, c, subs_[u.i].off);
      return;
    case Undo::kTombGone:
      tombs_.Add(image_, c, subs_[u.i].off, u.i);
      return;
    case Undo::kDead:
      colls_.Find(c)->dead = false;  // MarkDead touched it
      return;
    case Undo::kCreated:
      colls_.Erase(c);
      std::erase_if(created_, [c](const auto& p) { return p.get() == c; });
      return;
    case Undo::kReady:
      ready_keys_.pop_back();
      return;
    case Undo::kRemoved:
      removed_.pop_back();
      return;
    default:
      break;
  }
  WriteLock l(c->mu);
  switch (u.kind) {
    case Undo::kTableSet:
      if (u.b == 0) {
        c->mutable_table().EraseIndexed(src_, src_.Subkey(u.a), u.a);
      } else {
        c->mutable_table().Relocate(src_, src_.Subkey(u.a), u.a, u.b);
      }
      return;
    case Undo::kTableErase:
      c->mutable_table().InsertUnique(src_.Hash(src_.Subkey(u.a)), u.a);
      return;
    case Undo::kListInsert:
      c->mutable_list().Erase(u.a);
      return;
    case Undo::kListErase:
      c->mutable_list().Insert(u.a, u.b);
      return;
    case Undo::kListSet:
      c->mutable_list().Set(u.a, u.b);
      return;
    case Undo::kListErased:
      for (int32_t j = 0; j < u.i; ++j) {
        c->mutable_list().Insert(u.a + j, saved_locs_[u.b + j]);
      }
      saved_locs_.resize(u.b);
      return;
    case Undo::kZInsert:
      c->mutable_zset().Erase(src_, src_.Subkey(u.a));
      return;
    case Undo::kZErase:
      c->mutable_zset().Insert(src_, src_.Subkey(u.a), src_.Score(u.a), u.a);
      return;
    case Undo::kZErased:
      for (int32_t j = 0; j < u.i; ++j) {
        const uint64_t loc = saved_locs_[u.b + j];
        c->mutable_zset().Insert(src_, src_.Subkey(loc), src_.Score(loc), loc);
      }
      saved_locs_.resize(u.b);
      return;
    case Undo::kPackedSet:
      c->SetPacked({u.b, static_cast<uint64_t>(u.i)});
      return;
    case Undo::kPackedForm:
      c->UseTable();
      return;
    case Undo::kUnpacked:  // the members' TableSets were undone first
      c->SetPacked({u.a, static_cast<uint64_t>(u.i)});
      return;
    default:
      return;
  }
}

void TxnImpl::UndoTo(size_t n) {
  while (undo_.size() > n) {
    const Undo u = undo_.back();
    undo_.pop_back();
    UndoOne(u);
  }
}

}  // namespace daxkv::engine
