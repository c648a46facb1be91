#include "rdb/stream.h"

#include <cstdint>

#include "rdb/listpack.h"
#include "rdb/numbers.h"
#include "rdb/stream_groups.h"

namespace daxkv::rdb {
namespace {

constexpr int64_t kFlagDeleted = 1;
constexpr int64_t kFlagSameFields = 2;

bool SameFields(const StreamEntry& e, const StreamEntry& master) {
  if (e.fields.size() != master.fields.size()) return false;
  for (size_t i = 0; i < e.fields.size(); i += 2) {
    if (e.fields[i] != master.fields[i]) return false;
  }
  return true;
}

// One node of entries [from, to): its listpack.
std::string NodeListpack(const std::vector<StreamEntry>& entries, size_t from,
                         size_t to) {
  const StreamEntry& master = entries[from];
  ListpackBuilder lp;
  lp.Append(std::to_string(to - from));  // valid entries
  lp.Append("0");                        // deleted entries
  lp.Append(std::to_string(master.fields.size() / 2));
  for (size_t i = 0; i < master.fields.size(); i += 2) {
    lp.Append(master.fields[i]);
  }
  lp.Append("0");  // the master entry's terminator
  for (size_t j = from; j < to; ++j) {
    const StreamEntry& e = entries[j];
    const bool same = SameFields(e, master);
    const size_t n = e.fields.size() / 2;
    lp.Append(std::to_string(same ? kFlagSameFields : 0));
    lp.Append(std::to_string(static_cast<int64_t>(e.id.ms - master.id.ms)));
    lp.Append(std::to_string(static_cast<int64_t>(e.id.seq - master.id.seq)));
    if (!same) lp.Append(std::to_string(n));
    for (size_t i = 0; i < e.fields.size(); ++i) {
      if (!same || i % 2 == 1) lp.Append(e.fields[i]);
    }
    lp.Append(std::to_string(same ? n + 3 : 2 * n + 4));
  }
  return lp.Finish();
}

// Where streamAppendItem would start a new node after [from, to).
size_t NodeEnd(const std::vector<StreamEntry>& entries, size_t from) {
  size_t bytes = kEmptyListpackBytes;
  size_t to = from;
  while (to < entries.size() && to - from < kStreamNodeMaxEntries) {
    size_t add = 0;
    for (const std::string& f : entries[to].fields) add += f.size();
    if (to > from && bytes + add >= kStreamNodeMaxBytes) break;
    for (const std::string& f : entries[to].fields) {
      bytes += ListpackEntrySize(f);
    }
    bytes += 4 * 3;  // flags, ids and count: small integers
    ++to;
  }
  return to;
}

void WriteId(ByteSink* out, StreamId id) {
  WriteLen(out, id.ms);
  WriteLen(out, id.seq);
}

bool ToInt(const std::string& s, int64_t* v) {
  return ParseCanonicalInt64(s, v);
}

}  // namespace

std::string StreamIdBytes(StreamId id) {
  std::string k(16, '\0');
  for (int i = 0; i < 8; ++i) {
    k[i] = static_cast<char>(id.ms >> (56 - 8 * i));
    k[8 + i] = static_cast<char>(id.seq >> (56 - 8 * i));
  }
  return k;
}

StreamId StreamIdFromBytes(std::string_view b) {
  StreamId id;
  for (int i = 0; i < 8; ++i) {
    id.ms = id.ms << 8 | static_cast<unsigned char>(b[i]);
    id.seq = id.seq << 8 | static_cast<unsigned char>(b[8 + i]);
  }
  return id;
}

void EncodeStreamBody(const Stream& s, bool compress, ByteSink* out) {
  std::vector<std::pair<size_t, size_t>> nodes;
  for (size_t from = 0; from < s.entries.size();) {
    const size_t to = NodeEnd(s.entries, from);
    nodes.emplace_back(from, to);
    from = to;
  }
  WriteLen(out, nodes.size());
  for (const auto& [from, to] : nodes) {
    WriteString(out, StreamIdBytes(s.entries[from].id), compress);
    WriteString(out, NodeListpack(s.entries, from, to), compress);
  }
  WriteLen(out, s.entries.size());
  WriteId(out, s.last_id);
  WriteId(out, s.entries.empty() ? StreamId{} : s.entries.front().id);
  WriteId(out, s.max_deleted);
  WriteLen(out, s.entries_added);
  EncodeStreamGroups(s, compress, out);
}

bool ParseStreamNode(std::string_view key, std::string_view listpack,
                     std::vector<StreamEntry>* out, std::string* error) {
  if (key.size() != 16) {
    *error = "stream node key is not a 16-byte ID";
    return false;
  }
  const StreamId master = StreamIdFromBytes(key);
  std::vector<std::string> lp;
  if (!ParseListpack(listpack, &lp, error)) return false;
  size_t p = 0;
  auto next_int = [&](int64_t* v) {
    return p < lp.size() && ToInt(lp[p++], v);
  };
  int64_t valid, deleted, nmaster, zero;
  if (!next_int(&valid) || !next_int(&deleted) || !next_int(&nmaster) ||
      nmaster < 0 || lp.size() - p < static_cast<size_t>(nmaster) + 1) {
    *error = "stream node without a master entry";
    return false;
  }
  std::vector<std::string> master_fields(lp.begin() + p,
                                         lp.begin() + p + nmaster);
  p += nmaster;
  if (!next_int(&zero) || zero != 0 || valid == 0) {
    *error = "stream node master entry is malformed";
    return false;
  }
  int64_t seen = 0;
  while (p < lp.size()) {
    int64_t flags, dms, dseq, n = nmaster, count;
    if (!next_int(&flags) || !next_int(&dms) || !next_int(&dseq)) break;
    const bool same = flags & kFlagSameFields;
    if (!same && (!next_int(&n) || n < 0)) break;
    const size_t take = same ? n : 2 * n;
    if (lp.size() - p < take + 1) break;
    StreamEntry e;
    e.id = {master.ms + static_cast<uint64_t>(dms),
            master.seq + static_cast<uint64_t>(dseq)};
    for (int64_t i = 0; i < n; ++i) {
      if (same) {
        e.fields.push_back(master_fields[i]);
        e.fields.push_back(std::move(lp[p++]));
      } else {
        e.fields.push_back(std::move(lp[p++]));
        e.fields.push_back(std::move(lp[p++]));
      }
    }
    if (!next_int(&count)) break;
    if (!(flags & kFlagDeleted)) {
      out->push_back(std::move(e));
      ++seen;
    }
  }
  if (p != lp.size() || seen != valid) {
    *error = "stream node entries are malformed";
    return false;
  }
  return true;
}

}  // namespace daxkv::rdb
