#include "kv/stream_group_codec.h"

namespace daxkv::kv {
namespace {

constexpr char kZeros[16] = {};
constexpr char kGroupTag = 'G';
constexpr char kConsumerTag = 'C';
constexpr char kPendingTag = 'P';

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(p[i]);
  return v;
}

std::string Tagged(char tag) {
  std::string s(kZeros, sizeof(kZeros));
  s.push_back(tag);
  return s;
}

// Z16 tag u32be(|group|) group.
std::string GroupScoped(char tag, std::string_view group) {
  std::string s = Tagged(tag);
  const auto n = static_cast<uint32_t>(group.size());
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>(n >> (8 * i)));
  s.append(group);
  return s;
}

}  // namespace

std::string_view GroupStatePrefix() {
  return std::string_view(kZeros, sizeof(kZeros));
}

std::string GroupStateEnd() { return Tagged('\xff'); }

std::string GroupsPrefix() { return Tagged(kGroupTag); }

std::string GroupSubkey(std::string_view group) {
  return Tagged(kGroupTag).append(group);
}

std::string ConsumerPrefix(std::string_view group) {
  return GroupScoped(kConsumerTag, group);
}

std::string ConsumerSubkey(std::string_view group, std::string_view consumer) {
  return ConsumerPrefix(group).append(consumer);
}

std::string PendingPrefix(std::string_view group) {
  return GroupScoped(kPendingTag, group);
}

std::string PendingSubkey(std::string_view group, StreamId id) {
  return PendingPrefix(group).append(StreamIdKey(id));
}

std::string EncodeGroupState(const GroupState& g) {
  std::string out;
  PutU64(&out, g.last_id.ms);
  PutU64(&out, g.last_id.seq);
  PutU64(&out, static_cast<uint64_t>(g.entries_read));
  return out;
}

bool DecodeGroupState(std::string_view v, GroupState* g) {
  if (v.size() != 24) return false;
  g->last_id = {GetU64(v.data()), GetU64(v.data() + 8)};
  g->entries_read = static_cast<int64_t>(GetU64(v.data() + 16));
  return true;
}

std::string EncodeConsumerState(const ConsumerState& c) {
  std::string out;
  PutU64(&out, static_cast<uint64_t>(c.seen_time_ms));
  return out;
}

bool DecodeConsumerState(std::string_view v, ConsumerState* c) {
  if (v.size() != 8) return false;
  c->seen_time_ms = static_cast<int64_t>(GetU64(v.data()));
  return true;
}

std::string EncodePendingState(const PendingState& p) {
  std::string out;
  PutU64(&out, static_cast<uint64_t>(p.delivery_time_ms));
  PutU64(&out, p.delivery_count);
  out.append(p.consumer);
  return out;
}

bool DecodePendingState(std::string_view v, PendingState* p) {
  if (v.size() < 16) return false;
  p->delivery_time_ms = static_cast<int64_t>(GetU64(v.data()));
  p->delivery_count = GetU64(v.data() + 8);
  p->consumer.assign(v.substr(16));
  return true;
}

}  // namespace daxkv::kv
