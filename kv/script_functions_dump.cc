// FUNCTION DUMP and RESTORE: the libraries' code in Redis's DUMP payload
// format (one RDB_OPCODE_FUNCTION2 string per library, the RDB version and
// a CRC-64), so payloads move between redis-server and daxkv.
#include <lua.hpp>

#include <map>
#include <string>

#include "kv/script_functions.h"
#include "rdb/bytes.h"
#include "rdb/crc64.h"
#include "rdb/format.h"
#include "rdb/input.h"
#include "rdb/output.h"

namespace daxkv::kv {

std::string FunctionLibraries::Dump() const {
  std::string out;
  rdb::StringSink sink(&out);
  for (const auto& [name, lib] : libraries_) {
    rdb::WriteByte(&sink, rdb::kOpFunction2);
    rdb::WriteString(&sink, lib.code, /*compress=*/true);
  }
  rdb::WriteByte(&sink, static_cast<uint8_t>(rdb::kRdbVersion & 0xFF));
  rdb::WriteByte(&sink, static_cast<uint8_t>(rdb::kRdbVersion >> 8));
  rdb::WriteU64LE(&sink, rdb::crc64::Value(out));
  return out;
}

namespace {

// The libraries' code in a FUNCTION DUMP payload; false with *error.
bool ParseDump(std::string_view payload, std::vector<std::string>* codes,
               std::string* error) {
  *error = "ERR DUMP payload version or checksum are wrong";
  if (payload.size() < 10) return false;
  const size_t body = payload.size() - 10;
  if (rdb::LoadLE(payload.data() + body, 2) >
          static_cast<uint64_t>(rdb::kRdbVersion) ||
      rdb::LoadLE(payload.data() + body + 2, 8) !=
          rdb::crc64::Value(payload.substr(0, body + 2))) {
    return false;
  }
  rdb::Input in(payload.substr(0, body));
  while (in.remaining() > 0) {
    uint8_t type = 0;
    std::string code;
    if (in.Byte(&type) != rdb::Rd::kOk || type != rdb::kOpFunction2) {
      *error = "ERR given type is not a function";
      return false;
    }
    if (in.String(&code) != rdb::Rd::kOk) {
      *error = "ERR Failed loading library";
      return false;
    }
    codes->push_back(std::move(code));
  }
  error->clear();
  return true;
}

}  // namespace

bool FunctionLibraries::Restore(std::string_view payload,
                                std::string_view policy, std::string* error) {
  std::vector<std::string> codes;
  if (!ParseDump(payload, &codes, error)) return false;
  std::vector<Loading> staged(codes.size());
  std::map<std::string, std::string> fns;  // function -> library, after
  const bool flush = policy == "flush", replace = policy == "replace";
  bool ok = true;
  for (size_t i = 0; ok && i < codes.size(); ++i) {
    ok = Evaluate(codes[i], &staged[i], error);
    if (!ok) break;
    const std::string& lib = staged[i].name;
    if (!flush && !replace && libraries_.count(lib) != 0) {
      *error = "ERR Library " + lib + " already exists";
      ok = false;
      break;
    }
    for (const FunctionInfo& f : staged[i].functions) {
      auto owner = owner_.find(f.name);
      bool kept = !flush && owner != owner_.end() &&
                  !(replace && owner->second == lib);
      if (kept || !fns.emplace(f.name, lib).second) {
        *error = "ERR Function " + f.name + " already exists";
        ok = false;
        break;
      }
    }
  }
  if (!ok) {
    for (Loading& l : staged) luaL_unref(L_, LUA_REGISTRYINDEX, l.stage_ref);
    return false;
  }
  if (flush) Flush();
  for (Loading& l : staged) Commit(l.name, l.code, &l);
  return true;
}

}  // namespace daxkv::kv
