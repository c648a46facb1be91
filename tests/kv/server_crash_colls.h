// Collections in the server crash test (tests/kv/server_crash_test.cc): the
// model value of a hash, list, set or sorted set key is a canonical string
// (a type letter, then its elements joined by ';', sorted except for a
// list's), computed from a client's acknowledged model and read back from a
// recovered image in the same form. Elements must not contain ';', '=' or
// ':' (the test's are letters and digits).
#ifndef DAXKV_TESTS_KV_SERVER_CRASH_COLLS_H_
#define DAXKV_TESTS_KV_SERVER_CRASH_COLLS_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/statusor.h"
#include "engine/db.h"
#include "engine/txn.h"
#include "tests/engine/crash_harness.h"

namespace daxkv::kv::crash_colls {

// Hash: "field=value"; zset: "member:score" (integer scores); set and
// list: the elements.
using Items = std::vector<std::string>;

// nullopt for an empty collection (Redis deletes it).
inline std::optional<std::string> Encode(char type, Items items) {
  if (items.empty()) return std::nullopt;
  if (type != 'L') std::sort(items.begin(), items.end());
  std::string out(1, type);
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ';';
    out += items[i];
  }
  return out;
}

inline Items Decode(const std::optional<std::string>& v) {
  Items items;
  if (!v || v->size() < 2) return items;
  std::string_view rest = std::string_view(*v).substr(1);
  for (;;) {
    const size_t cut = rest.find(';');
    items.emplace_back(rest.substr(0, cut));
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 1);
  }
  return items;
}

// Replaces the entry whose name (before `sep`) is `name`, or adds it.
inline void Upsert(Items* items, const std::string& name, char sep,
                   const std::string& entry) {
  for (std::string& it : *items) {
    if (it.substr(0, it.find(sep)) == name) {
      it = entry;
      return;
    }
  }
  items->push_back(entry);
}

