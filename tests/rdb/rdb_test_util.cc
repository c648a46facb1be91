#include "tests/rdb/rdb_test_util.h"

#include <algorithm>
#include <set>

#include "rdb/bytes.h"
#include "rdb/crc64.h"
#include "rdb/numbers.h"

namespace daxkv::rdb::testing {

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(
        std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

namespace {

std::string ZiplistEntryBody(const std::string& e) {
  std::string out;
  int64_t v;
  if (e.size() <= 32 && ParseCanonicalInt64(e, &v)) {
    if (v >= 0 && v <= 12) {
      out.push_back(static_cast<char>(0xF1 + v));
    } else if (v >= INT8_MIN && v <= INT8_MAX) {
      out.push_back(static_cast<char>(0xFE));
      AppendLE(&out, static_cast<uint64_t>(v), 1);
    } else if (v >= INT16_MIN && v <= INT16_MAX) {
      out.push_back(static_cast<char>(0xC0));
      AppendLE(&out, static_cast<uint64_t>(v), 2);
    } else if (v >= -8388608 && v <= 8388607) {
      out.push_back(static_cast<char>(0xF0));
      AppendLE(&out, static_cast<uint64_t>(v), 3);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      out.push_back(static_cast<char>(0xD0));
      AppendLE(&out, static_cast<uint64_t>(v), 4);
    } else {
      out.push_back(static_cast<char>(0xE0));
      AppendLE(&out, static_cast<uint64_t>(v), 8);
    }
    return out;
  }
  size_t n = e.size();
  if (n <= 63) {
    out.push_back(static_cast<char>(n));
  } else if (n <= 16383) {
    out.push_back(static_cast<char>(0x40 | (n >> 8)));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(0x80));
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i)));
  }
  return out + e;
}

}  // namespace

std::string BuildZiplist(const std::vector<std::string>& entries) {
  std::string body;
  size_t prev = 0;
  size_t tail = 10;
  for (const std::string& e : entries) {
    tail = 10 + body.size();
    std::string entry;
    if (prev < 254) {
      entry.push_back(static_cast<char>(prev));
    } else {
      entry.push_back(static_cast<char>(0xFE));
      AppendLE(&entry, prev, 4);
    }
    entry += ZiplistEntryBody(e);
    prev = entry.size();
    body += entry;
  }
  std::string out;
  AppendLE(&out, 10 + body.size() + 1, 4);
  AppendLE(&out, tail, 4);
  AppendLE(&out, entries.size() < 65535 ? entries.size() : 65535, 2);
  out += body;
  out.push_back(static_cast<char>(0xFF));
  return out;
}

std::string BuildZipmap(
    const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  out.push_back(static_cast<char>(pairs.size() < 254 ? pairs.size() : 254));
  auto len = [&](size_t n) {
    if (n < 254) {
      out.push_back(static_cast<char>(n));
    } else {
      out.push_back(static_cast<char>(254));
      AppendLE(&out, n, 4);
    }
  };
  for (const auto& [k, v] : pairs) {
    len(k.size());
    out += k;
    len(v.size());
    out.push_back(static_cast<char>(1));  // one free byte after the value
    out += v;
    out.push_back('\0');
  }
  out.push_back(static_cast<char>(0xFF));
  return out;
}

std::string FramePayload(std::string_view body, int version) {
  std::string out(body);
  out.push_back(static_cast<char>(version & 0xFF));
  out.push_back(static_cast<char>(version >> 8));
  uint64_t crc = crc64::Value(out);
  AppendLE(&out, crc, 8);
  return out;
}

std::string RandomString(std::mt19937_64& rng) {
  switch (rng() % 8) {
    case 0:
      return std::to_string(static_cast<int64_t>(rng()) >> (rng() % 64));
    case 1:
      return "";
    case 2: {
      std::string s(rng() % 300, '\0');
      for (char& c : s) c = static_cast<char>(rng());
      return s;
    }
    case 3:
      return std::string(rng() % 5000, static_cast<char>('a' + rng() % 26));
    case 4:
      return "-0";
    default: {
      std::string s(1 + rng() % 40, 'x');
      for (char& c : s) c = static_cast<char>('a' + rng() % 26);
      return s;
    }
  }
}

