// TxnImpl (txn_impl.h): writes of any type (Put, Delete, SetExpiry,
// Rename, Copy), string reads, Stat, keyspace scans, and how its reads
// resolve a key (CollReadOps).
#include <algorithm>
#include <set>
#include <string>

#include "engine/txn_impl.h"

namespace daxkv::engine {

namespace {

std::string_view LinkBytes(const format::LinkPayload& l) {
  return {reinterpret_cast<const char*>(&l), sizeof(l)};
}

}  // namespace

std::string_view TxnImpl::StringValue(const View& v) const {
  if (!coll::IsPending(v.loc)) return format::EntryValue(db_->base_, v.loc);
  const char* p = src_.Entry(v.loc);
  if (format::LoadEntry(p).type == format::kLink) {
    return format::EntryValue(db_->base_, format::LoadLink(p).target);
  }
  return src_.Value(v.loc);
}

void TxnImpl::SetString(int32_t k, uint8_t type, std::string_view value,
                        int64_t expire_at_ms) {
  SetKeyEntry(k, type, value, expire_at_ms,
              View{KeyType::kString, expire_at_ms, nullptr, 0});
  keys_[k].view.loc = coll::kPendingBase + subs_[keys_[k].key_sub].off;
}

Status TxnImpl::Put(std::string_view key, std::string_view value,
                    int64_t expire_at_ms, PutMode mode) {
  DAXKV_RETURN_IF_ERROR(db_->CheckSizes(key, value));
  DAXKV_ASSIGN_OR_RETURN(const int32_t k, Use(key));
  DAXKV_RETURN_IF_ERROR(db_->health_.CheckWritable());
  const bool live = Live(keys_[k].view);
  if (mode == PutMode::kIfAbsent && live) {
    return AlreadyExistsError("key exists");
  }
  if (mode == PutMode::kIfPresent && !live) {
    return NotFoundError("key not found");
  }
  SetString(k, format::kPut, value, expire_at_ms);
  return OkStatus();
}

Status TxnImpl::Delete(std::string_view key, bool* existed) {
  if (existed != nullptr) *existed = false;
  DAXKV_ASSIGN_OR_RETURN(const int32_t k, Use(key));
  DAXKV_RETURN_IF_ERROR(db_->health_.CheckWritable());
  if (existed != nullptr) *existed = Live(keys_[k].view);
  if (keys_[k].orig.loc != 0 || keys_[k].key_sub >= 0) DeleteKey(k);
  return OkStatus();
}

Status TxnImpl::SetExpiry(std::string_view key, int64_t expire_at_ms) {
  DAXKV_ASSIGN_OR_RETURN(const int32_t k, Use(key));
  DAXKV_RETURN_IF_ERROR(db_->health_.CheckWritable());
  View v = keys_[k].view;
  if (!Live(v)) return NotFoundError("key not found");
  v.expire_at_ms = expire_at_ms;
  if (v.coll != nullptr) {
    const format::MetaPayload m =
        format::MakeMeta(static_cast<uint8_t>(v.type), v.coll->id);
    SetKeyEntry(k, format::kMeta, format::MetaBytes(m), expire_at_ms, v,
                /*keep_coll=*/true);
    return OkStatus();
  }
  // A link stays a link (the value it names stays put).
  const char* p = src_.Entry(v.loc);
  const uint8_t type = format::LoadEntry(p).type;
  const std::string value(type == format::kLink ? src_.Value(v.loc)
                                                : StringValue(v));
  SetString(k, type, value, expire_at_ms);
  return OkStatus();
}

Status TxnImpl::Rename(std::string_view src, std::string_view dst,
                       bool if_absent, bool* done) {
  *done = false;
  DAXKV_ASSIGN_OR_RETURN(const int32_t s, Use(src));
  DAXKV_ASSIGN_OR_RETURN(const int32_t d, Use(dst));
  DAXKV_RETURN_IF_ERROR(db_->health_.CheckWritable());
  const View v = keys_[s].view;
  if (!Live(v)) return NotFoundError("no such key");
  if (s == d) {
    *done = !if_absent;
    return OkStatus();
  }
  if (if_absent && Live(keys_[d].view)) return OkStatus();
  if (v.coll != nullptr) {
    // O(1): the id moves to dst (its elements carry the id, not the key).
    const format::MetaPayload m =
        format::MakeMeta(static_cast<uint8_t>(v.type), v.coll->id);
    SetKeyEntry(d, format::kMeta, format::MetaBytes(m), v.expire_at_ms, v);
    DeleteKey(s, /*keep_coll=*/true);
  } else {
    format::LinkPayload link;
    if (format::LoadEntry(src_.Entry(v.loc)).type == format::kLink) {
      SetString(d, format::kLink, std::string(src_.Value(v.loc)),
                v.expire_at_ms);  // a link names the same target
    } else if (!coll::IsPending(v.loc) && v.loc == keys_[s].orig.loc &&
               db_->LinkTarget(keys_[s].orig, &link)) {
      SetString(d, format::kLink, LinkBytes(link), v.expire_at_ms);
    } else {
      SetString(d, format::kPut, std::string(StringValue(v)), v.expire_at_ms);
    }
    DeleteKey(s);
  }
  *done = true;
  return OkStatus();
}

Status TxnImpl::Copy(std::string_view src, std::string_view dst, bool replace,
                     bool* done) {
  *done = false;
  DAXKV_ASSIGN_OR_RETURN(const int32_t s, Use(src));
  DAXKV_ASSIGN_OR_RETURN(const int32_t d, Use(dst));
  DAXKV_RETURN_IF_ERROR(db_->health_.CheckWritable());
  if (s == d) {
    return InvalidArgumentError("source and destination objects are the same");
  }
  const View v = keys_[s].view;
  if (!Live(v)) return NotFoundError("no such key");
  if (!replace && Live(keys_[d].view)) return OkStatus();
  if (v.coll == nullptr) {
    SetString(d, format::kPut, std::string(StringValue(v)), v.expire_at_ms);
  } else {
    CopyCollection(*v.coll, v.expire_at_ms, d);
  }
  *done = true;
  return OkStatus();
}

void TxnImpl::CopyCollection(const Collection& from, int64_t expire_at_ms,
                             int32_t d) {
  const uint64_t id = ++db_->last_seq_;
  created_.push_back(std::make_unique<Collection>(from.type, id, 0));
  Collection* c = created_.back().get();
  undo_.push_back({Undo::kCreated, 0, c});
  colls_.Insert(c, TouchedColl{true, false, 0});
  const format::MetaPayload m =
      format::MakeMeta(static_cast<uint8_t>(from.type), id);
  SetKeyEntry(d, format::kMeta, format::MetaBytes(m), expire_at_ms,
              View{from.type, expire_at_ms, c, 0});
  if (IsPacked(from)) {
    std::vector<int64_t> ints;
    ReadPacked(from, &ints);
    {
      WriteLock l(c->mu);
      c->SetPacked({});
    }
    undo_.push_back({Undo::kPackedForm, 0, c});
    WritePacked(c, ints);
    return;
  }
  std::vector<uint64_t> locs;
  {
    ReadLock l(from.mu);
    from.AppendLocs(&locs);
  }
  uint64_t i = 0;
  for (uint64_t loc : locs) {  // copied: the image grows meanwhile
    const std::string subkey(src_.Subkey(loc)), value(src_.Value(loc));
    const uint64_t copy = PutElem(c, subkey, value, 0);
    if (UsesListIndex(c->type)) {
      ListInsertAt(c, i++, copy);
    } else if (c->type == KeyType::kZset) {
      ZInsert(c, subkey, src_.Score(copy), copy);
    } else {
      TableSet(c, subkey, copy);
    }
  }
}

Status TxnImpl::ReadColl(std::string_view key, KeyType want, const CollFn& fn) {
  DAXKV_ASSIGN_OR_RETURN(const int32_t k, Use(key));
  const View& v = keys_[k].view;
  if (!Live(v)) return NotFoundError("no such key");
  if (v.type != want) return WrongTypeError();
  ReadLock l(v.coll->mu);
  return fn(*v.coll, src_);
}

Status TxnImpl::ReadString(std::string_view key, std::string* value,
                           ReadInfo* info) {
  DAXKV_ASSIGN_OR_RETURN(const int32_t k, Use(key));
  const View& v = keys_[k].view;
  if (!Live(v)) return NotFoundError("key not found");
  if (v.type != KeyType::kString) return WrongTypeError();
  const std::string_view s = StringValue(v);
  if (!coll::IsPending(v.loc)) {  // committed: the scrub may have refused it
    DAXKV_RETURN_IF_ERROR(db_->CheckNotDamaged(v.loc, s));
  }
  value->assign(s.data(), s.size());
  if (info != nullptr) {
    *info = {v.expire_at_ms, CommittedVersion(k)};
  }
  return OkStatus();
}

Status TxnImpl::StatKey(std::string_view key, KeyInfo* info) {
  DAXKV_ASSIGN_OR_RETURN(const int32_t k, Use(key));
  const View& v = keys_[k].view;
  *info = KeyInfo{};
  info->version = CommittedVersion(k);
  if (!Live(v)) return OkStatus();
  info->type = v.type;
  info->expire_at_ms = v.expire_at_ms;
  if (v.coll == nullptr) {
    info->size = StringValue(v).size();
    return OkStatus();
  }
  ReadLock l(v.coll->mu);
  v.coll->FillInfo(info);
  return OkStatus();
}

StatusOr<DB::ScanPage> TxnImpl::ScanKeysOf(uint64_t cursor, size_t count,
                                           KeyType type) {
  DAXKV_ASSIGN_OR_RETURN(DB::ScanPage page,
                         db_->ScanTyped(cursor, count, type));
  auto matches = [&](const View& v) {
    return Live(v) && (type == KeyType::kNone || v.type == type);
  };
  // Keys this Txn used are as it sees them: dropped, or added when their
  // position falls in the page's range (creations and type changes).
  std::erase_if(page.keys, [&](const std::string& key) {
    const int32_t i = FindKey(key);
    return i >= 0 && !matches(keys_[i].view);
  });
  const std::set<std::string> listed(page.keys.begin(), page.keys.end());
  for (const Key& k : keys_) {
    const uint64_t pos = uint64_t{k.kh.shard()} << kPosBits | k.kh.pos();
    const bool in_page =
        pos >= cursor && (page.next_cursor == 0 || pos < page.next_cursor);
    if (in_page && matches(k.view) && !listed.count(k.key)) {
      page.keys.push_back(k.key);
    }
  }
  return page;
}

}  // namespace daxkv::engine
