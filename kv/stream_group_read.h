// XREADGROUP's work on one stream (Redis 7.0's streamReplyWithRange with a
// group, and streamReplyWithRangeFromConsumerPEL): shared by the command
// (kv/cmd_stream_read.cc) and, for a client that blocked, by the write that
// serves it (kv/block_serve.cc).
//
// Durability: the pending entries, the group's last ID and read counter and
// the consumer's seen time are written into the caller's Txn, so the
// delivery and the group state that records it commit in one batch before
// the reply leaves.
#ifndef DAXKV_KV_STREAM_GROUP_READ_H_
#define DAXKV_KV_STREAM_GROUP_READ_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/txn.h"
#include "kv/resp_writer.h"
#include "kv/stream_group_codec.h"

namespace daxkv::kv {

// What Redis's lag arithmetic reads of a stream.
struct StreamFacts {
  StreamMeta meta;
  uint64_t length = 0;
  StreamId first_id;  // 0-0 when empty
};
Status ReadStreamFacts(engine::ReadOps& ops, std::string_view key,
                       StreamFacts* f);
// streamEstimateDistanceFromFirstEverEntry: the read counter of `id`, or
// kUnknownEntriesRead.
int64_t EstimateEntriesRead(const StreamFacts& f, StreamId id);
// streamReplyWithCGLag: the group's lag, or none when it cannot be known.
std::optional<int64_t> GroupLag(const StreamFacts& f, const GroupState& g);

// Commands in Redis's propagation form.
using GroupEffects = std::vector<std::vector<std::string>>;

// The XCLAIM that replays a delivery or claim of `id` (now as `p`) on a
// replica: XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID
// LASTID last.
std::vector<std::string> XClaimEffect(std::string_view key,
                                      std::string_view group, StreamId id,
                                      const PendingState& p, StreamId last);

struct GroupReadArgs {
  std::string_view key;
  std::string_view group;
  std::string_view consumer;
  bool history = false;  // an explicit ID: the consumer's pending entries
  StreamId after;        // history: entries above it
  uint64_t count = 0;    // 0: no limit
  bool noack = false;
  int64_t now_ms = 0;
};

// Whether a ">" read of the stream would deliver anything now: its last
// live entry is above the group's last delivered ID.
Status GroupHasNew(engine::ReadOps& ops, std::string_view key,
                   const GroupState& g, bool* has_new);

// Serves one stream to the consumer (created when absent), writing its
// entries array into `out` and the replication effects Redis propagates
// (XCLAIM per delivery, XGROUP SETID / CREATECONSUMER with NOACK) into
// *effects. REQUIRES: the stream and the group exist.
Status ServeGroupRead(engine::Txn& txn, const GroupReadArgs& a,
                      ReplyWriter& out,
                      std::vector<std::vector<std::string>>* effects);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_STREAM_GROUP_READ_H_
