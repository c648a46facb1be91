// rdb_tool: the RDB codec as a JSON-lines co-process, so that Python tests
// can drive it next to a real redis-server (redis_conformance_test.py).
// One request per stdin line, one reply per stdout line. Bytes travel as
// hex; scores as strings ("%.17g", "inf", "-inf").
//
// Requests ("op"):
//   decode_payload {payload}            -> {ok, value} | {ok:false, code,
//   message, reply} encode_payload {value, compress}    -> {ok, payload} |
//   {ok:false, message} write_rdb {path, compress, ctime, functions:[text],
//   dbs:[{db, keys:[{key, value, expire_ms?}]}]}
//                                       -> {ok, bytes}
//   read_rdb {path, seed, max_chunk, policy: refuse|map|pass, functions:bool,
//   summary:bool}
//     -> {ok, version, checksum_verified, keys:[{db,key,value,expire_ms}], aux,
//     functions,
//         empty_skipped, max_buffered, peak_rss_kb}; with summary only counts.
//   read_sync {path, seed, max_chunk}   -> {ok, diskless, keys, rest}
#include <sys/resource.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "rdb/payload.h"
#include "rdb/reader.h"
#include "rdb/sync_payload.h"
#include "rdb/writer.h"
#include "tests/rdb/rdb_test_util.h"

namespace daxkv::rdb {
namespace {

using json = nlohmann::json;
using testing::Hex;
using testing::Unhex;

std::string ScoreText(double d) {
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  return buf;
}

json ToJson(const Value& v) {
  json j;
  switch (KindOf(v)) {
    case ValueKind::kString:
      j = {{"type", "string"}, {"value", Hex(std::get<std::string>(v))}};
      break;
    case ValueKind::kList: {
      json e = json::array();
      for (const auto& s : std::get<List>(v).elements) e.push_back(Hex(s));
      j = {{"type", "list"}, {"elements", e}};
      break;
    }
    case ValueKind::kSet: {
      json e = json::array();
      for (const auto& s : std::get<Set>(v).members) e.push_back(Hex(s));
      j = {{"type", "set"}, {"members", e}};
      break;
    }
    case ValueKind::kHash: {
      json e = json::array();
      for (const auto& [f, x] : std::get<Hash>(v).fields) {
        e.push_back({Hex(f), Hex(x)});
      }
      j = {{"type", "hash"}, {"fields", e}};
      break;
    }
    case ValueKind::kZset: {
      json e = json::array();
      for (const auto& z : std::get<Zset>(v).entries) {
        e.push_back({Hex(z.member), ScoreText(z.score)});
      }
      j = {{"type", "zset"}, {"entries", e}};
      break;
    }
    case ValueKind::kStream: {
      json e = json::array();
      for (const auto& x : std::get<Stream>(v).entries) {
        json f = json::array();
        for (const auto& s : x.fields) f.push_back(Hex(s));
        e.push_back(
            {std::to_string(x.id.ms) + "-" + std::to_string(x.id.seq), f});
      }
      j = {{"type", "stream"}, {"entries", e}};
      break;
    }
  }
  return j;
}

Value FromJson(const json& j) {
  std::string type = j.at("type");
  if (type == "string") return Unhex(j.at("value").get<std::string>());
  if (type == "list") {
    List l;
    for (const auto& e : j.at("elements"))
      l.elements.push_back(Unhex(e.get<std::string>()));
    return l;
  }
  if (type == "set") {
    Set s;
    for (const auto& e : j.at("members"))
      s.members.push_back(Unhex(e.get<std::string>()));
    return s;
  }
  if (type == "hash") {
    Hash h;
    for (const auto& e : j.at("fields")) {
      h.fields.emplace_back(Unhex(e[0].get<std::string>()),
                            Unhex(e[1].get<std::string>()));
    }
    return h;
  }
  Zset z;
  for (const auto& e : j.at("entries")) {
    z.entries.push_back(
        {Unhex(e[0].get<std::string>()),
         std::strtod(e[1].get<std::string>().c_str(), nullptr)});
  }
  return z;
}

json Error(const Status& s) {
  return {{"ok", false},
          {"code", std::string(StatusCodeName(s.code()))},
          {"message", s.ToString()},
          {"reply", RestoreErrorReply(s)}};
}

class JsonVisitor : public RdbVisitor {
 public:
  explicit JsonVisitor(bool functions, bool summary)
      : take_functions_(functions), summary_(summary) {}
  Status OnAux(std::string_view k, std::string_view v) override {
    aux.push_back({std::string(k), std::string(v)});
    return OkStatus();
  }
  Status OnFunction(std::string_view code) override {
    if (!take_functions_) return RdbVisitor::OnFunction(code);
    functions.push_back(std::string(code));
    return OkStatus();
  }
  Status OnKey(uint64_t db, std::string key, Object o) override {
    ++count;
    elements += ElementCount(o.value);
    if (summary_) return OkStatus();
    json k = {{"db", db}, {"key", Hex(key)}, {"value", ToJson(o.value)}};
    if (o.expire_ms) k["expire_ms"] = *o.expire_ms;
    keys.push_back(std::move(k));
    return OkStatus();
  }
  json keys = json::array();
  json aux = json::array();
  json functions = json::array();
  uint64_t count = 0;
  uint64_t elements = 0;

