// Stream reads and trims over the engine (kv/stream_codec.h has the
// layout): shared by the stream commands (kv/cmd_stream*.cc).
#ifndef DAXKV_KV_STREAM_STORE_H_
#define DAXKV_KV_STREAM_STORE_H_

#include <cstdint>
#include <functional>
#include <string_view>

#include "base/status.h"
#include "base/statusor.h"
#include "engine/txn.h"
#include "kv/resp_writer.h"
#include "kv/stream_codec.h"
#include "rdb/value.h"

namespace daxkv::kv {

// The stream's metadata; NotFound when the key is absent, WRONGTYPE when
// it is not a stream.
Status ReadStreamMeta(engine::ReadOps& ops, std::string_view key,
                      StreamMeta* m);
// Writes the metadata element (creating the stream when `create`).
Status WriteStreamMeta(engine::Txn& txn, std::string_view key,
                       const StreamMeta& m, bool create = false);

// Entries with IDs in [from, to], ascending (descending when `reverse`),
// at most `count` (0: all); fn returns false to stop.
using StreamEntryFn = std::function<bool(StreamId id, std::string_view value)>;
Status ForEachStreamEntry(engine::ReadOps& ops, std::string_view key,
                          StreamId from, StreamId to, bool reverse,
                          uint64_t count, const StreamEntryFn& fn);
// The entries' count (XLEN): 0 when absent.
StatusOr<uint64_t> StreamLength(engine::ReadOps& ops, std::string_view key);

// One entry as Redis replies it: [id, [field, value, ...]].
void ReplyStreamEntry(ReplyWriter& out, StreamId id, std::string_view value);

// The stream as the RDB codec models it (DUMP, COPY across the codec),
// and back: writes the entries and the metadata of `value` into `key`
// (absent: created, even when it has no entries).
StatusOr<rdb::Stream> ReadStreamValue(engine::ReadOps& ops,
                                      std::string_view key);
Status WriteStreamValue(engine::Txn& txn, std::string_view key,
                        const rdb::Stream& value);

// XADD's and XTRIM's trimming (Redis 7.0 streamTrim): MAXLEN or MINID,
// exact or `~` (whole nodes only, at most `limit` entries; 0: no limit).
struct StreamTrimArgs {
  enum class Kind { kNone, kMaxLen, kMinId } kind = Kind::kNone;
  bool approx = false;
  int64_t maxlen = 0;
  StreamId minid;
  int64_t limit = 0;
};
StatusOr<int64_t> TrimStream(engine::Txn& txn, std::string_view key,
                             const StreamTrimArgs& t);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_STREAM_STORE_H_
