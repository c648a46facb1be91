// DUMP and RESTORE: a key's value in Redis's serialization (rdb/payload.h),
// byte-compatible with Redis 7.0, so values move between redis-server and
// daxkv with the clients' own DUMP/RESTORE (or MIGRATE from Redis).
//
// A collection is read and written in one engine Txn or view
// (kv/coll_value.h), so RESTORE of a hash, list, set or sorted set is all
// or nothing and DUMP sees no half-applied command.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "engine/txn.h"
#include "kv/coll_run.h"
#include "kv/coll_value.h"
#include "kv/command.h"
#include "rdb/payload.h"

namespace daxkv::kv {
namespace {

void ReplyPayload(ReplyWriter& out, const rdb::Value& value,
                  const rdb::EncodeOptions& opts = {}) {
  auto payload = rdb::EncodeDumpPayload(value, opts);
  if (!payload.ok()) {
    out.Error("ERR " + std::string(payload.status().message()));
    return;
  }
  out.Bulk(*payload);
}

void DumpCollection(CommandContext& ctx) {
  RunCollRead(ctx, [&](engine::ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(engine::KeyInfo info, ops.Stat(ctx.argv[1]));
    if (info.type == engine::KeyType::kNone) {
      call.out.Null();
      return OkStatus();
    }
    DAXKV_ASSIGN_OR_RETURN(rdb::Value value,
                           ReadCollection(ops, ctx.argv[1], info.type));
    ReplyPayload(
        call.out, value,
        DumpOptions(info, ctx.server.settings().set_max_intset_entries.load()));
    return OkStatus();
  });
}

void DumpCommand(CommandContext& ctx) {
  auto r = ctx.store.Get(ctx.argv[1]);
  if (engine::IsWrongType(r.status())) {
    DumpCollection(ctx);
  } else if (!r.ok()) {
    ctx.out.Null();
  } else {
    ReplyPayload(ctx.out, rdb::Value(std::move(r->value)));
  }
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

// The payload's value, or a reply (Redis's error texts) and nullopt.
std::optional<rdb::Value> DecodePayload(CommandContext& ctx) {
  auto value = rdb::DecodeDumpPayload(ctx.argv[3]);
  if (!value.ok()) {
    ctx.out.Error(rdb::RestoreErrorReply(value.status()));
    return std::nullopt;
  }
  return std::move(*value);
}

constexpr std::string_view kBusyKey = "BUSYKEY Target key name already exists.";

// RESTORE of a collection: one Txn (replace, fill, expiry) so that the key
// appears whole or not at all. `expire_at_ms` <= now: nothing is stored.
void RestoreCollection(CommandContext& ctx, const RestoreOptions& o,
                       const rdb::Value& value, int64_t expire_at_ms,
                       bool expired) {
  const std::string_view key = ctx.argv[1];
  RunCollWrite(ctx, [&](engine::Txn& txn, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(engine::KeyInfo info, txn.Stat(key));
    const bool exists = info.type != engine::KeyType::kNone;
    if (exists && !o.replace) return CommandError(kBusyKey);
    bool existed = false;
    if (exists) DAXKV_RETURN_IF_ERROR(txn.Delete(key, &existed));
    if (!expired) {
      DAXKV_RETURN_IF_ERROR(WriteCollection(txn, key, value));
      if (expire_at_ms != 0) {
        DAXKV_RETURN_IF_ERROR(txn.SetExpiry(key, expire_at_ms));
      }
    }
    if (exists || !expired) call.Modified(key);
    call.out.Ok();
    return OkStatus();
  });
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
  std::optional<rdb::Value> decoded = DecodePayload(ctx);
  if (!decoded) return;
  const int64_t now = ctx.server.NowMs();
  if (ttl != 0 && !o.absttl) ttl += now;
  const bool expired = ttl != 0 && ttl <= now;
  const int64_t idle_ms = std::max<int64_t>(o.idle_seconds, 0) * 1000;
  if (rdb::KindOf(*decoded) != rdb::ValueKind::kString) {
    RestoreCollection(ctx, o, *decoded, ttl, expired);
    // kCmdNoTouch: the executor's touch would overwrite IDLETIME's.
    ctx.server.access_clock().Touch(key, now - idle_ms);
    return;
  }
  const std::string& value = std::get<std::string>(*decoded);
  Status s;
  if (expired) {
    // Already expired: Redis stores nothing (and REPLACE deletes the key).
    bool existed = false;
    if (o.replace) s = ctx.store.Delete(key, &existed);
  } else {
    s = ctx.store.Put(
        key, value, ttl,
        o.replace ? engine::PutMode::kUpsert : engine::PutMode::kIfAbsent);
  }
  if (s.code() == StatusCode::kAlreadyExists) {  // created since the check
    ctx.out.Error(kBusyKey);
  } else if (!s.ok()) {
    ReplyEngineError(ctx, s);
  } else {
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
