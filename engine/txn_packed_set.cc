// TxnImpl (txn_impl.h): writes of packed sets (coll_packed_ints.h,
// docs/collections.md "Packed integer sets"). Every change puts a new
// packed entry over the old one in the Txn's image (superseding it when
// this Txn wrote it), so the record holds one packed entry per set however
// many members a command changed; leaving the form puts each member and
// deletes the packed entry in the same record.
#include <algorithm>
#include <string>
#include <vector>

#include "base/int_text.h"
#include "engine/coll_reads.h"
#include "engine/txn_impl.h"

namespace daxkv::engine {

void TxnImpl::MaybePack(Collection* c, std::string_view member) {
  if (db_->packed_set_max_.load(std::memory_order_relaxed) == 0) return;
  const TouchedColl* t = colls_.Find(c);
  if (t == nullptr || !t->created || !IsCanonicalInt64(member)) return;
  {
    WriteLock l(c->mu);
    if (c->packed() || c->size() != 0) return;
    c->SetPacked({});
  }
  undo_.push_back({Undo::kPackedForm, 0, c});
}

void TxnImpl::ReadPacked(const Collection& c, std::vector<int64_t>* ints) {
  ReadLock l(c.mu);
  coll_reads::PackedMembers(c, src_, ints);
}

void TxnImpl::WritePacked(Collection* c, const std::vector<int64_t>& ints) {
  WritePackedValue(
      c, ints.empty() ? std::string() : coll::PackedInts::Encode(ints),
      ints.size());
}

void TxnImpl::WritePackedValue(Collection* c, const std::string& value,
                               uint64_t count) {
  coll::PackedSet old;
  {
    ReadLock l(c->mu);
    old = c->packed_set();
  }
  coll::PackedSet now{0, count};
  if (count != 0) {
    now.loc = PutElem(c, coll::kPackedSubkey, value, old.loc);
  } else if (old.loc != 0) {
    DelElem(c, coll::kPackedSubkey, old.loc);
  }
  {
    WriteLock l(c->mu);
    c->SetPacked(now);
  }
  undo_.push_back(
      {Undo::kPackedSet, static_cast<int32_t>(old.count), c, now.loc, old.loc});
  if (old.loc != 0) NoteRemoved(c, old.loc);
}

void TxnImpl::Unpack(Collection* c, const std::vector<int64_t>& ints) {
  coll::PackedSet old;
  {
    WriteLock l(c->mu);
    old = c->packed_set();
    c->UseTable();
  }
  undo_.push_back(
      {Undo::kUnpacked, static_cast<int32_t>(old.count), c, old.loc});
  if (old.loc != 0) {
    DelElem(c, coll::kPackedSubkey, old.loc);
    NoteRemoved(c, old.loc);
  }
  for (const int64_t v : ints) {
    const std::string member = coll::IntText(v);
    TableSet(c, member, PutElem(c, member, {}, 0));
  }
}

bool TxnImpl::PackedAdd(Collection* c, std::string_view member, bool* added) {
  int64_t v;
  if (ParseInt64(member, &v)) {
    std::string value;
    uint64_t count;
    {
      ReadLock l(c->mu);
      const coll::PackedSet p = c->packed_set();
      count = p.count;
      if (p.loc == 0) {
        value = coll::PackedInts::Encode({v});
      } else {
        const std::string_view bytes = src_.Value(p.loc);
        uint32_t pos;
        if (coll::PackedInts(bytes).Find(v, &pos)) return true;  // there
        if (count < db_->packed_set_max_.load(std::memory_order_relaxed)) {
          value = coll::PackedInts::Inserted(bytes, v, pos);
        }
      }
    }
    if (!value.empty()) {
      WritePackedValue(c, value, count + 1);
      *added = true;
      return true;
    }
  }
  std::vector<int64_t>& ints = packed_ints_;
  ReadPacked(*c, &ints);
  Unpack(c, ints);
  return false;
}

void TxnImpl::PackedRemove(int32_t k, Collection* c, std::string_view member,
                           bool* removed) {
  int64_t v;
  if (!ParseInt64(member, &v)) return;  // never a packed set's member
  std::string value;
  uint64_t count;
  {
    ReadLock l(c->mu);
    const coll::PackedSet p = c->packed_set();
    if (p.loc == 0) return;
    const std::string_view bytes = src_.Value(p.loc);
    uint32_t pos;
    if (!coll::PackedInts(bytes).Find(v, &pos)) return;
    count = p.count;
    if (count > 1) value = coll::PackedInts::Erased(bytes, pos);
  }
  WritePackedValue(c, value, count - 1);  // the last member: the entry goes
  *removed = true;
  AfterRemove(k, c);
}

void TxnImpl::PackedPop(int32_t k, Collection* c, uint64_t count,
                        const ElemFn& fn) {
  std::vector<int64_t>& ints = packed_ints_;
  ReadPacked(*c, &ints);
  const uint64_t n = std::min<uint64_t>(count, ints.size());
  coll_reads::ShuffleFirst(&ints, n);  // SPOP replies in no set order
  std::vector<int64_t> popped(ints.begin(), ints.begin() + n);
  ints.erase(ints.begin(), ints.begin() + n);
  std::sort(ints.begin(), ints.end());
  WritePacked(c, ints);
  AfterRemove(k, c);
  for (const int64_t v : popped) {
    if (!fn(coll::IntText(v))) break;
  }
}

}  // namespace daxkv::engine
