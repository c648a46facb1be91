#include "kv/stream_group_read.h"

#include "kv/stream_group_store.h"
#include "kv/stream_store.h"

namespace daxkv::kv {
namespace {

using engine::ReadOps;
using engine::Txn;

bool IsZero(StreamId id) { return id == StreamId{0, 0}; }

// streamRangeHasTombstones(s, start, NULL).
bool HasTombstonesFrom(const StreamFacts& f, StreamId start) {
  const StreamId max_deleted = f.meta.max_deleted;
  if (f.length == 0 || IsZero(max_deleted)) return false;
  if (max_deleted < f.first_id) return false;
  return start <= max_deleted;
}

}  // namespace

std::vector<std::string> XClaimEffect(std::string_view key,
                                      std::string_view group, StreamId id,
                                      const PendingState& p, StreamId last) {
  return {"XCLAIM",
          std::string(key),
          std::string(group),
          p.consumer,
          "0",
          FormatStreamId(id),
          "TIME",
          std::to_string(p.delivery_time_ms),
          "RETRYCOUNT",
          std::to_string(p.delivery_count),
          "FORCE",
          "JUSTID",
          "LASTID",
          FormatStreamId(last)};
}

namespace {

// The consumer's pending entries above a.after, each with its entry (or
// a null array when the entry was deleted); delivered ones count again.
Status ServeHistory(Txn& txn, const GroupReadArgs& a, ReplyWriter& out) {
  StreamId from = a.after;
  struct Item {
    StreamId id;
    PendingState p;
  };
  std::vector<Item> items;
  if (IncrStreamId(&from)) {
    DAXKV_RETURN_IF_ERROR(
        ForEachPending(txn, a.key, a.group, from, kMaxStreamId,
                       [&](StreamId id, const PendingState& p) {
                         if (p.consumer != a.consumer) return true;
                         items.push_back({id, p});
                         return a.count == 0 || items.size() < a.count;
                       }));
  }
  out.ArrayHeader(items.size());
  for (Item& item : items) {
    bool found = false;
    DAXKV_RETURN_IF_ERROR(
        ForEachStreamEntry(txn, a.key, item.id, item.id, false, 1,
                           [&](StreamId id, std::string_view v) {
                             ReplyStreamEntry(out, id, v);
                             found = true;
                             return false;
                           }));
    if (!found) {
      out.ArrayHeader(2);
      out.Bulk(FormatStreamId(item.id));
      out.NullArray();
      continue;
    }
    item.p.delivery_time_ms = a.now_ms;
    item.p.delivery_count++;
    DAXKV_RETURN_IF_ERROR(WritePending(txn, a.key, a.group, item.id, item.p));
  }
  return OkStatus();
}

// Entries above the group's last delivered ID, each advancing it and (but
// with NOACK) pending for the consumer.
Status ServeNew(Txn& txn, const GroupReadArgs& a, GroupState g,
                ReplyWriter& out,
                std::vector<std::vector<std::string>>* effects) {
  StreamFacts f;
  DAXKV_RETURN_IF_ERROR(ReadStreamFacts(txn, a.key, &f));
  std::vector<std::pair<StreamId, std::string>> entries;
  StreamId from = g.last_id;
  if (IncrStreamId(&from)) {
    DAXKV_RETURN_IF_ERROR(
        ForEachStreamEntry(txn, a.key, from, kMaxStreamId, false, a.count,
                           [&](StreamId id, std::string_view v) {
                             entries.emplace_back(id, std::string(v));
                             return true;
                           }));
  }
  out.ArrayHeader(entries.size());
  const PendingState pending{a.now_ms, 1, std::string(a.consumer)};
  for (const auto& [id, v] : entries) {
    if (g.entries_read != kUnknownEntriesRead && !HasTombstonesFrom(f, id)) {
      g.entries_read++;
    } else if (f.meta.entries_added != 0) {
      g.entries_read = EstimateEntriesRead(f, id);
    }
    g.last_id = id;
    ReplyStreamEntry(out, id, v);
    if (a.noack) continue;
    // A pending entry of this ID (the group's ID was set back) moves to
    // this consumer as a first delivery, as Redis reassigns it.
    DAXKV_RETURN_IF_ERROR(WritePending(txn, a.key, a.group, id, pending));
    effects->push_back(XClaimEffect(a.key, a.group, id, pending, g.last_id));
  }
  if (entries.empty()) return OkStatus();
  DAXKV_RETURN_IF_ERROR(WriteGroup(txn, a.key, a.group, g));
  if (a.noack) {
    effects->push_back({"XGROUP", "SETID", std::string(a.key),
                        std::string(a.group), FormatStreamId(g.last_id),
                        "ENTRIESREAD", std::to_string(g.entries_read)});
  }
  return OkStatus();
}

}  // namespace

Status ReadStreamFacts(ReadOps& ops, std::string_view key, StreamFacts* f) {
  DAXKV_RETURN_IF_ERROR(ReadStreamMeta(ops, key, &f->meta));
  DAXKV_ASSIGN_OR_RETURN(f->length, StreamLength(ops, key));
  f->first_id = {0, 0};
  return ForEachStreamEntry(ops, key, {0, 0}, kMaxStreamId, false, 1,
                            [&](StreamId id, std::string_view) {
                              f->first_id = id;
                              return false;
                            });
}

int64_t EstimateEntriesRead(const StreamFacts& f, StreamId id) {
  const auto added = static_cast<int64_t>(f.meta.entries_added);
  if (added == 0) return 0;
  if (f.length == 0 && id <= f.meta.last_id) return added;
  if (id == f.meta.last_id) return added;
  if (f.meta.last_id < id) return kUnknownEntriesRead;
  const StreamId max_deleted = f.meta.max_deleted;
  if (IsZero(max_deleted) || max_deleted < f.first_id) {
    const auto length = static_cast<int64_t>(f.length);
    if (id < f.first_id) return added - length;
    if (id == f.first_id) return added - length + 1;
  }
  return kUnknownEntriesRead;
}

std::optional<int64_t> GroupLag(const StreamFacts& f, const GroupState& g) {
  const auto added = static_cast<int64_t>(f.meta.entries_added);
  if (added == 0) return 0;
  if (g.entries_read != kUnknownEntriesRead &&
      !HasTombstonesFrom(f, g.last_id)) {
    return added - g.entries_read;
  }
  const int64_t read = EstimateEntriesRead(f, g.last_id);
  if (read == kUnknownEntriesRead) return std::nullopt;
  return added - read;
}

Status GroupHasNew(ReadOps& ops, std::string_view key, const GroupState& g,
                   bool* has_new) {
  *has_new = false;
  return ForEachStreamEntry(ops, key, {0, 0}, kMaxStreamId, true, 1,
                            [&](StreamId id, std::string_view) {
                              *has_new = g.last_id < id;
                              return false;
                            });
}

Status ServeGroupRead(Txn& txn, const GroupReadArgs& a, ReplyWriter& out,
                      std::vector<std::vector<std::string>>* effects) {
  GroupState g;
  bool found;
  DAXKV_RETURN_IF_ERROR(ReadGroup(txn, a.key, a.group, &g, &found));
  if (!found) return NotFoundError("no such group");
  ConsumerState c;
  DAXKV_RETURN_IF_ERROR(
      ReadConsumer(txn, a.key, a.group, a.consumer, &c, &found));
  // A consumer is created, or its seen time refreshed, by every read
  // that serves it.
  DAXKV_RETURN_IF_ERROR(
      WriteConsumer(txn, a.key, a.group, a.consumer, {a.now_ms}));
  if (!found && a.noack) {
    effects->push_back({"XGROUP", "CREATECONSUMER", std::string(a.key),
                        std::string(a.group), std::string(a.consumer)});
  }
  if (a.history) return ServeHistory(txn, a, out);
  return ServeNew(txn, a, g, out, effects);
}

}  // namespace daxkv::kv
