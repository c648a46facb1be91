#include "kv/stream_codec.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "kv/resp_parser.h"
#include "rdb/stream.h"

namespace daxkv::kv {
namespace {

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetLE(const char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i)
    v = v << 8 | static_cast<unsigned char>(p[i]);
  return v;
}

// Redis's string2ull: string2ll when it parses (negative: no), else
// strtoull's looser grammar, whole string, in range.
bool String2ull(const std::string& s, uint64_t* v) {
  int64_t ll;
  if (ParseInt64(s, &ll)) {
    if (ll < 0) return false;
    *v = static_cast<uint64_t>(ll);
    return true;
  }
  errno = 0;
  char* end = nullptr;
  *v = std::strtoull(s.c_str(), &end, 10);
  return errno != EINVAL && errno != ERANGE && !s.empty() && *end == '\0';
}

}  // namespace

bool ParseIntervalId(std::string_view s, uint64_t missing_seq, StreamId* id,
                     bool* exclusive) {
  *exclusive = s.size() > 1 && s[0] == '(';
  if (*exclusive) return ParseStreamId(s.substr(1), missing_seq, true, id);
  return ParseStreamId(s, missing_seq, false, id);
}

std::string FormatStreamId(StreamId id) {
  return std::to_string(id.ms) + "-" + std::to_string(id.seq);
}

bool IncrStreamId(StreamId* id) {
  if (id->seq == ~uint64_t{0}) {
    if (id->ms == ~uint64_t{0}) return false;
    id->ms++;
    id->seq = 0;
  } else {
    id->seq++;
  }
  return true;
}

bool DecrStreamId(StreamId* id) {
  if (id->seq == 0) {
    if (id->ms == 0) return false;
    id->ms--;
    id->seq = ~uint64_t{0};
  } else {
    id->seq--;
  }
  return true;
}

bool ParseStreamId(std::string_view s, uint64_t missing_seq, bool strict,
                   StreamId* id, bool* seq_given) {
  if (s.size() > 127) return false;
  // Redis copies into a C buffer: an embedded NUL ends the string there.
  std::string buf(s.substr(0, s.find('\0')));
  if (strict && (buf == "-" || buf == "+")) return false;
  if (seq_given != nullptr) *seq_given = true;
  if (buf == "-") {
    *id = StreamId{0, 0};
    return true;
  }
  if (buf == "+") {
    *id = kMaxStreamId;
    return true;
  }
  const size_t dash = buf.find('-');
  uint64_t ms, seq = missing_seq;
  if (!String2ull(buf.substr(0, dash), &ms)) return false;
  if (dash != std::string::npos) {
    const std::string rest = buf.substr(dash + 1);
    if (seq_given != nullptr && rest == "*") {
      seq = 0;
      *seq_given = false;
    } else if (!String2ull(rest, &seq)) {
      return false;
    }
  }
  *id = StreamId{ms, seq};
  return true;
}

std::string StreamIdKey(StreamId id) {
  return rdb::StreamIdBytes({id.ms, id.seq});
}

StreamId StreamIdFromKey(std::string_view key) {
  const rdb::StreamId id = rdb::StreamIdFromBytes(key);
  return StreamId{id.ms, id.seq};
}

std::string EncodeStreamMeta(const StreamMeta& m) {
  std::string out;
  PutU64(&out, m.last_id.ms);
  PutU64(&out, m.last_id.seq);
  PutU64(&out, m.entries_added);
  PutU64(&out, m.max_deleted.ms);
  PutU64(&out, m.max_deleted.seq);
  PutU64(&out, m.tail_node);
  PutU64(&out, m.tail_count);
  PutU64(&out, m.next_node);
  return out;
}

bool DecodeStreamMeta(std::string_view v, StreamMeta* m) {
  if (v.size() != 64) return false;
  m->last_id = {GetLE(v.data(), 8), GetLE(v.data() + 8, 8)};
  m->entries_added = GetLE(v.data() + 16, 8);
  m->max_deleted = {GetLE(v.data() + 24, 8), GetLE(v.data() + 32, 8)};
  m->tail_node = GetLE(v.data() + 40, 8);
  m->tail_count = GetLE(v.data() + 48, 8);
  m->next_node = GetLE(v.data() + 56, 8);
  return true;
}

std::string EncodeStreamEntry(StreamEntryPos pos,
                              const std::vector<std::string_view>& fields) {
  std::string out;
  PutU64(&out, pos.node);
  PutU32(&out, pos.index);
  PutU32(&out, static_cast<uint32_t>(fields.size()));
  for (std::string_view f : fields) {
    PutU32(&out, static_cast<uint32_t>(f.size()));
    out.append(f);
  }
  return out;
}

bool DecodeStreamEntry(std::string_view v, StreamEntryPos* pos,
                       std::vector<std::string_view>* fields) {
  if (v.size() < 16) return false;
  pos->node = GetLE(v.data(), 8);
  pos->index = static_cast<uint32_t>(GetLE(v.data() + 8, 4));
  const uint64_t n = GetLE(v.data() + 12, 4);
  fields->clear();
  size_t off = 16;
  for (uint64_t i = 0; i < n; ++i) {
    if (v.size() - off < 4) return false;
    const uint64_t len = GetLE(v.data() + off, 4);
    off += 4;
    if (v.size() - off < len) return false;
    fields->push_back(v.substr(off, len));
    off += len;
  }
  return off == v.size();
}

}  // namespace daxkv::kv
