// Consumer-group state over the engine (kv/stream_group_codec.h has the
// layout): the reads and writes the group commands share
// (kv/cmd_stream_group.cc, cmd_stream_claim.cc, cmd_stream_read.cc).
//
// Durability: every write goes into the caller's Txn, so a command's group
// changes (a delivery's pending entries and the group's last ID, an
// acknowledgement, a claim) commit as one batch with each other and are
// durable before the reply, as every write is.
//
// Cost: groups, consumers and pending entries are elements of the stream's
// collection, found in O(log n) through its ordered index. A consumer's own
// pending entries (XREADGROUP's history, XPENDING's consumer filter,
// DELCONSUMER) and per-consumer counts are found by walking the group's
// pending entries: O(pending of the group).
#ifndef DAXKV_KV_STREAM_GROUP_STORE_H_
#define DAXKV_KV_STREAM_GROUP_STORE_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/function_ref.h"
#include "base/status.h"
#include "base/statusor.h"
#include "engine/txn.h"
#include "kv/stream_group_codec.h"
#include "rdb/value.h"

namespace daxkv::kv {

// The rank of the stream's first entry: the metadata element and every
// group-state element come first (0 when the key is absent).
StatusOr<uint64_t> FirstEntryRank(engine::ReadOps& ops, std::string_view key);

// Reads: *found false (and the state untouched) when absent.
Status ReadGroup(engine::ReadOps& ops, std::string_view key,
                 std::string_view group, GroupState* g, bool* found);
Status ReadConsumer(engine::ReadOps& ops, std::string_view key,
                    std::string_view group, std::string_view consumer,
                    ConsumerState* c, bool* found);
Status ReadPending(engine::ReadOps& ops, std::string_view key,
                   std::string_view group, StreamId id, PendingState* p,
                   bool* found);

// Walks in name (ID) order; fn returns false to stop.
using GroupFn = FunctionRef<bool(std::string_view name, const GroupState&)>;
Status ForEachGroup(engine::ReadOps& ops, std::string_view key,
                    const GroupFn& fn);
using ConsumerFn =
    FunctionRef<bool(std::string_view name, const ConsumerState&)>;
Status ForEachConsumer(engine::ReadOps& ops, std::string_view key,
                       std::string_view group, const ConsumerFn& fn);
// The group's pending entries with IDs in [from, to].
using PendingFn = FunctionRef<bool(StreamId id, const PendingState&)>;
Status ForEachPending(engine::ReadOps& ops, std::string_view key,
                      std::string_view group, StreamId from, StreamId to,
                      const PendingFn& fn);

// Writes (insert or replace) and deletes, in the caller's Txn. The stream
// must exist.
Status WriteGroup(engine::Txn& txn, std::string_view key,
                  std::string_view group, const GroupState& g);
Status WriteConsumer(engine::Txn& txn, std::string_view key,
                     std::string_view group, std::string_view consumer,
                     const ConsumerState& c);
Status WritePending(engine::Txn& txn, std::string_view key,
                    std::string_view group, StreamId id, const PendingState& p);
Status DeletePending(engine::Txn& txn, std::string_view key,
                     std::string_view group, StreamId id, bool* existed);
// Removes the consumer and its pending entries; *pending: how many.
Status DeleteConsumer(engine::Txn& txn, std::string_view key,
                      std::string_view group, std::string_view consumer,
                      int64_t* pending);
// Removes the group, its consumers and its pending entries.
Status DestroyGroup(engine::Txn& txn, std::string_view key,
                    std::string_view group);

// Every group as the RDB codec models them (DUMP, full sync), and back:
// writes `groups` into the existing stream `key`.
Status ReadGroupsValue(engine::ReadOps& ops, std::string_view key,
                       std::vector<rdb::StreamGroup>* groups);
Status WriteGroupsValue(engine::Txn& txn, std::string_view key,
                        const std::vector<rdb::StreamGroup>& groups);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_STREAM_GROUP_STORE_H_
