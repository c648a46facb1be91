// DUMP and RESTORE: a key's value in Redis's serialization (rdb/payload.h),
// byte-compatible with Redis 7.0, so values move between redis-server and
// daxkv with the clients' own DUMP/RESTORE (or MIGRATE from Redis).
//
// The store holds strings only until the collections of the data-model
// issue land: RESTORE of a list, set, hash or sorted set payload is refused
// with an error that names the type, and nothing is written.
#include <algorithm>
#include <optional>
#include <string>

#include "kv/command.h"
#include "rdb/payload.h"

namespace daxkv::kv {
namespace {

constexpr std::string_view kBusyKey =
    "BUSYKEY Target key name already exists.";

void DumpCommand(CommandContext& ctx) {
  auto r = ctx.store.Get(ctx.argv[1]);
  if (!r.ok()) {
    ctx.out.Null();
    return;
  }
  auto payload = rdb::EncodeDumpPayload(rdb::Value(std::string(r->value)));
  if (!payload.ok()) {
    ctx.out.Error("ERR " + std::string(payload.status().message()));
    return;
  }
  ctx.out.Bulk(*payload);
}

struct RestoreOptions {
  bool replace = false;
  bool absttl = false;
  int64_t idle_seconds = -1;
  int64_t freq = -1;
};

// RESTORE's options, in Redis's order of checks; replies and returns false
// on error. IDLETIME and FREQ exclude each other (the second is a syntax
// error, as in Redis).
bool ParseRestoreOptions(CommandContext& ctx, RestoreOptions* o) {
  for (size_t j = 4; j < ctx.argv.size(); ++j) {
    const bool more = j + 1 < ctx.argv.size();
    if (EqualsIgnoreCase(ctx.argv[j], "replace")) {
      o->replace = true;
    } else if (EqualsIgnoreCase(ctx.argv[j], "absttl")) {
      o->absttl = true;
    } else if (EqualsIgnoreCase(ctx.argv[j], "idletime") && more &&
               o->freq == -1) {
      if (!ParseIntArg(ctx, ctx.argv[++j], &o->idle_seconds)) return false;
      if (o->idle_seconds < 0) {
        ctx.out.Error("ERR Invalid IDLETIME value, must be >= 0");
        return false;
      }
    } else if (EqualsIgnoreCase(ctx.argv[j], "freq") && more &&
               o->idle_seconds == -1) {
      if (!ParseIntArg(ctx, ctx.argv[++j], &o->freq)) return false;
      if (o->freq < 0 || o->freq > 255) {
        ctx.out.Error("ERR Invalid FREQ value, must be >= 0 and <= 255");
        return false;
      }
    } else {
      ReplySyntaxError(ctx);
      return false;
    }
  }
  return true;
}

// The payload's string, or a reply and nullopt: a bad payload gets Redis's
// error texts, a collection daxkv cannot hold yet an error naming its type.
std::optional<std::string> DecodeStringPayload(CommandContext& ctx) {
  auto value = rdb::DecodeDumpPayload(ctx.argv[3]);
  if (!value.ok()) {
    ctx.out.Error(rdb::RestoreErrorReply(value.status()));
    return std::nullopt;
  }
  if (rdb::KindOf(*value) != rdb::ValueKind::kString) {
    ctx.out.Error("ERR Bad data format: daxkv does not store " +
                  std::string(rdb::KindName(rdb::KindOf(*value))) +
                  " values yet");
    return std::nullopt;
  }
  return std::get<std::string>(std::move(*value));
}

void RestoreCommand(CommandContext& ctx) {
  RestoreOptions o;
  if (!ParseRestoreOptions(ctx, &o)) return;
  const std::string_view key = ctx.argv[1];
  if (!o.replace && ctx.store.Exists(key)) {
    ctx.out.Error(kBusyKey);
    return;
  }
  int64_t ttl = 0;
  if (!ParseIntArg(ctx, ctx.argv[2], &ttl)) return;
  if (ttl < 0) {
    ctx.out.Error("ERR Invalid TTL value, must be >= 0");
    return;
  }
  std::optional<std::string> value = DecodeStringPayload(ctx);
  if (!value) return;
  const int64_t now = ctx.server.NowMs();
  if (ttl != 0 && !o.absttl) ttl += now;
  Status s;
  if (ttl != 0 && ttl <= now) {
    // Already expired: Redis stores nothing (and REPLACE deletes the key).
    bool existed = false;
    if (o.replace) s = ctx.store.Delete(key, &existed);
  } else {
    s = ctx.store.Put(
        key, *value, ttl,
        o.replace ? engine::PutMode::kUpsert : engine::PutMode::kIfAbsent);
  }
  if (s.code() == StatusCode::kAlreadyExists) {  // created since the check
    ctx.out.Error(kBusyKey);
  } else if (!s.ok()) {
    ReplyEngineError(ctx, s);
  } else {
    // kCmdNoTouch: the executor's touch would overwrite IDLETIME's.
    const int64_t idle_ms = std::max<int64_t>(o.idle_seconds, 0) * 1000;
    ctx.server.access_clock().Touch(key, now - idle_ms);
    ctx.out.Ok();
  }
}

constexpr uint32_t kW = kCmdWrite | kCmdKeyspace;
constexpr uint32_t kR = kCmdReadOnly | kCmdKeyspace;

}  // namespace

void RegisterDumpCommands(CommandTable* t) {
  const std::string_view g = "generic";
  t->Add(
      {.name = "dump",
       .arity = 2,
       .flags = kR,
       .fn = DumpCommand,
       .first_key = 1,
       .last_key = 1,
       .step = 1,
       .group = g,
       .summary =
           "Return a serialized version of the value stored at the specified "
           "key.",
       .since = "2.6.0"});
  t->Add({.name = "restore",
          .arity = -4,
          .flags = kW | kCmdNoTouch,
          .fn = RestoreCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary =
              "Create a key using the provided serialized value, previously "
              "obtained using DUMP.",
          .since = "2.6.0"});
}

}  // namespace daxkv::kv
