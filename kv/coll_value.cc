#include "kv/coll_value.h"

#include <string>
#include <utility>
#include <variant>

#include "kv/stream_store.h"

namespace daxkv::kv {

using engine::KeyType;

StatusOr<rdb::Value> ReadCollection(engine::ReadOps& ops, std::string_view key,
                                    KeyType type) {
  switch (type) {
    case KeyType::kHash: {
      rdb::Hash h;
      DAXKV_RETURN_IF_ERROR(
          ops.HashForEach(key, [&](std::string_view f, std::string_view v) {
            h.fields.emplace_back(f, v);
            return true;
          }));
      return rdb::Value(std::move(h));
    }
    case KeyType::kList: {
      rdb::List l;
      DAXKV_RETURN_IF_ERROR(
          ops.ListRange(key, {0, -1}, [&](std::string_view e) {
            l.elements.emplace_back(e);
            return true;
          }));
      return rdb::Value(std::move(l));
    }
    case KeyType::kSet: {
      rdb::Set s;
      DAXKV_RETURN_IF_ERROR(ops.SetForEach(key, [&](std::string_view m) {
        s.members.emplace_back(m);
        return true;
      }));
      return rdb::Value(std::move(s));
    }
    case KeyType::kZset: {
      rdb::Zset z;
      DAXKV_RETURN_IF_ERROR(ops.ZRangeByRank(
          key, {0, -1}, false, [&](std::string_view m, double score) {
            z.entries.push_back({std::string(m), score});
            return true;
          }));
      return rdb::Value(std::move(z));
    }
    case KeyType::kStream: {
      DAXKV_ASSIGN_OR_RETURN(rdb::Stream s, ReadStreamValue(ops, key));
      return rdb::Value(std::move(s));
    }
    default:
      return InvalidArgumentError("not a collection");
  }
}

StatusOr<rdb::Value> ReadKeyValue(engine::ReadOps& ops, std::string_view key,
                                  KeyType type) {
  if (type != KeyType::kString) return ReadCollection(ops, key, type);
  std::string value;
  DAXKV_RETURN_IF_ERROR(ops.Get(key, &value));
  return rdb::Value(std::move(value));
}

Status WriteCollection(engine::Txn& txn, std::string_view key,
                       const rdb::Value& value) {
  bool fresh = false;
  if (const auto* h = std::get_if<rdb::Hash>(&value)) {
    for (const auto& [f, v] : h->fields) {
      DAXKV_RETURN_IF_ERROR(
          txn.HashSet(key, f, v, engine::SetMode::kUpsert, &fresh));
    }
  } else if (const auto* l = std::get_if<rdb::List>(&value)) {
    uint64_t length = 0;
    for (const auto& e : l->elements) {
      DAXKV_RETURN_IF_ERROR(
          txn.ListPush(key, engine::End::kBack, e, false, &length));
    }
  } else if (const auto* s = std::get_if<rdb::Set>(&value)) {
    for (const auto& m : s->members) {
      DAXKV_RETURN_IF_ERROR(txn.SetAdd(key, m, &fresh));
    }
  } else if (const auto* z = std::get_if<rdb::Zset>(&value)) {
    engine::ZAddResult result;
    for (const auto& e : z->entries) {
      DAXKV_RETURN_IF_ERROR(txn.ZAdd(key, e.member, e.score, {}, &result));
    }
  } else if (const auto* st = std::get_if<rdb::Stream>(&value)) {
    return WriteStreamValue(txn, key, *st);
  } else {
    return InvalidArgumentError("not a collection");
  }
  return OkStatus();
}

// Redis 7.0's encoding names for a collection, from the largest size it
// had and whether a long element (a field, value or member over 64 bytes)
// was ever stored since the server started: Redis converts one way only
// (a hash that outgrew its listpack stays a hashtable after shrinking)
// and chooses afresh when it loads its data at start, as daxkv's engine
// forgets both hints when it opens. A packed set is an intset whatever the
// hints say: it packs and stays packed exactly as Redis's intset does
// (set-max-intset-entries is both limits), across a CONFIG SET that lowers
// the limit too.
std::string_view CollectionEncoding(const engine::KeyInfo& info,
                                    uint64_t intset_max) {
  // Redis 7.0's defaults as Debian's redis-server reports them.
  constexpr uint64_t kHashListpackMax = 512;  // hash-max-listpack-entries
  constexpr uint64_t kZsetListpackMax = 128;  // zset-max-listpack-entries
  if (info.packed) return "intset";
  switch (info.type) {
    case engine::KeyType::kHash:
      return !info.had_long_element && info.peak_size <= kHashListpackMax
                 ? "listpack"
                 : "hashtable";
    case engine::KeyType::kZset:
      return !info.had_long_element && info.peak_size <= kZsetListpackMax
                 ? "listpack"
                 : "skiplist";
    case engine::KeyType::kList:
      return "quicklist";  // Redis 7.0's only list encoding
    case engine::KeyType::kStream:
      return "stream";
    case engine::KeyType::kSet:  // "long": a member an intset cannot hold
      return !info.had_long_element && info.peak_size <= intset_max
                 ? "intset"
                 : "hashtable";
    default:
      return "hashtable";
  }
}

rdb::EncodeOptions DumpOptions(const engine::KeyInfo& info,
                               int64_t set_max_intset_entries) {
  rdb::EncodeOptions o;
  if (info.type == engine::KeyType::kSet) {
    const bool intset =
        CollectionEncoding(
            info, static_cast<uint64_t>(set_max_intset_entries)) == "intset";
    o.set_max_intset_entries = intset ? INT64_MAX : 0;
  }
  return o;
}

}  // namespace daxkv::kv
