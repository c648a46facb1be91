// TxnImpl (txn_impl.h): list writes. An element's subkey is its order key
// (engine/coll_order_key.h): pushes and inserts write one element record
// each; an insert that finds no short key between its neighbours relabels
// a window of them (each a tombstone of its old key and a put under its
// new one, in this Txn's batch).
#include <string>
#include <vector>

#include "engine/coll_order_key.h"
#include "engine/coll_reads.h"
#include "engine/txn_impl.h"

namespace daxkv::engine {

void TxnImpl::ListInsertValue(Collection* c, uint64_t pos,
                              std::string_view value) {
  coll::InsertPlan& plan = insert_plan_;
  {
    ReadLock l(c->mu);
    coll::PlanInsert(
        c->list().size(), pos,
        [&](size_t i) {
          c->mu.AssertReaderHeld();
          return src_.Subkey(c->list().At(i));
        },
        &plan);
  }
  // Relabelled elements: every old key goes first, so that a new key equal
  // to another element's old one supersedes its tombstone (one entry per
  // element and subkey in a batch).
  std::vector<std::string> values;
  for (uint64_t i = plan.first; i < plan.last; ++i) {
    uint64_t old;
    {
      ReadLock l(c->mu);
      old = c->list().At(i);
    }
    values.emplace_back(src_.Value(old));
    DelElem(c, std::string(src_.Subkey(old)), old);
  }
  for (uint64_t i = plan.first; i < plan.last; ++i) {
    const std::string& key = plan.keys[i - plan.first + (i < pos ? 0 : 1)];
    ListSetAt(c, i, PutElem(c, key, values[i - plan.first], 0));
  }
  ListInsertAt(c, pos, PutElem(c, plan.keys[pos - plan.first], value, 0));
}

Status TxnImpl::ListPush(std::string_view key, End end, std::string_view value,
                         bool if_exists, uint64_t* length) {
  *length = 0;
  DAXKV_RETURN_IF_ERROR(CheckElemSizes({}, value));
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(CollForWrite(key, KeyType::kList, !if_exists, &c, &k));
  if (c == nullptr) return OkStatus();
  uint64_t n;
  {
    ReadLock l(c->mu);
    n = c->list().size();
  }
  ListInsertValue(c, end == End::kFront ? 0 : n, value);
  *length = n + 1;
  Ready(k);
  return OkStatus();
}

Status TxnImpl::ListPop(std::string_view key, End end, std::string* value) {
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(CollForWrite(key, KeyType::kList, false, &c, &k));
  if (c == nullptr) return NotFoundError("no such key");
  uint64_t pos, loc;
  {
    ReadLock l(c->mu);
    pos = end == End::kFront ? 0 : c->list().size() - 1;
    loc = c->list().At(pos);
  }
  const std::string_view v = src_.Value(loc);
  value->assign(v.data(), v.size());
  if (coll::IsPending(loc)) {
    // Its subkey lies in the image, which DelElem's append may move.
    DelElem(c, std::string(src_.Subkey(loc)), loc);
  } else {
    DelElem(c, src_.Subkey(loc), loc);
  }
  ListEraseAt(c, pos);
  AfterRemove(k, c);
  return OkStatus();
}

Status TxnImpl::ExistingListFor(std::string_view key, std::string_view value,
                                Collection** c, int32_t* k) {
  DAXKV_RETURN_IF_ERROR(CheckElemSizes({}, value));
  DAXKV_RETURN_IF_ERROR(CollForWrite(key, KeyType::kList, false, c, k));
  if (*c == nullptr) return NotFoundError("no such key");
  return OkStatus();
}

Status TxnImpl::ListSet(std::string_view key, int64_t index,
                        std::string_view value) {
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(ExistingListFor(key, value, &c, &k));
  uint64_t pos, old;
  {
    ReadLock l(c->mu);
    if (!coll_reads::ClampIndex(index, c->list().size(), &pos)) {
      return InvalidArgumentError("index out of range");
    }
    old = c->list().At(pos);
  }
  const std::string okey(src_.Subkey(old));
  ListSetAt(c, pos, PutElem(c, okey, value, old));
  return OkStatus();
}

Status TxnImpl::ListInsert(std::string_view key, uint64_t index,
                           std::string_view value) {
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(ExistingListFor(key, value, &c, &k));
  {
    ReadLock l(c->mu);
    if (index > c->list().size()) {
      return InvalidArgumentError("index out of range");
    }
  }
  ListInsertValue(c, index, value);
  Ready(k);
  return OkStatus();
}

Status TxnImpl::ListErase(std::string_view key, uint64_t index) {
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(ExistingListFor(key, {}, &c, &k));
  uint64_t loc;
  {
    ReadLock l(c->mu);
    if (index >= c->list().size()) {
      return InvalidArgumentError("index out of range");
    }
    loc = c->list().At(index);
  }
  DelElem(c, std::string(src_.Subkey(loc)), loc);
  ListEraseAt(c, index);
  AfterRemove(k, c);
  return OkStatus();
}

Status TxnImpl::ListTrim(std::string_view key, IndexRange keep) {
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(CollForWrite(key, KeyType::kList, false, &c, &k));
  if (c == nullptr) return OkStatus();
  uint64_t n, from, to;
  bool any;
  {
    ReadLock l(c->mu);
    n = c->list().size();
    any = keep.Clamp(n, &from, &to);
  }
  if (!any) from = to = n;
  EraseRanks(c, to, n);
  EraseRanks(c, 0, from);
  AfterRemove(k, c);
  return OkStatus();
}

}  // namespace daxkv::engine
