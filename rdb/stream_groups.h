// A stream's consumer groups in RDB, as Redis 7.0's rdbSaveObject and
// rdbLoadObject write and read them after the stream's trailer:
//
//   group count (len), then per group in name order (its rax order):
//     name (string), last ID ms, seq (lens),
//     entries_read (len; type 19 only: rdbSaveLen of a long long, so -1
//       is the len 2^64-1, 0x81 + eight 0xFF bytes; type 15 has none and
//       Redis 7.0 estimates it, see below),
//     the global PEL: count (len), per NACK in ID order its 16-byte
//       big-endian ID (raw), delivery time (8 bytes, little-endian ms)
//       and delivery count (len),
//     consumers: count (len), per consumer in name order its name
//       (string), seen time (8 bytes, little-endian ms) and its own PEL:
//       count (len) and the 16-byte IDs, in ID order, of the global PEL's
//       NACKs it holds.
//
// Thread-safety: pure functions; a reader is used by one thread at a time.
#ifndef DAXKV_RDB_STREAM_GROUPS_H_
#define DAXKV_RDB_STREAM_GROUPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "rdb/input.h"
#include "rdb/output.h"
#include "rdb/value.h"

namespace daxkv::rdb {

// InvalidArgument unless s.groups holds value.h's invariants: groups,
// each group's consumers by ascending name, pending entries by ascending
// ID, no duplicates, and every pending entry naming one of its group's
// consumers (RDB stores a NACK's owner only as that consumer's PEL).
Status CheckStreamGroups(const Stream& s);

// Writes the group count and the groups (type 19).
// REQUIRES: CheckStreamGroups(s) is OK.
void EncodeStreamGroups(const Stream& s, bool compress, ByteSink* out);

// The entries_read Redis 7.0 gives a group loaded from type 15 (which
// has none): streamEstimateDistanceFromFirstEverEntry(s, group's last ID),
// where its loader has set entries_added to the length and the max deleted
// ID to 0-0. For such a stream: 0 below the first entry, 1 at it, the
// length at the last ID, else -1 (unknown).
int64_t EstimateEntriesRead(const Stream& s, StreamId id);

// Reads the groups into a Stream one small unit at a time (a group's
// header, one NACK, a consumer count, a consumer's header, one consumer
// PEL ID), so that the resumable decoder never holds more than one of
// them unfinished however large a PEL is.
//
// Everything Redis 7.0 refuses is refused (duplicate group or consumer
// names, duplicate PEL IDs, a consumer PEL ID missing from the global
// PEL), and what its deep sanitisation refuses (a NACK no consumer
// holds), plus what it would accept but the model cannot hold without
// loss: a NACK held by two consumers, and names or IDs out of the order
// Redis writes them in.
class StreamGroupReader {
 public:
  // `count` groups follow in `s`'s body; `with_entries_read`: type 19.
  void Start(uint64_t count, bool with_entries_read);
  bool done() const { return state_ == State::kDone; }

  // Reads one unit into *s. kOk: it is consumed; kShort: nothing changed
  // (rewind and call again with more bytes); kBad: the input is malformed,
  // *why says how unless `in` already said (then *why is empty).
  Rd Step(Input* in, Stream* s, std::string* why);

 private:
  enum class State {
    kGroup,
    kNack,
    kConsumerCount,
    kConsumer,
    kConsumerPel,
    kDone,
  };

  Rd ReadGroup(Input* in, Stream* s, std::string* why);
  Rd ReadNack(Input* in, StreamGroup* g, std::string* why);
  Rd ReadConsumer(Input* in, StreamGroup* g, std::string* why);
  Rd ReadConsumerPelId(Input* in, StreamGroup* g, std::string* why);
  // A consumer's PEL is complete: on to the next consumer or group.
  Rd EndConsumer(const StreamGroup& g, std::string* why);
  // A group's consumers are complete: every NACK must have an owner.
  Rd EndGroup(const StreamGroup& g, std::string* why);

  State state_ = State::kDone;
  bool with_entries_read_ = true;
  uint64_t groups_left_ = 0;
  uint64_t nacks_left_ = 0;
  uint64_t consumers_left_ = 0;
  uint64_t ids_left_ = 0;
  // Per pending entry of the current group: held by a consumer yet.
  std::vector<bool> held_;
  size_t held_count_ = 0;
  // The current consumer's previous PEL entry (an index into pending),
  // or none yet.
  size_t prev_held_ = 0;
  bool has_prev_held_ = false;
};

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_STREAM_GROUPS_H_