// The canonical form of collection `key` in `db` (nullopt when absent).
inline StatusOr<std::optional<std::string>> Read(engine::DB& db,
                                                 const std::string& key) {
  std::optional<std::string> out;
  Status s = db.RunRead({key}, [&](engine::ReadOps& ops) -> Status {
    DAXKV_ASSIGN_OR_RETURN(engine::KeyInfo info, ops.Stat(key));
    Items items;
    char type = 0;
    switch (info.type) {
      case engine::KeyType::kHash:
        type = 'H';
        DAXKV_RETURN_IF_ERROR(
            ops.HashForEach(key, [&](std::string_view f, std::string_view v) {
              items.push_back(std::string(f) + "=" + std::string(v));
              return true;
            }));
        break;
      case engine::KeyType::kList:
        type = 'L';
        DAXKV_RETURN_IF_ERROR(ops.ListRange(key, {}, [&](std::string_view e) {
          items.emplace_back(e);
          return true;
        }));
        break;
      case engine::KeyType::kSet:
        type = 'S';
        DAXKV_RETURN_IF_ERROR(ops.SetForEach(key, [&](std::string_view m) {
          items.emplace_back(m);
          return true;
        }));
        break;
      case engine::KeyType::kZset:
        type = 'Z';
        DAXKV_RETURN_IF_ERROR(ops.ZRangeByRank(
            key, {}, false, [&](std::string_view m, double score) {
              items.push_back(std::string(m) + ":" +
                              std::to_string(static_cast<int64_t>(score)));
              return true;
            }));
        break;
      default:
        return FailedPreconditionError("not a collection: " + key);
    }
    out = Encode(type, std::move(items));
    return OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

// MULTI: HSET, RPUSH + LTRIM, ZADD, SADD + SREM, an EVAL doing SADD, and a
// SET of a string, EXEC; all or nothing. Collection values are modelled by
// crash_colls' canonical strings.
// A client's keys and their model values (nullopt: absent).
using Model = std::map<std::string, std::optional<std::string>>;
struct Block {
  std::string what;
  std::vector<std::vector<std::string>> requests;
  Model writes;  // the keys after the block
};
inline Block MakeBlock(const std::string& p, std::mt19937_64& rng,
                       uint64_t seq, const Model& acked) {
  using engine::crash::MakeValue;
  auto model = [&](const std::string& key) {
    auto it = acked.find(key);
    return Decode(it == acked.end() ? std::nullopt : it->second);
  };
  const std::string n = std::to_string(rng() % 2), s = std::to_string(seq);
  const std::string h = p + "h" + n, l = p + "l" + n, z = p + "z" + n,
                    st = p + "s" + n, str = p + "cs" + n;
  const std::string f = "f" + std::to_string(rng() % 4);
  const std::string m = "m" + std::to_string(rng() % 3);
  const std::string add = "m" + std::to_string(seq % 5);
  const std::string rem = "m" + std::to_string((seq + 2) % 5);
  const std::string scripted = "e" + std::to_string(seq % 3);
  const std::string sv = MakeValue(str, seq, 120);
  Block op;
  op.what = "MULTI HSET " + h + " RPUSH/LTRIM " + l + " ZADD " + z +
            " SADD/SREM/EVAL " + st + " SET " + str + " EXEC";
  op.requests = {{"MULTI"},
                 {"HSET", h, f, "v" + s},
                 {"RPUSH", l, "x" + s},
                 {"LTRIM", l, "-4", "-1"},
                 {"ZADD", z, s, m},
                 {"SADD", st, add},
                 {"SREM", st, rem},
                 {"EVAL", "return redis.call('sadd', KEYS[1], ARGV[1])", "1",
                  st, scripted},
                 {"SET", str, sv},
                 {"EXEC"}};
  Items items = model(h);
  Upsert(&items, f, '=', f + "=v" + s);
  op.writes[h] = Encode('H', items);
  items = model(l);
  items.push_back("x" + s);
  if (items.size() > 4) items.erase(items.begin(), items.end() - 4);
  op.writes[l] = Encode('L', items);
  items = model(z);
  Upsert(&items, m, ':', m + ":" + s);
  op.writes[z] = Encode('Z', items);
  items = model(st);
  for (const std::string& e : {add, scripted}) {
    if (std::find(items.begin(), items.end(), e) == items.end()) {
      items.push_back(e);
    }
    if (e == add) std::erase(items, rem);
  }
  op.writes[st] = Encode('S', items);
  op.writes[str] = sv;
  return op;
}

// Without MULTI: HSET, ZADD, RPUSH (or LPOP of a list of four) and SADD
// sent together, one command per key. The server runs them as one Txn
// when they arrive in one read (kv/write_run.h), else one by one, so a
// crash may keep any of them (not atomic); each reply, the last one's
// included, must hold.
inline Block MakePipeline(const std::string& p, std::mt19937_64& rng,
                          uint64_t seq, const Model& acked) {
  auto model = [&](const std::string& key) {
    auto it = acked.find(key);
    return Decode(it == acked.end() ? std::nullopt : it->second);
  };
  const std::string n = std::to_string(rng() % 2), s = std::to_string(seq);
  const std::string h = p + "h" + n, l = p + "l" + n, z = p + "z" + n,
                    st = p + "s" + n;
  const std::string f = "f" + std::to_string(rng() % 4);
  const std::string m = "m" + std::to_string(rng() % 3);
  const std::string add = "m" + std::to_string(seq % 5);
  Block op;
  Items list = model(l);
  const bool pop = list.size() >= 4;
  op.what = "pipelined HSET " + h + " ZADD " + z +
            (pop ? " LPOP " : " RPUSH ") + l + " SADD " + st;
  op.requests = {{"HSET", h, f, "v" + s},
                 {"ZADD", z, s, m},
                 pop ? std::vector<std::string>{"LPOP", l}
                     : std::vector<std::string>{"RPUSH", l, "x" + s},
                 {"SADD", st, add}};
  Items items = model(h);
  Upsert(&items, f, '=', f + "=v" + s);
  op.writes[h] = Encode('H', items);
  items = model(z);
  Upsert(&items, m, ':', m + ":" + s);
  op.writes[z] = Encode('Z', items);
  if (pop) {
    list.erase(list.begin());
  } else {
    list.push_back("x" + s);
  }
  op.writes[l] = Encode('L', list);
  items = model(st);
  if (std::find(items.begin(), items.end(), add) == items.end()) {
    items.push_back(add);
  }
  op.writes[st] = Encode('S', items);
  return op;
}

}  // namespace daxkv::kv::crash_colls

#endif  // DAXKV_TESTS_KV_SERVER_CRASH_COLLS_H_
