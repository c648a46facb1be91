// Streams in the engine (docs/collections.md, "Streams"): how the kv layer
// lays a Redis stream out as the elements of an engine stream collection.
//   * An entry is the element whose subkey is its ID, 16 bytes big-endian
//     (ms, then seq), so subkey order is ID order; its value is
//     [u64 node][u32 index in node][u32 count] then count strings, each
//     [u32 length][bytes] (field, value, field, value, ...), little-endian.
//     `node` and `index` model Redis's listpack nodes (stream-node-max-
//     entries), which approximate (`~`) trimming removes whole.
//   * The metadata element has the empty subkey (it sorts first and keeps
//     an emptied stream alive): last generated ID, entries added, max
//     deleted entry ID, tail node, tail node count, next node id, as eight
//     u64s, written in the same Txn as the entries, so it never goes
//     backwards after a crash.
#ifndef DAXKV_KV_STREAM_CODEC_H_
#define DAXKV_KV_STREAM_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace daxkv::kv {

struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;
  friend bool operator<(StreamId a, StreamId b) {
    return a.ms != b.ms ? a.ms < b.ms : a.seq < b.seq;
  }
  friend bool operator==(StreamId a, StreamId b) {
    return a.ms == b.ms && a.seq == b.seq;
  }
  friend bool operator<=(StreamId a, StreamId b) { return !(b < a); }
};

inline constexpr StreamId kMaxStreamId{~uint64_t{0}, ~uint64_t{0}};

// "ms-seq".
std::string FormatStreamId(StreamId id);
// Redis's streamIncrID / streamDecrID: false on overflow.
bool IncrStreamId(StreamId* id);
bool DecrStreamId(StreamId* id);

// Redis's streamGenericParseIDOrReply: "-", "+" (unless strict), "ms",
// "ms-seq" (missing seq: `missing_seq`), and with seq_given non-null the
// XADD form "ms-*" (*seq_given false).
bool ParseStreamId(std::string_view s, uint64_t missing_seq, bool strict,
                   StreamId* id, bool* seq_given = nullptr);

// Redis's streamParseIntervalIDOrReply: "(" makes the bound exclusive.
bool ParseIntervalId(std::string_view s, uint64_t missing_seq, StreamId* id,
                     bool* exclusive);
// What Redis's "%s" prints of an argument in an error: up to its first NUL.
inline std::string CString(std::string_view s) {
  return std::string(s.substr(0, s.find('\0')));
}

inline constexpr std::string_view kErrInvalidId =
    "ERR Invalid stream ID specified as stream command argument";

std::string StreamIdKey(StreamId id);
StreamId StreamIdFromKey(std::string_view key);  // REQUIRES: 16 bytes

struct StreamMeta {
  StreamId last_id;
  uint64_t entries_added = 0;
  StreamId max_deleted;
  // Redis's node model: the newest node (its id, and how many entries were
  // appended to it, deleted ones included; 0: none) and the next node id.
  uint64_t tail_node = 0;
  uint64_t tail_count = 0;
  uint64_t next_node = 0;
};
std::string EncodeStreamMeta(const StreamMeta& m);
bool DecodeStreamMeta(std::string_view v, StreamMeta* m);

// Redis's listpack node bounds (stream-node-max-entries).
inline constexpr uint32_t kStreamNodeMaxEntries = 100;

struct StreamEntryPos {
  uint64_t node = 0;   // its node's id (StreamMeta::next_node when made)
  uint32_t index = 0;  // its append index in the node (deleted ones count)
};
std::string EncodeStreamEntry(StreamEntryPos pos,
                              const std::vector<std::string_view>& fields);
bool DecodeStreamEntry(std::string_view v, StreamEntryPos* pos,
                       std::vector<std::string_view>* fields);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_STREAM_CODEC_H_
