// Streams in RDB (t_stream.c, rdb.c): RDB_TYPE_STREAM_LISTPACKS (15) and
// _2 (19, what Redis 7.0 saves). The body is a count of nodes, each a
// 16-byte big-endian master ID and a listpack, then the stream's length,
// last ID, (v2: first ID, max deleted ID, entries added), and its consumer
// groups (rdb/stream_groups.h).
//
// A node's listpack: the master entry (valid count, deleted count, master
// field count, the master fields, 0), then per entry its flags (1 deleted,
// 2 same fields as the master), ms and seq differences from the master ID,
// then either the values (same fields) or a field count and field/value
// pairs, and the entry's element count.
//
// Thread-safety: pure functions.
#ifndef DAXKV_RDB_STREAM_H_
#define DAXKV_RDB_STREAM_H_

#include <string>
#include <string_view>
#include <vector>

#include "rdb/output.h"
#include "rdb/value.h"

namespace daxkv::rdb {

// Redis 7.0's stream-node-max-entries and stream-node-max-bytes.
inline constexpr size_t kStreamNodeMaxEntries = 100;
inline constexpr size_t kStreamNodeMaxBytes = 4096;

// A stream ID as 16 big-endian bytes (the node keys; daxkv's element
// subkeys), and back (REQUIRES: 16 bytes).
std::string StreamIdBytes(StreamId id);
StreamId StreamIdFromBytes(std::string_view b);

// The body of `s` as type 19, nodes cut as streamAppendItem cuts them,
// then its groups. REQUIRES: CheckStreamGroups(s) is OK.
void EncodeStreamBody(const Stream& s, bool compress, ByteSink* out);

// Appends the live entries of one node (master key, listpack) to *out;
// false with *error on a malformed node.
bool ParseStreamNode(std::string_view key, std::string_view listpack,
                     std::vector<StreamEntry>* out, std::string* error);

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_STREAM_H_
