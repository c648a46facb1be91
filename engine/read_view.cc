// ReadViewImpl: engine/txn.h's ReadView, and DB::RunRead. A consistent
// read of any number of keys without taking their stripes: each key is
// read under its index shard lock (and its collection's lock) at a moment
// no transaction publishes it, and the publish words it saw are checked
// again at the end: unchanged, no transaction entered or left any of them
// in between, so the reads saw every transaction entirely or not at all
// (docs/collections.md, "Publish words").
#include <algorithm>
#include <vector>

#include "engine/txn_impl.h"

namespace daxkv::engine {

class ReadViewImpl final : public CollReadOps<ReadView, ReadViewImpl> {
 public:
  explicit ReadViewImpl(const DBImpl* db)
      : db_(db), src_(db->base_, db->hash_seed_) {}

  Status ReadColl(std::string_view key, KeyType want, const CollFn& fn);
  Status ReadString(std::string_view key, std::string* value, ReadInfo* info);
  Status StatKey(std::string_view key, KeyInfo* info);
  StatusOr<DB::ScanPage> ScanKeysOf(uint64_t cursor, size_t count,
                                    KeyType type) {
    ++reads_;
    return db_->ScanTyped(cursor, count, type);
  }

  // Whether no transaction entered or left a key it read since it read it.
  bool Validate() const {
    for (const auto& [slot, word] : seen_) {
      if (db_->words_.Load(slot) != word) return false;
    }
    return true;
  }
  size_t reads() const { return reads_; }

 private:
  // The key's index entry, read under its shard lock at a moment no
  // transaction publishes it; `copy` runs under that lock (the entry's
  // bytes are stable there). Returns the word seen.
  struct Found {
    uint64_t loc = 0;  // 0: absent or expired
    format::EntryHeader e{};
    format::MetaPayload meta{};
  };
  uint64_t Find(const KeyHash& kh, std::string_view key, Found* f,
                const std::function<void(uint64_t loc)>& copy = {});

  // The time expiry is judged at: read on the first key with an expiry,
  // then fixed for the view.
  int64_t NowMs() {
    if (now_ms_ == INT64_MIN) now_ms_ = db_->NowMs();
    return now_ms_;
  }

  const DBImpl* db_;
  PoolSource src_;
  int64_t now_ms_ = INT64_MIN;
  size_t reads_ = 0;
  std::vector<std::pair<size_t, uint64_t>> seen_;
};

uint64_t ReadViewImpl::Find(const KeyHash& kh, std::string_view key, Found* f,
                            const std::function<void(uint64_t)>& copy) {
  const size_t slot = PublishWords::Slot(kh);
  const Index::Shard& s = db_->index_->shard(kh);
  for (;;) {
    uint64_t word;
    {
      ReadLock l(s.mu);
      word = db_->words_.Load(slot);
      if (!PublishWords::Publishing(word)) {
        *f = Found{};
        const uint64_t loc = db_->index_->Find(s, kh, key).loc;
        if (loc != 0) {
          f->e = format::LoadEntry(db_->base_ + loc);
          const bool expired =
              f->e.expire_at_ms != 0 && f->e.expire_at_ms <= NowMs();
          if (!expired) {
            f->loc = loc;
            if (f->e.type == format::kMeta) {
              f->meta = format::LoadMeta(db_->base_ + loc);
            }
            if (copy) copy(loc);
          }
        }
      }
    }
    if (!PublishWords::Publishing(word)) return word;
    db_->words_.WaitQuiet(slot);
  }
}

Status ReadViewImpl::ReadColl(std::string_view key, KeyType want,
                              const CollFn& fn) {
  ++reads_;
  const KeyHash kh(key);
  const size_t slot = PublishWords::Slot(kh);
  for (;;) {
    Found f;
    const uint64_t word = Find(kh, key, &f);
    Status result;
    if (f.loc == 0) {
      result = NotFoundError("no such key");
    } else if (f.e.type != format::kMeta || f.meta.type != uint8_t(want)) {
      result = WrongTypeError();
    } else {
      bool retry = false;
      const bool found = db_->colls_->WithShared(f.meta.id, [&](Collection* c) {
        c->mu.AssertReaderHeld();
        // A rename or an expiry rewrite moved it, or a Txn began writing
        // the key since: read again.
        if (c->meta_loc != f.loc || db_->words_.Load(slot) != word) {
          retry = true;
          return;
        }
        result = fn(*c, src_);
      });
      if (!found || retry) continue;
    }
    seen_.emplace_back(slot, word);
    return result;
  }
}

Status ReadViewImpl::ReadString(std::string_view key, std::string* value,
                                ReadInfo* info) {
  ++reads_;
  const KeyHash kh(key);
  Found f;
  Status damage;
  const uint64_t word = Find(kh, key, &f, [&](uint64_t loc) {
    if (format::LoadEntry(db_->base_ + loc).type == format::kMeta) return;
    const std::string_view v = format::EntryValue(db_->base_, loc);
    damage = db_->CheckNotDamaged(loc, v);
    value->assign(v.data(), v.size());
  });
  seen_.emplace_back(PublishWords::Slot(kh), word);
  if (f.loc == 0) return NotFoundError("key not found");
  DAXKV_RETURN_IF_ERROR(damage);
  if (f.e.type == format::kMeta) return WrongTypeError();
  if (info != nullptr) {
    *info = {f.e.expire_at_ms,
             std::max(f.e.seq, db_->touch_.Load(TouchTable::Slot(kh)))};
  }
  return OkStatus();
}

Status ReadViewImpl::StatKey(std::string_view key, KeyInfo* info) {
  ++reads_;
  const KeyHash kh(key);
  for (;;) {
    *info = KeyInfo{};
    Found f;
    const uint64_t word = Find(kh, key, &f, [&](uint64_t loc) {
      if (format::LoadEntry(db_->base_ + loc).type == format::kMeta) return;
      info->size = format::EntryValue(db_->base_, loc).size();
    });
    seen_.emplace_back(PublishWords::Slot(kh), word);
    info->version = std::max(f.loc != 0 ? f.e.seq : uint64_t{0},
                             db_->touch_.Load(TouchTable::Slot(kh)));
    if (f.loc == 0) return OkStatus();
    info->expire_at_ms = f.e.expire_at_ms;
    if (f.e.type != format::kMeta) {
      info->type = KeyType::kString;
      return OkStatus();
    }
    info->type = static_cast<KeyType>(f.meta.type);
    Status s =
        ReadColl(key, info->type, [&](const Collection& c, const PoolSource&) {
          c.mu.AssertReaderHeld();
          c.FillInfo(info);
          return OkStatus();
        });
    if (s.ok()) return s;  // else it changed in between: again
  }
}

Status DBImpl::RunRead(const std::vector<std::string>& keys,
                       const std::function<Status(ReadOps&)>& fn) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    ReadViewImpl view(this);
    Status s = fn(view);
    // One read is atomic by itself; several are if no word moved.
    if (view.reads() <= 1 || view.Validate()) return s;
  }
  // Two conflicts: read under the keys' stripes (guaranteed progress).
  TxnOptions o;
  o.keys = keys;
  for (int attempt = 0;; ++attempt) {
    TxnImpl txn(this, o);
    Status s = fn(txn);
    const bool restart = txn.restart_required();
    const std::vector<std::string> used = txn.UsedKeys();
    txn.Abort();
    if (!restart || attempt >= 16) return s;
    o.keys.insert(o.keys.end(), used.begin(), used.end());
  }
}

}  // namespace daxkv::engine