 private:
  bool take_functions_;
  bool summary_;
};

long PeakRssKb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// Reads `path` in random-sized chunks into `feed`, never holding the file.
Status FeedFile(const std::string& path, uint64_t seed, size_t max_chunk,
                const std::function<Status(std::string_view)>& feed) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IOError("cannot open " + path);
  std::mt19937_64 rng(seed);
  std::string buf;
  while (in) {
    buf.resize(1 + rng() % max_chunk);
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    buf.resize(static_cast<size_t>(in.gcount()));
    if (buf.empty()) break;
    DAXKV_RETURN_IF_ERROR(feed(buf));
  }
  return OkStatus();
}

RdbStreamReader::Options ReaderOptions(const json& req) {
  RdbStreamReader::Options o;
  std::string policy = req.value("policy", "refuse");
  o.other_dbs =
      policy == "pass"  ? RdbStreamReader::Options::OtherDbs::kPassThrough
      : policy == "map" ? RdbStreamReader::Options::OtherDbs::kMapToDb0
                        : RdbStreamReader::Options::OtherDbs::kRefuse;
  return o;
}

json ReadRdb(const json& req) {
  JsonVisitor v(req.value("functions", false), req.value("summary", false));
  RdbStreamReader r(&v, ReaderOptions(req));
  size_t max_buffered = 0;
  Status s = FeedFile(req.at("path"), req.value("seed", 1),
                      req.value("max_chunk", 65536), [&](std::string_view c) {
                        Status st = r.Feed(c);
                        max_buffered =
                            std::max(max_buffered, r.buffered_bytes());
                        return st;
                      });
  if (s.ok()) s = r.Finish();
  if (!s.ok()) return Error(s);
  return {{"ok", true},
          {"version", r.rdb_version()},
          {"checksum_verified", r.checksum_verified()},
          {"keys", v.keys},
          {"count", v.count},
          {"elements", v.elements},
          {"aux", v.aux},
          {"functions", v.functions},
          {"empty_skipped", r.empty_keys_skipped()},
          {"bytes", r.bytes_consumed()},
          {"max_buffered", max_buffered},
          {"peak_rss_kb", PeakRssKb()}};
}

json ReadSync(const json& req) {
  JsonVisitor v(false, false);
  RdbStreamReader r(&v, ReaderOptions(req));
  SyncPayloadReader sync(&r);
  std::string rest;
  Status s = FeedFile(req.at("path"), req.value("seed", 1),
                      req.value("max_chunk", 65536), [&](std::string_view c) {
                        size_t used = 0;
                        DAXKV_RETURN_IF_ERROR(sync.Feed(c, &used));
                        rest.append(c.substr(used));
                        return OkStatus();
                      });
  if (s.ok()) s = sync.Finish();
  if (!s.ok()) return Error(s);
  return {{"ok", true},
          {"diskless", sync.diskless()},
          {"keys", v.keys},
          {"rest", Hex(rest)}};
}

json WriteRdb(const json& req) {
  std::ofstream out(req.at("path").get<std::string>(), std::ios::binary);
  EncodeOptions opts;
  opts.rdb_compression = req.value("compress", true);
  RdbWriter w(
      [&](std::string_view p) {
        out.write(p.data(), static_cast<std::streamsize>(p.size()));
        return out ? OkStatus() : IOError("write failed");
      },
      opts);
  RdbAuxInfo aux;
  aux.ctime = req.value("ctime", 0);
  Status s = w.Begin(aux);
  for (const auto& f : req.value("functions", json::array())) {
    if (s.ok()) s = w.WriteFunction(f.get<std::string>());
  }
  for (const auto& db : req.at("dbs")) {
    if (!s.ok()) break;
    uint64_t expires = 0;
    for (const auto& k : db.at("keys"))
      expires += k.contains("expire_ms") ? 1 : 0;
    s = w.SelectDb(db.at("db"), db.at("keys").size(), expires);
    for (const auto& k : db.at("keys")) {
      if (!s.ok()) break;
      std::optional<int64_t> expire;
      if (k.contains("expire_ms")) expire = k["expire_ms"].get<int64_t>();
      s = w.WriteKey(Unhex(k.at("key").get<std::string>()),
                     FromJson(k.at("value")), expire);
    }
  }
  if (s.ok()) s = w.Finish();
  out.close();
  if (!s.ok()) return Error(s);
  return {{"ok", true}, {"bytes", w.bytes_written()}};
}

json Handle(const json& req) {
  std::string op = req.at("op");
  if (op == "decode_payload") {
    auto v = DecodeDumpPayload(Unhex(req.at("payload").get<std::string>()));
    if (!v.ok()) return Error(v.status());
    return {{"ok", true}, {"value", ToJson(*v)}};
  }
  if (op == "encode_payload") {
    EncodeOptions opts;
    opts.rdb_compression = req.value("compress", true);
    auto p = EncodeDumpPayload(FromJson(req.at("value")), opts);
    if (!p.ok()) return Error(p.status());
    return {{"ok", true}, {"payload", Hex(*p)}};
  }
  if (op == "write_rdb") return WriteRdb(req);
  if (op == "read_rdb") return ReadRdb(req);
  if (op == "read_sync") return ReadSync(req);
  return {{"ok", false}, {"message", "unknown op " + op}};
}

}  // namespace
}  // namespace daxkv::rdb

int main() {
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    nlohmann::json reply;
    try {
      reply = daxkv::rdb::Handle(nlohmann::json::parse(line));
    } catch (const std::exception& e) {
      reply = {{"ok", false},
               {"message", std::string("tool error: ") + e.what()}};
    }
    std::cout << reply.dump() << "\n" << std::flush;
  }
  return 0;
}
