#include "kv/stream_store.h"

#include <string>
#include <vector>

#include "kv/coll_run.h"
#include "kv/stream_group_store.h"

namespace daxkv::kv {

using engine::KeyType;

Status ReadStreamMeta(engine::ReadOps& ops, std::string_view key,
                      StreamMeta* m) {
  bool found = false;
  bool valid = false;
  DAXKV_RETURN_IF_ERROR(CollSize(ops, key, KeyType::kStream).status());
  DAXKV_RETURN_IF_ERROR(ops.StreamRange(
      key, "", "", false, 1, [&](std::string_view, std::string_view v) {
        found = true;
        valid = DecodeStreamMeta(v, m);
        return false;
      }));
  if (!found) return NotFoundError("no such key");
  if (!valid) return CorruptionError("stream metadata element is malformed");
  return OkStatus();
}

Status WriteStreamMeta(engine::Txn& txn, std::string_view key,
                       const StreamMeta& m, bool create) {
  bool done;
  // Durability: in the caller's Txn batch with the entries it describes.
  return txn.StreamPut(key, "", EncodeStreamMeta(m), create, &done);
}

Status ForEachStreamEntry(engine::ReadOps& ops, std::string_view key,
                          StreamId from, StreamId to, bool reverse,
                          uint64_t count, const StreamEntryFn& fn) {
  // Entries are at least 0-1; the group-state elements sort below it.
  if (from < StreamId{0, 1}) from = {0, 1};
  if (to < from) return OkStatus();
  return ops.StreamRange(key, StreamIdKey(from), StreamIdKey(to), reverse,
                         count,
                         [&](std::string_view subkey, std::string_view value) {
                           return fn(StreamIdFromKey(subkey), value);
                         });
}

StatusOr<uint64_t> StreamLength(engine::ReadOps& ops, std::string_view key) {
  DAXKV_ASSIGN_OR_RETURN(uint64_t n, CollSize(ops, key, KeyType::kStream));
  if (n == 0) return 0;
  // The metadata and group-state elements come before the entries.
  DAXKV_ASSIGN_OR_RETURN(uint64_t first, FirstEntryRank(ops, key));
  return n - first;
}

void ReplyStreamEntry(ReplyWriter& out, StreamId id, std::string_view value) {
  StreamEntryPos pos;
  std::vector<std::string_view> fields;
  DecodeStreamEntry(value, &pos, &fields);
  out.ArrayHeader(2);
  out.Bulk(FormatStreamId(id));
  out.ArrayHeader(fields.size());
  for (std::string_view f : fields) out.Bulk(f);
}

StatusOr<rdb::Stream> ReadStreamValue(engine::ReadOps& ops,
                                      std::string_view key) {
  StreamMeta m;
  DAXKV_RETURN_IF_ERROR(ReadStreamMeta(ops, key, &m));
  rdb::Stream out;
  out.last_id = {m.last_id.ms, m.last_id.seq};
  out.max_deleted = {m.max_deleted.ms, m.max_deleted.seq};
  out.entries_added = m.entries_added;
  StreamEntryPos pos;
  std::vector<std::string_view> fields;
  bool valid = true;
  DAXKV_RETURN_IF_ERROR(ForEachStreamEntry(
      ops, key, StreamId{0, 0}, kMaxStreamId, false, 0,
      [&](StreamId id, std::string_view v) {
        valid = DecodeStreamEntry(v, &pos, &fields);
        if (!valid) return false;
        out.entries.push_back(
            {{id.ms, id.seq}, {fields.begin(), fields.end()}});
        return true;
      }));
  if (!valid) return CorruptionError("stream entry is malformed");
  DAXKV_RETURN_IF_ERROR(ReadGroupsValue(ops, key, &out.groups));
  return out;
}

Status WriteStreamValue(engine::Txn& txn, std::string_view key,
                        const rdb::Stream& value) {
  // Redis never makes an entry 0-0 (XADD refuses it); a payload holding one
  // would put it among the group state's subkeys (kv/stream_group_codec.h).
  if (!value.entries.empty() &&
      value.entries.front().id == rdb::StreamId{0, 0}) {
    return CommandError("ERR Bad data format");
  }
  StreamMeta m;
  m.last_id = {value.last_id.ms, value.last_id.seq};
  m.max_deleted = {value.max_deleted.ms, value.max_deleted.seq};
  m.entries_added = value.entries_added;
  // Nodes of 100 entries from the first one.
  const uint64_t n = value.entries.size();
  m.next_node = (n + kStreamNodeMaxEntries - 1) / kStreamNodeMaxEntries;
  m.tail_node = n == 0 ? 0 : m.next_node - 1;
  m.tail_count = n == 0 ? 0 : (n - 1) % kStreamNodeMaxEntries + 1;
  // Durability: the metadata and every entry in the caller's one Txn.
  DAXKV_RETURN_IF_ERROR(WriteStreamMeta(txn, key, m, true));
  std::vector<std::string_view> fields;
  for (size_t i = 0; i < value.entries.size(); ++i) {
    const rdb::StreamEntry& e = value.entries[i];
    fields.assign(e.fields.begin(), e.fields.end());
    const StreamEntryPos pos{i / kStreamNodeMaxEntries,
                             static_cast<uint32_t>(i % kStreamNodeMaxEntries)};
    bool done;
    DAXKV_RETURN_IF_ERROR(txn.StreamPut(key, StreamIdKey({e.id.ms, e.id.seq}),
                                        EncodeStreamEntry(pos, fields), false,
                                        &done));
  }
  return WriteGroupsValue(txn, key, value.groups);
}

namespace {

// The first node's entries (Redis's first listpack): their count and the
// last one's ID.
struct FirstNode {
  int64_t entries = 0;
  uint64_t node = 0;
  StreamId last;  // its newest live entry's ID
};

Status ReadFirstNode(engine::Txn& txn, std::string_view key, FirstNode* n) {
  *n = {};
  bool first = true;
  uint64_t node = 0;
  StreamEntryPos pos;
  std::vector<std::string_view> fields;
  return ForEachStreamEntry(txn, key, StreamId{0, 0}, kMaxStreamId, false,
                            kStreamNodeMaxEntries,
                            [&](StreamId id, std::string_view v) {
                              if (!DecodeStreamEntry(v, &pos, &fields))
                                pos = {};
                              if (!first && pos.node != node) return false;
                              first = false;
                              node = pos.node;
                              n->node = node;
                              ++n->entries;
                              n->last = id;
                              return true;
                            });
}

// Entries of the first node to remove when it cannot go whole (exact
// trims only).
StatusOr<int64_t> PartialCount(engine::Txn& txn, std::string_view key,
                               const StreamTrimArgs& t, int64_t length) {
  if (t.kind == StreamTrimArgs::Kind::kMaxLen) return length - t.maxlen;
  int64_t below = 0;
  DAXKV_RETURN_IF_ERROR(ForEachStreamEntry(txn, key, StreamId{0, 0},
                                           kMaxStreamId, false, 0,
                                           [&](StreamId id, std::string_view) {
                                             if (!(id < t.minid)) return false;
                                             ++below;
                                             return true;
                                           }));
  return below;
}

}  // namespace

StatusOr<int64_t> TrimStream(engine::Txn& txn, std::string_view key,
                             const StreamTrimArgs& t) {
  using Kind = StreamTrimArgs::Kind;
  if (t.kind == Kind::kNone) return 0;
  DAXKV_ASSIGN_OR_RETURN(uint64_t len, StreamLength(txn, key));
  int64_t length = static_cast<int64_t>(len);
  if (length == 0) return 0;
  if (t.kind == Kind::kMaxLen && length <= t.maxlen) return 0;
  StreamMeta m;
  DAXKV_RETURN_IF_ERROR(ReadStreamMeta(txn, key, &m));
  int64_t deleted = 0;
  for (;;) {
    FirstNode node;
    DAXKV_RETURN_IF_ERROR(ReadFirstNode(txn, key, &node));
    if (node.entries == 0) break;
    if (t.limit != 0 && deleted + node.entries > t.limit) break;
    // MINID compares the node's newest entry, deleted ones included as
    // Redis's lpGetEdgeStreamID does: for the tail node that is the last
    // generated ID (older nodes: their newest live entry).
    if (m.tail_count > 0 && node.node == m.tail_node) node.last = m.last_id;
    const bool whole = t.kind == Kind::kMaxLen
                           ? length - node.entries >= t.maxlen
                           : node.last < t.minid;
    int64_t n = node.entries;
    if (!whole) {
      if (t.approx) break;
      DAXKV_ASSIGN_OR_RETURN(n, PartialCount(txn, key, t, length));
      if (n <= 0) break;
    }
    uint64_t removed;
    DAXKV_ASSIGN_OR_RETURN(const uint64_t first, FirstEntryRank(txn, key));
    DAXKV_RETURN_IF_ERROR(txn.StreamEraseRanks(
        key, first, first + static_cast<uint64_t>(n), &removed));
    length -= n;
    deleted += n;
    if (!whole) break;
  }
  return deleted;
}

}  // namespace daxkv::kv
