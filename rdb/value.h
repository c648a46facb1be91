// The engine-independent model of a Redis value, as the RDB codec reads and
// writes it: a string, a list of strings, a set of strings, a hash (field ->
// value), a sorted set (member -> score) or a stream with its consumer
// groups, plus an optional expiry.
//
// Invariants (Decode guarantees them; Encode REQUIRES them):
//  - sets, hashes and sorted sets hold no duplicate member / field;
//  - no collection is empty (Redis deletes a key with its last element),
//    except streams, which Redis keeps empty;
//  - no score is NaN;
//  - a stream's groups, each group's consumers (by name bytes) and pending
//    entries (by ID) are strictly ascending, and every pending entry names
//    a consumer of its group (Encode checks this: CheckStreamGroups).
// Element order: a list is in list order; the order of a set, hash or sorted
// set carries no meaning (Canonicalize() sorts them for comparisons).
//
// Thread-safety: plain values.
#ifndef DAXKV_RDB_VALUE_H_
#define DAXKV_RDB_VALUE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace daxkv::rdb {

struct List {
  std::vector<std::string> elements;
  bool operator==(const List&) const = default;
};

struct Set {
  std::vector<std::string> members;
  bool operator==(const Set&) const = default;
};

struct Hash {
  std::vector<std::pair<std::string, std::string>> fields;  // field, value
  bool operator==(const Hash&) const = default;
};

struct ZsetEntry {
  std::string member;
  double score = 0;
  bool operator==(const ZsetEntry&) const = default;
};

struct Zset {
  std::vector<ZsetEntry> entries;
  bool operator==(const Zset&) const = default;
};

struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;
  bool operator==(const StreamId&) const = default;
};

struct StreamEntry {
  StreamId id;
  std::vector<std::string> fields;  // field, value, field, value, ...
  bool operator==(const StreamEntry&) const = default;
};

// One pending (delivered, not acknowledged) entry of a consumer group:
// Redis's streamNACK, with the consumer that holds it.
struct StreamPending {
  StreamId id;
  int64_t delivery_time_ms = 0;  // Unix ms of the last delivery
  uint64_t delivery_count = 0;
  std::string consumer;
  bool operator==(const StreamPending&) const = default;
};

// A consumer of a group; the entries it holds are the group's pending
// entries that name it.
struct StreamConsumer {
  std::string name;
  int64_t seen_time_ms = 0;
  bool operator==(const StreamConsumer&) const = default;
};

// A consumer group (Redis 7.0's streamCG). entries_read -1: unknown
// (Redis's SCG_INVALID_ENTRIES_READ); a group read from type 15, which has
// no such field, gets Redis 7.0's estimate (rdb/stream_groups.h).
struct StreamGroup {
  std::string name;
  StreamId last_id;
  int64_t entries_read = -1;
  std::vector<StreamPending> pending;     // ascending ID
  std::vector<StreamConsumer> consumers;  // ascending name (bytes)
  bool operator==(const StreamGroup&) const = default;
};

// A stream: its entries in ID order, the metadata Redis keeps and its
// consumer groups (ascending name). May be empty.
struct Stream {
  std::vector<StreamEntry> entries;
  StreamId last_id;
  StreamId max_deleted;
  uint64_t entries_added = 0;
  std::vector<StreamGroup> groups;
  bool operator==(const Stream&) const = default;
};

// A string value is its bytes.
using Value = std::variant<std::string, List, Set, Hash, Zset, Stream>;

// A key's value with its expiry: an absolute Unix time in milliseconds, as
// Redis stores it (EXPIRETIME_MS), or none.
struct Object {
  Value value;
  std::optional<int64_t> expire_ms;
  bool operator==(const Object&) const = default;
};

enum class ValueKind { kString, kList, kSet, kHash, kZset, kStream };

inline ValueKind KindOf(const Value& v) {
  return static_cast<ValueKind>(v.index());
}

// Redis's TYPE reply for the kind: "string", "list", "set", "hash", "zset".
std::string_view KindName(ValueKind kind);

// Number of elements (1 for a string; a stream's entries).
size_t ElementCount(const Value& v);

// Sorts the members of a set, the fields of a hash and the entries of a
// sorted set (by member), so that two values with the same contents compare
// equal with ==. Lists are left alone: their order is their contents.
void Canonicalize(Value* v);

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_VALUE_H_
