// TxnImpl (txn_impl.h): hash and set writes. A set is a hash whose
// elements have empty values, unless packed (txn_packed_set.cc).
#include <algorithm>
#include <string>
#include <vector>

#include "engine/coll_reads.h"
#include "engine/txn_impl.h"

namespace daxkv::engine {

void TxnImpl::PrefetchElements(std::string_view key,
                               std::span<const std::string_view> subkeys) {
  const int32_t k = FindKey(key);
  if (k < 0 || finished_) return;
  const View& v = keys_[k].view;
  if (!Live(v) || (v.type != KeyType::kHash && v.type != KeyType::kSet &&
                   v.type != KeyType::kZset)) {
    return;
  }
  if (v.type == KeyType::kSet && IsPacked(*v.coll)) return;  // one entry
  constexpr size_t kMax = 64;
  uint64_t hashes[kMax];
  const size_t n = std::min(subkeys.size(), kMax);
  for (size_t i = 0; i < n; ++i) hashes[i] = src_.Hash(subkeys[i]);
  ReadLock l(v.coll->mu);
  const coll::ElemTable* members = v.type == KeyType::kZset
                                       ? v.coll->zset().member_table()
                                       : &v.coll->table();
  if (members == nullptr) return;
  const coll::ElemTable& table = *members;
  // All the slots first, then the entries: the misses overlap. The
  // entries are loaded, not prefetched: on a pool of 4 KiB pages each one
  // also misses the TLB, and a software prefetch that does may be dropped,
  // where independent loads overlap their page walks.
  for (size_t i = 0; i < n; ++i) table.PrefetchSlot(hashes[i]);
  char sink = 0;
  for (size_t i = 0; i < n; ++i) {
    table.ForCandidates(hashes[i], [&](uint64_t loc) {
      sink ^= *static_cast<const volatile char*>(src_.Entry(loc) + 4);
    });
  }
  asm volatile("" : : "r"(sink));
}

Status TxnImpl::HashSet(std::string_view key, std::string_view field,
                        std::string_view value, SetMode mode, bool* created) {
  *created = false;
  DAXKV_RETURN_IF_ERROR(CheckElemSizes(field, value));
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(CollForWrite(key, KeyType::kHash, true, &c, &k));
  uint64_t cur;
  {
    ReadLock l(c->mu);
    cur = c->table().Find(src_, field);
  }
  if (cur != 0 && mode == SetMode::kIfAbsent) return OkStatus();
  TableSet(c, field, PutElem(c, field, value, cur));
  *created = cur == 0;
  return OkStatus();
}

Status TxnImpl::HashDelete(std::string_view key, std::string_view field,
                           bool* existed) {
  *existed = false;
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(CollForWrite(key, KeyType::kHash, false, &c, &k));
  if (c == nullptr) return OkStatus();
  uint64_t cur;
  {
    ReadLock l(c->mu);
    cur = c->table().Find(src_, field);
  }
  if (cur == 0) return OkStatus();
  DelElem(c, field, cur);
  TableErase(c, field);
  *existed = true;
  AfterRemove(k, c);
  return OkStatus();
}

Status TxnImpl::SetAdd(std::string_view key, std::string_view member,
                       bool* added) {
  *added = false;
  DAXKV_RETURN_IF_ERROR(CheckElemSizes(member, {}));
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(CollForWrite(key, KeyType::kSet, true, &c, &k));
  MaybePack(c, member);
  if (IsPacked(*c) && PackedAdd(c, member, added)) return OkStatus();
  {
    ReadLock l(c->mu);
    if (c->table().Find(src_, member) != 0) return OkStatus();
  }
  TableSet(c, member, PutElem(c, member, {}, 0));
  *added = true;
  return OkStatus();
}

Status TxnImpl::SetRemove(std::string_view key, std::string_view member,
                          bool* removed) {
  *removed = false;
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(CollForWrite(key, KeyType::kSet, false, &c, &k));
  if (c == nullptr) return OkStatus();
  if (IsPacked(*c)) {
    PackedRemove(k, c, member, removed);
    return OkStatus();
  }
  uint64_t cur;
  {
    ReadLock l(c->mu);
    cur = c->table().Find(src_, member);
  }
  if (cur == 0) return OkStatus();
  DelElem(c, member, cur);
  TableErase(c, member);
  *removed = true;
  AfterRemove(k, c);
  return OkStatus();
}

Status TxnImpl::SetPop(std::string_view key, uint64_t count, const ElemFn& fn) {
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(CollForWrite(key, KeyType::kSet, false, &c, &k));
  if (c == nullptr || count == 0) return OkStatus();
  if (IsPacked(*c)) {
    PackedPop(k, c, count, fn);
    return OkStatus();
  }
  std::vector<std::string> members;
  {
    ReadLock l(c->mu);
    std::vector<uint64_t> locs;
    c->table().SampleDistinct(count, coll_reads::Rng(), &locs);
    for (uint64_t loc : locs) members.emplace_back(src_.Subkey(loc));
  }
  std::shuffle(members.begin(), members.end(), coll_reads::Rng());
  for (const std::string& m : members) {
    uint64_t cur;
    {
      ReadLock l(c->mu);
      cur = c->table().Find(src_, m);
    }
    DelElem(c, m, cur);
    TableErase(c, m);
  }
  AfterRemove(k, c);
  for (const std::string& m : members) {
    if (!fn(m)) break;
  }
  return OkStatus();
}

}  // namespace daxkv::engine
