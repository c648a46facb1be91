#include "rdb/stream_groups.h"

#include <algorithm>
#include <numeric>
#include <string_view>
#include <utility>

#include "rdb/stream.h"

namespace daxkv::rdb {
namespace {

bool IdLess(StreamId a, StreamId b) {
  return a.ms != b.ms ? a.ms < b.ms : a.seq < b.seq;
}

// The index of `id` in the ascending `pending`, or pending.size().
size_t FindPending(const std::vector<StreamPending>& pending, StreamId id) {
  auto it = std::lower_bound(
      pending.begin(), pending.end(), id,
      [](const StreamPending& p, StreamId x) { return IdLess(p.id, x); });
  return it != pending.end() && it->id == id
             ? static_cast<size_t>(it - pending.begin())
             : pending.size();
}

bool HasConsumer(const std::vector<StreamConsumer>& consumers,
                 const std::string& name) {
  auto it = std::lower_bound(
      consumers.begin(), consumers.end(), name,
      [](const StreamConsumer& c, const std::string& n) { return c.name < n; });
  return it != consumers.end() && it->name == name;
}

Status CheckGroup(const StreamGroup& g) {
  for (size_t i = 1; i < g.pending.size(); ++i) {
    if (!IdLess(g.pending[i - 1].id, g.pending[i].id)) {
      return InvalidArgumentError(
          "a consumer group's pending entries are not in ascending ID "
          "order, or repeat an ID");
    }
  }
  for (size_t i = 1; i < g.consumers.size(); ++i) {
    if (!(g.consumers[i - 1].name < g.consumers[i].name)) {
      return InvalidArgumentError(
          "a consumer group's consumers are not in ascending name order, or "
          "repeat a name");
    }
  }
  for (const StreamPending& p : g.pending) {
    if (!HasConsumer(g.consumers, p.consumer)) {
      return InvalidArgumentError(
          "a pending entry names a consumer its group does not have");
    }
  }
  return OkStatus();
}

void WriteIdBytes(ByteSink* out, StreamId id) {
  out->Append(StreamIdBytes(id));
}

// Signed milliseconds as rdbSaveMillisecondTime writes them.
void WriteMillis(ByteSink* out, int64_t ms) {
  WriteU64LE(out, static_cast<uint64_t>(ms));
}

void EncodeGroup(const StreamGroup& g, bool compress, ByteSink* out) {
  WriteString(out, g.name, compress);
  WriteLen(out, g.last_id.ms);
  WriteLen(out, g.last_id.seq);
  // rdbSaveLen takes a uint64_t: -1 (unknown) becomes 2^64-1, and the
  // loader's long long turns it back.
  WriteLen(out, static_cast<uint64_t>(g.entries_read));
  WriteLen(out, g.pending.size());
  for (const StreamPending& p : g.pending) {
    WriteIdBytes(out, p.id);
    WriteMillis(out, p.delivery_time_ms);
    WriteLen(out, p.delivery_count);
  }
  // Pending entries by consumer, each consumer's in ID order (the sort is
  // stable over an ID-ordered list): one run per consumer, in the
  // consumers' order, since both are by name.
  std::vector<size_t> by_owner(g.pending.size());
  std::iota(by_owner.begin(), by_owner.end(), size_t{0});
  std::stable_sort(by_owner.begin(), by_owner.end(), [&g](size_t a, size_t b) {
    return g.pending[a].consumer < g.pending[b].consumer;
  });
  WriteLen(out, g.consumers.size());
  size_t next = 0;
  for (const StreamConsumer& c : g.consumers) {
    WriteString(out, c.name, compress);
    WriteMillis(out, c.seen_time_ms);
    size_t end = next;
    while (end < by_owner.size() &&
           g.pending[by_owner[end]].consumer == c.name) {
      ++end;
    }
    WriteLen(out, end - next);
    for (; next < end; ++next) WriteIdBytes(out, g.pending[by_owner[next]].id);
  }
}

}  // namespace

Status CheckStreamGroups(const Stream& s) {
  for (size_t i = 0; i < s.groups.size(); ++i) {
    if (i > 0 && !(s.groups[i - 1].name < s.groups[i].name)) {
      return InvalidArgumentError(
          "a stream's consumer groups are not in ascending name order, or "
          "repeat a name");
    }
    DAXKV_RETURN_IF_ERROR(CheckGroup(s.groups[i]));
  }
  return OkStatus();
}

void EncodeStreamGroups(const Stream& s, bool compress, ByteSink* out) {
  WriteLen(out, s.groups.size());
  for (const StreamGroup& g : s.groups) EncodeGroup(g, compress, out);
}

// Redis 7.0.15's streamEstimateDistanceFromFirstEverEntry, with the
// stream's first ID its first live entry's (what its type-15 loader
// records).
int64_t EstimateEntriesRead(const Stream& s, StreamId id) {
  constexpr int64_t kUnknown = -1;  // SCG_INVALID_ENTRIES_READ
  if (s.entries_added == 0) return 0;
  const auto added = static_cast<int64_t>(s.entries_added);
  if (s.entries.empty()) return IdLess(s.last_id, id) ? kUnknown : added;
  if (id == s.last_id) return added;
  if (IdLess(s.last_id, id)) return kUnknown;
  const StreamId first = s.entries.front().id;
  const bool no_tombstones_ahead =
      s.max_deleted == StreamId{} || IdLess(s.max_deleted, first);
  if (no_tombstones_ahead) {
    const auto length = static_cast<int64_t>(s.entries.size());
    if (IdLess(id, first)) return added - length;
    if (id == first) return added - length + 1;
  }
  return kUnknown;
}

void StreamGroupReader::Start(uint64_t count, bool with_entries_read) {
  state_ = count == 0 ? State::kDone : State::kGroup;
  with_entries_read_ = with_entries_read;
  groups_left_ = count;
  nacks_left_ = consumers_left_ = ids_left_ = 0;
  held_.clear();
  held_count_ = 0;
  has_prev_held_ = false;
}

Rd StreamGroupReader::Step(Input* in, Stream* s, std::string* why) {
  why->clear();
  switch (state_) {
    case State::kGroup:
      return ReadGroup(in, s, why);
    case State::kNack:
      return ReadNack(in, &s->groups.back(), why);
    case State::kConsumerCount: {
      uint64_t count;
      DAXKV_RD(in->Len(&count));
      consumers_left_ = count;
      if (count == 0) return EndGroup(s->groups.back(), why);
      state_ = State::kConsumer;
      return Rd::kOk;
    }
    case State::kConsumer:
      return ReadConsumer(in, &s->groups.back(), why);
    case State::kConsumerPel:
      return ReadConsumerPelId(in, &s->groups.back(), why);
    case State::kDone:
      break;
  }
  return Rd::kOk;
}

Rd StreamGroupReader::ReadGroup(Input* in, Stream* s, std::string* why) {
  StreamGroup g;
  uint64_t entries_read = 0, nacks;
  DAXKV_RD(in->String(&g.name));
  DAXKV_RD(in->Len(&g.last_id.ms));
  DAXKV_RD(in->Len(&g.last_id.seq));
  if (with_entries_read_) DAXKV_RD(in->Len(&entries_read));
  DAXKV_RD(in->Len(&nacks));
  if (!s->groups.empty() && !(s->groups.back().name < g.name)) {
    *why = s->groups.back().name == g.name
               ? "duplicate consumer group name"
               : "consumer groups out of name order";
    return Rd::kBad;
  }
  // Redis reads a long long: 2^64-1 is -1 (unknown); the cast is
  // one-to-one, so any other value survives a round trip too.
  g.entries_read = with_entries_read_ ? static_cast<int64_t>(entries_read)
                                      : EstimateEntriesRead(*s, g.last_id);
  s->groups.push_back(std::move(g));
  nacks_left_ = nacks;
  held_.clear();
  held_count_ = 0;
  state_ = nacks > 0 ? State::kNack : State::kConsumerCount;
  return Rd::kOk;
}

Rd StreamGroupReader::ReadNack(Input* in, StreamGroup* g, std::string* why) {
  std::string_view raw;
  uint64_t time, count;
  DAXKV_RD(in->Bytes(16, &raw));
  DAXKV_RD(in->FixedLE(8, &time));
  DAXKV_RD(in->Len(&count));
  StreamPending p;
  p.id = StreamIdFromBytes(raw);
  p.delivery_time_ms = static_cast<int64_t>(time);
  p.delivery_count = count;
  if (!g->pending.empty() && !IdLess(g->pending.back().id, p.id)) {
    *why = g->pending.back().id == p.id
               ? "duplicate ID in a consumer group's PEL"
               : "consumer group PEL out of ID order";
    return Rd::kBad;
  }
  g->pending.push_back(std::move(p));
  held_.push_back(false);
  if (--nacks_left_ == 0) state_ = State::kConsumerCount;
  return Rd::kOk;
}

Rd StreamGroupReader::ReadConsumer(Input* in, StreamGroup* g,
                                   std::string* why) {
  StreamConsumer c;
  uint64_t seen, ids;
  DAXKV_RD(in->String(&c.name));
  DAXKV_RD(in->FixedLE(8, &seen));
  DAXKV_RD(in->Len(&ids));
  if (!g->consumers.empty() && !(g->consumers.back().name < c.name)) {
    *why = g->consumers.back().name == c.name
               ? "duplicate consumer name in a group"
               : "a group's consumers out of name order";
    return Rd::kBad;
  }
  c.seen_time_ms = static_cast<int64_t>(seen);
  g->consumers.push_back(std::move(c));
  ids_left_ = ids;
  has_prev_held_ = false;
  if (ids == 0) return EndConsumer(*g, why);
  state_ = State::kConsumerPel;
  return Rd::kOk;
}

Rd StreamGroupReader::ReadConsumerPelId(Input* in, StreamGroup* g,
                                        std::string* why) {
  std::string_view raw;
  DAXKV_RD(in->Bytes(16, &raw));
  const size_t i = FindPending(g->pending, StreamIdFromBytes(raw));
  if (i == g->pending.size()) {
    *why = "a consumer's PEL entry is not in its group's PEL";
    return Rd::kBad;
  }
  if (has_prev_held_ && i <= prev_held_) {
    *why = "a consumer's PEL out of ID order, or repeating an ID";
    return Rd::kBad;
  }
  if (held_[i]) {
    *why = "a PEL entry held by two consumers";
    return Rd::kBad;
  }
  held_[i] = true;
  ++held_count_;
  g->pending[i].consumer = g->consumers.back().name;
  prev_held_ = i;
  has_prev_held_ = true;
  return --ids_left_ > 0 ? Rd::kOk : EndConsumer(*g, why);
}

Rd StreamGroupReader::EndConsumer(const StreamGroup& g, std::string* why) {
  if (--consumers_left_ > 0) {
    state_ = State::kConsumer;
    return Rd::kOk;
  }
  return EndGroup(g, why);
}

Rd StreamGroupReader::EndGroup(const StreamGroup& g, std::string* why) {
  if (held_count_ != g.pending.size()) {
    *why = "a consumer group PEL entry held by no consumer";
    return Rd::kBad;
  }
  state_ = --groups_left_ > 0 ? State::kGroup : State::kDone;
  return Rd::kOk;
}

}  // namespace daxkv::rdb
