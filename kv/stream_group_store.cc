#include "kv/stream_group_store.h"

#include <string>
#include <vector>

namespace daxkv::kv {
namespace {

using engine::ReadOps;
using engine::Txn;

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The first subkey above every subkey that starts with `prefix`.
// REQUIRES: prefix holds a byte other than 0xff (group-state prefixes do).
std::string PrefixEnd(std::string prefix) {
  while (static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

// fn(rest of the subkey after `prefix`, value) over the elements whose
// subkeys start with `prefix`, from `from` (>= prefix) on.
template <typename Fn>
Status ForEachUnder(ReadOps& ops, std::string_view key, std::string_view prefix,
                    std::string_view from, Fn&& fn) {
  return ops.StreamRange(key, from, GroupStateEnd(), false, 0,
                         [&](std::string_view subkey, std::string_view v) {
                           if (!StartsWith(subkey, prefix)) return false;
                           return fn(subkey.substr(prefix.size()), v);
                         });
}

// The value of the element `subkey`, if present.
Status ReadElement(ReadOps& ops, std::string_view key, std::string_view subkey,
                   std::string* value, bool* found) {
  *found = false;
  return ops.StreamRange(key, subkey, subkey, false, 1,
                         [&](std::string_view, std::string_view v) {
                           value->assign(v);
                           *found = true;
                           return false;
                         });
}

Status Put(Txn& txn, std::string_view key, std::string_view subkey,
           std::string_view value) {
  bool done;
  // Durability: one element in the caller's Txn (the command's batch).
  DAXKV_RETURN_IF_ERROR(txn.StreamPut(key, subkey, value, false, &done));
  return done ? OkStatus() : NotFoundError("no such key");
}

// Removes every element whose subkey starts with `prefix`.
Status EraseUnder(Txn& txn, std::string_view key, const std::string& prefix) {
  uint64_t from, to, removed;
  DAXKV_RETURN_IF_ERROR(txn.StreamRank(key, prefix, &from));
  DAXKV_RETURN_IF_ERROR(txn.StreamRank(key, PrefixEnd(prefix), &to));
  return txn.StreamEraseRanks(key, from, to, &removed);
}

Status Malformed() {
  return CorruptionError("stream consumer-group element is malformed");
}

}  // namespace

StatusOr<uint64_t> FirstEntryRank(ReadOps& ops, std::string_view key) {
  uint64_t rank;
  DAXKV_RETURN_IF_ERROR(ops.StreamRank(key, StreamIdKey({0, 1}), &rank));
  return rank;
}

Status ReadGroup(ReadOps& ops, std::string_view key, std::string_view group,
                 GroupState* g, bool* found) {
  std::string v;
  DAXKV_RETURN_IF_ERROR(ReadElement(ops, key, GroupSubkey(group), &v, found));
  return !*found || DecodeGroupState(v, g) ? OkStatus() : Malformed();
}

Status ReadConsumer(ReadOps& ops, std::string_view key, std::string_view group,
                    std::string_view consumer, ConsumerState* c, bool* found) {
  std::string v;
  DAXKV_RETURN_IF_ERROR(
      ReadElement(ops, key, ConsumerSubkey(group, consumer), &v, found));
  return !*found || DecodeConsumerState(v, c) ? OkStatus() : Malformed();
}

Status ReadPending(ReadOps& ops, std::string_view key, std::string_view group,
                   StreamId id, PendingState* p, bool* found) {
  std::string v;
  DAXKV_RETURN_IF_ERROR(
      ReadElement(ops, key, PendingSubkey(group, id), &v, found));
  return !*found || DecodePendingState(v, p) ? OkStatus() : Malformed();
}

Status ForEachGroup(ReadOps& ops, std::string_view key, const GroupFn& fn) {
  const std::string prefix = GroupsPrefix();
  bool valid = true;
  GroupState g;
  DAXKV_RETURN_IF_ERROR(ForEachUnder(
      ops, key, prefix, prefix, [&](std::string_view name, std::string_view v) {
        valid = DecodeGroupState(v, &g);
        return valid && fn(name, g);
      }));
  return valid ? OkStatus() : Malformed();
}

Status ForEachConsumer(ReadOps& ops, std::string_view key,
                       std::string_view group, const ConsumerFn& fn) {
  const std::string prefix = ConsumerPrefix(group);
  bool valid = true;
  ConsumerState c;
  DAXKV_RETURN_IF_ERROR(ForEachUnder(
      ops, key, prefix, prefix, [&](std::string_view name, std::string_view v) {
        valid = DecodeConsumerState(v, &c);
        return valid && fn(name, c);
      }));
  return valid ? OkStatus() : Malformed();
}

Status ForEachPending(ReadOps& ops, std::string_view key,
                      std::string_view group, StreamId from, StreamId to,
                      const PendingFn& fn) {
  if (to < from) return OkStatus();
  const std::string prefix = PendingPrefix(group);
  bool valid = true;
  PendingState p;
  DAXKV_RETURN_IF_ERROR(
      ForEachUnder(ops, key, prefix, PendingSubkey(group, from),
                   [&](std::string_view rest, std::string_view v) {
                     valid = rest.size() == 16 && DecodePendingState(v, &p);
                     if (!valid) return false;
                     const StreamId id = StreamIdFromKey(rest);
                     return !(to < id) && fn(id, p);
                   }));
  return valid ? OkStatus() : Malformed();
}

Status WriteGroup(Txn& txn, std::string_view key, std::string_view group,
                  const GroupState& g) {
  return Put(txn, key, GroupSubkey(group), EncodeGroupState(g));
}

Status WriteConsumer(Txn& txn, std::string_view key, std::string_view group,
                     std::string_view consumer, const ConsumerState& c) {
  return Put(txn, key, ConsumerSubkey(group, consumer), EncodeConsumerState(c));
}

Status WritePending(Txn& txn, std::string_view key, std::string_view group,
                    StreamId id, const PendingState& p) {
  return Put(txn, key, PendingSubkey(group, id), EncodePendingState(p));
}

Status DeletePending(Txn& txn, std::string_view key, std::string_view group,
                     StreamId id, bool* existed) {
  return txn.StreamDelete(key, PendingSubkey(group, id), existed);
}

Status DeleteConsumer(Txn& txn, std::string_view key, std::string_view group,
                      std::string_view consumer, int64_t* pending) {
  *pending = 0;
  std::vector<StreamId> ids;
  DAXKV_RETURN_IF_ERROR(ForEachPending(txn, key, group, {0, 0}, kMaxStreamId,
                                       [&](StreamId id, const PendingState& p) {
                                         if (p.consumer == consumer)
                                           ids.push_back(id);
                                         return true;
                                       }));
  bool existed;
  for (StreamId id : ids) {
    DAXKV_RETURN_IF_ERROR(DeletePending(txn, key, group, id, &existed));
  }
  *pending = static_cast<int64_t>(ids.size());
  return txn.StreamDelete(key, ConsumerSubkey(group, consumer), &existed);
}

Status DestroyGroup(Txn& txn, std::string_view key, std::string_view group) {
  DAXKV_RETURN_IF_ERROR(EraseUnder(txn, key, ConsumerPrefix(group)));
  DAXKV_RETURN_IF_ERROR(EraseUnder(txn, key, PendingPrefix(group)));
  bool existed;
  return txn.StreamDelete(key, GroupSubkey(group), &existed);
}

Status ReadGroupsValue(ReadOps& ops, std::string_view key,
                       std::vector<rdb::StreamGroup>* groups) {
  groups->clear();
  DAXKV_RETURN_IF_ERROR(
      ForEachGroup(ops, key, [&](std::string_view name, const GroupState& g) {
        groups->push_back({std::string(name),
                           {g.last_id.ms, g.last_id.seq},
                           g.entries_read,
                           {},
                           {}});
        return true;
      }));
  for (rdb::StreamGroup& g : *groups) {
    DAXKV_RETURN_IF_ERROR(ForEachConsumer(
        ops, key, g.name, [&](std::string_view name, const ConsumerState& c) {
          g.consumers.push_back({std::string(name), c.seen_time_ms});
          return true;
        }));
    DAXKV_RETURN_IF_ERROR(
        ForEachPending(ops, key, g.name, {0, 0}, kMaxStreamId,
                       [&](StreamId id, const PendingState& p) {
                         g.pending.push_back({{id.ms, id.seq},
                                              p.delivery_time_ms,
                                              p.delivery_count,
                                              p.consumer});
                         return true;
                       }));
  }
  return OkStatus();
}

Status WriteGroupsValue(Txn& txn, std::string_view key,
                        const std::vector<rdb::StreamGroup>& groups) {
  // Durability: every element in the caller's one Txn with the entries.
  for (const rdb::StreamGroup& g : groups) {
    DAXKV_RETURN_IF_ERROR(WriteGroup(
        txn, key, g.name, {{g.last_id.ms, g.last_id.seq}, g.entries_read}));
    for (const rdb::StreamConsumer& c : g.consumers) {
      DAXKV_RETURN_IF_ERROR(
          WriteConsumer(txn, key, g.name, c.name, {c.seen_time_ms}));
    }
    for (const rdb::StreamPending& p : g.pending) {
      DAXKV_RETURN_IF_ERROR(
          WritePending(txn, key, g.name, {p.id.ms, p.id.seq},
                       {p.delivery_time_ms, p.delivery_count, p.consumer}));
    }
  }
  return OkStatus();
}

}  // namespace daxkv::kv