// Up to 4 groups of up to 4 consumers (some with nothing pending), pending
// entries on the stream's IDs and others (Redis keeps a NACK whose entry
// was deleted), entries_read unknown or counted, times anywhere in int64.
void AddRandomGroups(std::mt19937_64& rng, Stream* s) {
  std::set<std::string> names;
  for (size_t n = rng() % 5; names.size() < n;) names.insert(RandomString(rng));
  for (const std::string& name : names) {
    StreamGroup g;
    g.name = name;
    g.last_id = {rng() % 2 ? s->last_id.ms : rng() % 1000, rng() % 4};
    g.entries_read = rng() % 3 == 0   ? -1
                     : rng() % 2 == 0 ? static_cast<int64_t>(rng() % 100)
                                      : static_cast<int64_t>(rng() >> 1);
    std::set<std::string> consumers;
    for (size_t n = rng() % 5; consumers.size() < n;) {
      consumers.insert(RandomString(rng));
    }
    for (const std::string& c : consumers) {
      g.consumers.push_back({c, static_cast<int64_t>(rng())});
    }
    std::set<std::pair<uint64_t, uint64_t>> ids;
    for (size_t n = consumers.empty() ? 0 : rng() % 40; ids.size() < n;) {
      if (!s->entries.empty() && rng() % 2) {
        const StreamId id = s->entries[rng() % s->entries.size()].id;
        ids.insert({id.ms, id.seq});
      } else {
        ids.insert({rng() % 200000, rng() % 5});
      }
    }
    for (const auto& [ms, seq] : ids) {
      g.pending.push_back({{ms, seq},
                           static_cast<int64_t>(rng()),
                           rng() % 4 ? 1 + rng() % 10 : rng(),
                           g.consumers[rng() % g.consumers.size()].name});
    }
    s->groups.push_back(std::move(g));
  }
}

Value RandomValue(std::mt19937_64& rng, ValueKind kind, size_t max_elements) {
  size_t n = 1 + rng() % max_elements;
  switch (kind) {
    case ValueKind::kString:
      return RandomString(rng);
    case ValueKind::kList: {
      List l;
      for (size_t i = 0; i < n; ++i) l.elements.push_back(RandomString(rng));
      return l;
    }
    case ValueKind::kSet: {
      std::set<std::string> seen;
      Set s;
      bool ints = rng() % 2 == 0;
      for (size_t i = 0; i < n; ++i) {
        std::string m =
            ints ? std::to_string(static_cast<int64_t>(rng()) >> (rng() % 64))
                 : RandomString(rng);
        if (seen.insert(m).second) s.members.push_back(m);
      }
      return s;
    }
    case ValueKind::kHash: {
      std::set<std::string> seen;
      Hash h;
      for (size_t i = 0; i < n; ++i) {
        std::string f = RandomString(rng);
        if (seen.insert(f).second) h.fields.emplace_back(f, RandomString(rng));
      }
      return h;
    }
    case ValueKind::kZset: {
      std::set<std::string> seen;
      Zset z;
      static constexpr double kScores[] = {
          0,
          1,
          -1,
          0.5,
          1e300,
          -1e-300,
          3.14159,
          1e20,
          4503599627370496.0,
          -4503599627370495.0,
          std::numeric_limits<double>::infinity(),
          -std::numeric_limits<double>::infinity()};
      for (size_t i = 0; i < n; ++i) {
        std::string m = RandomString(rng);
        double score = rng() % 3 == 0
                           ? kScores[rng() % std::size(kScores)]
                           : static_cast<double>(
                                 static_cast<int64_t>(rng() % 2000) - 1000) /
                                 8;
        if (seen.insert(m).second) z.entries.push_back({m, score});
      }
      return z;
    }
    case ValueKind::kStream: {  // may be empty; field sets vary
      Stream st;
      StreamId id{rng() % 1000, rng() % 3};
      for (size_t i = 0; i < n - 1; ++i) {
        id = rng() % 4 ? StreamId{id.ms, id.seq + 1 + rng() % 3}
                       : StreamId{id.ms + 1 + rng() % 100000, 0};
        StreamEntry e{id, {}};
        const size_t fields = 1 + rng() % (rng() % 5 ? 2 : 6);
        for (size_t f = 0; f < fields; ++f) {
          e.fields.push_back(rng() % 3 ? "f" + std::to_string(f)
                                       : RandomString(rng));
          e.fields.push_back(RandomString(rng));
        }
        st.entries.push_back(std::move(e));
      }
      st.last_id = {id.ms, id.seq + rng() % 2};
      st.max_deleted = {rng() % 2 ? 0 : id.ms, 0};
      st.entries_added = st.entries.size() + rng() % 5;
      if (rng() % 2) AddRandomGroups(rng, &st);
      return st;
    }
  }
  return std::string();
}

Status RecordingVisitor::OnAux(std::string_view key, std::string_view value) {
  aux.emplace_back(key, value);
  return OkStatus();
}

Status RecordingVisitor::OnFunction(std::string_view code) {
  if (!accept_functions) return RdbVisitor::OnFunction(code);
  functions.emplace_back(code);
  return OkStatus();
}

Status RecordingVisitor::OnResizeDb(uint64_t db, uint64_t k, uint64_t e) {
  (void)db;
  resize.emplace_back(k, e);
  return OkStatus();
}

Status RecordingVisitor::OnKey(uint64_t db, std::string key, Object object) {
  key_order.push_back(key);
  keys[{db, std::move(key)}] = std::move(object);
  return OkStatus();
}

Status FeedInChunks(RdbStreamReader* reader, std::string_view stream,
                    std::mt19937_64& rng, size_t max_chunk) {
  while (!stream.empty()) {
    size_t n = std::min<size_t>(stream.size(), 1 + rng() % max_chunk);
    DAXKV_RETURN_IF_ERROR(reader->Feed(stream.substr(0, n)));
    stream.remove_prefix(n);
  }
  return reader->Finish();
}

}  // namespace daxkv::rdb::testing
