// Helpers for the collection tests: run a transaction, read a whole
// collection back (as Redis would list it) through a ReadView, and a
// snapshot of every key's value of any type, for comparing a DB with a
// model or with itself across a reopen or a crash.
#ifndef DAXKV_TESTS_ENGINE_TXN_TEST_UTIL_H_
#define DAXKV_TESTS_ENGINE_TXN_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/db.h"
#include "engine/txn.h"

namespace daxkv::engine {

inline Status Tx(DB* db, const std::function<Status(Txn&)>& fn,
                 bool sync = true, std::vector<std::string> keys = {}) {
  TxnOptions o;
  o.keys = std::move(keys);
  return db->RunTxn(o, WriteOptions{.sync = sync}, fn);
}

inline std::map<std::string, std::string> HashAll(DB* db,
                                                  const std::string& key) {
  std::map<std::string, std::string> out;
  Status s = db->RunRead({key}, [&](ReadOps& r) {
    out.clear();
    return r.HashForEach(key, [&](std::string_view f, std::string_view v) {
      out.emplace(f, v);
      return true;
    });
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

inline std::vector<std::string> ListAll(DB* db, const std::string& key) {
  std::vector<std::string> out;
  Status s = db->RunRead({key}, [&](ReadOps& r) {
    out.clear();
    return r.ListRange(key, IndexRange{}, [&](std::string_view e) {
      out.emplace_back(e);
      return true;
    });
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

inline std::vector<std::string> SetAll(DB* db, const std::string& key) {
  std::vector<std::string> out;
  Status s = db->RunRead({key}, [&](ReadOps& r) {
    out.clear();
    return r.SetForEach(key, [&](std::string_view m) {
      out.emplace_back(m);
      return true;
    });
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::sort(out.begin(), out.end());
  return out;
}

inline std::vector<std::pair<std::string, double>> ZAll(
    DB* db, const std::string& key) {
  std::vector<std::pair<std::string, double>> out;
  Status s = db->RunRead({key}, [&](ReadOps& r) {
    out.clear();
    return r.ZRangeByRank(key, IndexRange{}, false,
                          [&](std::string_view m, double sc) {
                            out.emplace_back(m, sc);
                            return true;
                          });
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

inline KeyInfo StatOf(DB* db, const std::string& key) {
  KeyInfo info;
  Status s = db->RunRead({key}, [&](ReadOps& r) {
    auto st = r.Stat(key);
    if (!st.ok()) return st.status();
    info = *st;
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return info;
}

inline std::string HexOf(std::string_view b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// Appends the content of `k` (of type `type`) as text: "'v'",
// "hash{f=v,...}", "list[a,b,]", "set{a,b,}", "zset{m:1.000000,}",
// "stream{<hex subkey>=v,}", "none"; fields and members sorted, list and zset
// in their order.
inline Status DumpValue(ReadOps& r, const std::string& k, KeyType type,
                        std::string* out) {
  switch (type) {
    case KeyType::kNone:
      *out += "none";
      return OkStatus();
    case KeyType::kString: {
      std::string v;
      DAXKV_RETURN_IF_ERROR(r.Get(k, &v));
      *out += "'" + v + "'";
      return OkStatus();
    }
    case KeyType::kHash: {
      std::map<std::string, std::string> m;
      DAXKV_RETURN_IF_ERROR(
          r.HashForEach(k, [&](std::string_view f, std::string_view v) {
            m.emplace(f, v);
            return true;
          }));
      *out += "hash{";
      for (const auto& [f, v] : m) *out += f + "=" + v + ",";
      *out += "}";
      return OkStatus();
    }
    case KeyType::kList:
      *out += "list[";
      DAXKV_RETURN_IF_ERROR(
          r.ListRange(k, IndexRange{}, [&](std::string_view e) {
            *out += std::string(e) + ",";
            return true;
          }));
      *out += "]";
      return OkStatus();
    case KeyType::kSet: {
      std::vector<std::string> m;
      DAXKV_RETURN_IF_ERROR(r.SetForEach(k, [&](std::string_view e) {
        m.emplace_back(e);
        return true;
      }));
      std::sort(m.begin(), m.end());
      *out += "set{";
      for (const auto& e : m) *out += e + ",";
      *out += "}";
      return OkStatus();
    }
    case KeyType::kZset:
      *out += "zset{";
      DAXKV_RETURN_IF_ERROR(r.ZRangeByRank(
          k, IndexRange{}, false, [&](std::string_view m, double sc) {
            *out += std::string(m) + ":" + std::to_string(sc) + ",";
            return true;
          }));
      *out += "}";
      return OkStatus();
    case KeyType::kStream:
      // Subkeys as hex (entry IDs are binary), values as they are.
      *out += "stream{";
      DAXKV_RETURN_IF_ERROR(
          r.StreamRange(k, "", std::string(16, '\xff'), false, 0,
                        [&](std::string_view sk, std::string_view v) {
                          *out += HexOf(sk) + "=" + std::string(v) + ",";
                          return true;
                        }));
      *out += "}";
      return OkStatus();
  }
  return OkStatus();
}

// Every key's content as text (DumpValue), read in one view: what two DB
// states are compared by.
inline std::string Dump(DB* db, const std::vector<std::string>& keys) {
  std::string out;
  Status s = db->RunRead(keys, [&](ReadOps& r) -> Status {
    out.clear();
    for (const std::string& k : keys) {
      auto st = r.Stat(k);
      if (!st.ok()) return st.status();
      out += k + "=";
      DAXKV_RETURN_IF_ERROR(DumpValue(r, k, st->type, &out));
      out += ";";
    }
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// A key of any type as the crash harness reads keys (HarnessOptions::read):
// NotFound when absent or expired; else a string's value as Get reads it, a
// collection's DumpValue text; and the expiry.
inline StatusOr<ReadResult> ReadAnyType(DB* db, const std::string& key) {
  ReadResult out;
  bool found = false;
  Status s = db->RunRead({key}, [&](ReadOps& r) -> Status {
    out.value.clear();
    auto st = r.Stat(key);
    if (!st.ok()) return st.status();
    found = st->type != KeyType::kNone;
    out.expire_at_ms = st->expire_at_ms;
    if (st->type == KeyType::kString) return r.Get(key, &out.value);
    return found ? DumpValue(r, key, st->type, &out.value) : OkStatus();
  });
  if (!s.ok()) return s;
  if (!found) return NotFoundError("key not found");
  return out;
}

}  // namespace daxkv::engine

#endif  // DAXKV_TESTS_ENGINE_TXN_TEST_UTIL_H_
