// Consumer groups in the engine (docs/collections.md, "Consumer groups"):
// how a stream's groups, their consumers and their pending entries are
// laid out as elements of the stream's collection, beside its entries.
//   * Every group-state subkey starts with 16 zero bytes. Entry IDs are at
//     least 0-1, so these elements sort after the metadata element ("")
//     and before every entry: an entry range never meets them, and the
//     first entry's rank is the number of group-state elements plus one.
//   * group    : Z16 'G' name                  -> last_id, entries_read
//   * consumer : Z16 'C' u32be(|group|) group name  -> seen_time
//   * pending  : Z16 'P' u32be(|group|) group id(16 BE)
//                -> delivery_time, delivery_count, consumer
//     The group's name is length-prefixed so that one group's consumers and
//     pending entries are one contiguous subkey range, in name and ID order.
// Values are little-endian; decoding rejects a wrong size.
#ifndef DAXKV_KV_STREAM_GROUP_CODEC_H_
#define DAXKV_KV_STREAM_GROUP_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "kv/stream_codec.h"

namespace daxkv::kv {

// Redis's SCG_INVALID_ENTRIES_READ.
inline constexpr int64_t kUnknownEntriesRead = -1;

struct GroupState {
  StreamId last_id;
  int64_t entries_read = kUnknownEntriesRead;
};

struct ConsumerState {
  int64_t seen_time_ms = 0;
};

struct PendingState {
  int64_t delivery_time_ms = 0;
  uint64_t delivery_count = 0;
  std::string consumer;
};

// The subkey that every group-state subkey starts with, and one that sorts
// after all of them and before every entry.
std::string_view GroupStatePrefix();
std::string GroupStateEnd();

std::string GroupSubkey(std::string_view group);
// Every group's subkeys start with GroupsPrefix(); the name follows it.
std::string GroupsPrefix();
std::string ConsumerPrefix(std::string_view group);
std::string ConsumerSubkey(std::string_view group, std::string_view consumer);
std::string PendingPrefix(std::string_view group);
std::string PendingSubkey(std::string_view group, StreamId id);

std::string EncodeGroupState(const GroupState& g);
bool DecodeGroupState(std::string_view v, GroupState* g);
std::string EncodeConsumerState(const ConsumerState& c);
bool DecodeConsumerState(std::string_view v, ConsumerState* c);
std::string EncodePendingState(const PendingState& p);
bool DecodePendingState(std::string_view v, PendingState* p);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_STREAM_GROUP_CODEC_H_
