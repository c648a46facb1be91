// GET/SET family: GET, SET, SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX,
// MGET, MSET, MSETNX, STRLEN.
#include <algorithm>
#include <optional>
#include <span>
#include <string>

#include "engine/txn.h"
#include "kv/command.h"
#include "kv/expire_args.h"

namespace daxkv::kv {
namespace {

using engine::PutMode;
using engine::UpdateInput;
using engine::UpdateOutput;

// A key that exists, of any type, is a keyspace hit: Redis's lookupKey
// counts it before GET's type check replies WRONGTYPE (MGET's nil).
bool Found(const Status& s) { return s.ok() || engine::IsWrongType(s); }

void GetCommand(CommandContext& ctx) {
  auto r = ctx.store.Get(ctx.argv[1]);
  CountLookup(ctx, Found(r.status()));
  if (r.ok()) {
    ctx.out.Bulk(r->value);
  } else if (r.status().code() == StatusCode::kNotFound) {
    ctx.out.Null();
  } else {
    ReplyEngineError(ctx, r.status());
  }
}

struct SetOptions {
  bool nx = false, xx = false, get = false, keepttl = false;
  int64_t expire_at_ms = 0;  // 0 = none
};

// Parses SET's options from argv[3..] like Redis's
// parseExtendedStringArgumentsOrReply; replies on error.
bool IsExpireOption(std::string_view opt) {
  return EqualsIgnoreCase(opt, "ex") || EqualsIgnoreCase(opt, "px") ||
         EqualsIgnoreCase(opt, "exat") || EqualsIgnoreCase(opt, "pxat");
}

bool ParseSetOptions(CommandContext& ctx, SetOptions* o) {
  size_t expire_idx = 0;  // index of the last EX/PX/EXAT/PXAT option
  for (size_t j = 3; j < ctx.argv.size(); ++j) {
    std::string_view opt = ctx.argv[j];
    bool has_next = j + 1 < ctx.argv.size();
    if (EqualsIgnoreCase(opt, "nx") && !o->xx) {
      o->nx = true;
    } else if (EqualsIgnoreCase(opt, "xx") && !o->nx) {
      o->xx = true;
    } else if (EqualsIgnoreCase(opt, "get")) {
      o->get = true;
    } else if (EqualsIgnoreCase(opt, "keepttl") && expire_idx == 0) {
      o->keepttl = true;
    } else if (!o->keepttl && has_next && IsExpireOption(opt) &&
               (expire_idx == 0 ||
                EqualsIgnoreCase(ctx.argv[expire_idx], opt))) {
      expire_idx = j++;
    } else {
      ReplySyntaxError(ctx);
      return false;
    }
  }
  if (expire_idx == 0) return true;
  // As Redis: the expiry value is checked only once every option parsed.
  std::string_view opt = ctx.argv[expire_idx];
  ExpireUnit unit = (opt[0] == 'e' || opt[0] == 'E')
                        ? ExpireUnit::kSeconds
                        : ExpireUnit::kMilliseconds;
  return ParseExpireArg(ctx, "set", ctx.argv[expire_idx + 1], unit,
                        opt.size() == 4, &o->expire_at_ms);
}

// SET with GET or KEEPTTL needs the old record: one atomic Update.
void SetWithUpdate(CommandContext& ctx, const SetOptions& o, bool expired) {
  std::optional<std::string> old;
  bool condition_failed = false;
  std::string_view value = ctx.argv[2];
  Status s = ctx.store.Update(
      ctx.argv[1], [&](const UpdateInput& in, UpdateOutput* out) {
        if (in.old != nullptr) old = *in.old;
        if ((o.nx && in.old != nullptr) || (o.xx && in.old == nullptr)) {
          condition_failed = true;
          return AbortedError("condition");
        }
        if (!expired) {
          out->value = std::string(value);
          out->expire_at_ms = o.keepttl ? in.old_expire_at_ms : o.expire_at_ms;
        }
        return OkStatus();
      });
  if (!s.ok() && !condition_failed) {
    ReplyEngineError(ctx, s);
    return;
  }
  // Redis sets the key, then expires it at once: its watchers see a write
  // even when the key was absent (and the engine wrote nothing).
  if (expired && !condition_failed) ctx.server.watches().Touch(ctx.argv[1]);
  if (o.get) {
    if (old) {
      ctx.out.Bulk(*old);
    } else {
      ctx.out.Null();
    }
  } else if (condition_failed) {
    ctx.out.Null();
  } else {
    ctx.out.Ok();
  }
}

void SetGeneric(CommandContext& ctx, const SetOptions& o) {
  // An expiry already in the past deletes the key instead (as Redis).
  bool expired = o.expire_at_ms != 0 && o.expire_at_ms <= ctx.server.NowMs();
  if (o.get || o.keepttl || expired) {
    SetWithUpdate(ctx, o, expired);
    return;
  }
  PutMode mode = o.nx ? PutMode::kIfAbsent
                      : (o.xx ? PutMode::kIfPresent : PutMode::kUpsert);
  Status s = ctx.store.Put(ctx.argv[1], ctx.argv[2], o.expire_at_ms, mode);
  if (s.ok()) {
    ctx.out.Ok();
  } else if (s.code() == StatusCode::kAlreadyExists ||
             (s.code() == StatusCode::kNotFound && o.xx)) {
    ctx.out.Null();
  } else {
    ReplyEngineError(ctx, s);
  }
}

void SetCommand(CommandContext& ctx) {
  SetOptions o;
  if (!ParseSetOptions(ctx, &o)) return;
  SetGeneric(ctx, o);
}

void SetNxCommand(CommandContext& ctx) {
  Status s = ctx.store.Put(ctx.argv[1], ctx.argv[2], 0, PutMode::kIfAbsent);
  if (s.ok()) {
    ctx.out.Integer(1);
  } else if (s.code() == StatusCode::kAlreadyExists) {
    ctx.out.Integer(0);
  } else {
    ReplyEngineError(ctx, s);
  }
}

void SetExGeneric(CommandContext& ctx, ExpireUnit unit, std::string_view name) {
  SetOptions o;
  if (!ParseExpireArg(ctx, name, ctx.argv[2], unit, false, &o.expire_at_ms)) {
    return;
  }
  Status s =
      ctx.store.Put(ctx.argv[1], ctx.argv[3], o.expire_at_ms, PutMode::kUpsert);
  if (s.ok()) {
    ctx.out.Ok();
  } else {
    ReplyEngineError(ctx, s);
  }
}

void SetExCommand(CommandContext& ctx) {
  SetExGeneric(ctx, ExpireUnit::kSeconds, "setex");
}
void PSetExCommand(CommandContext& ctx) {
  SetExGeneric(ctx, ExpireUnit::kMilliseconds, "psetex");
}

// Replaces (value given) or deletes (nullopt) a key, replying with the old
// value: GETSET and GETDEL.
void GetAndReplace(CommandContext& ctx, std::optional<std::string_view> value) {
  std::optional<std::string> old;
  Status s = ctx.store.Update(ctx.argv[1],
                              [&](const UpdateInput& in, UpdateOutput* out) {
                                if (in.old != nullptr) old = *in.old;
                                if (value) out->value = std::string(*value);
                                return OkStatus();
                              });
  if (!s.ok()) {
    ReplyEngineError(ctx, s);
  } else if (old) {
    ctx.out.Bulk(*old);
  } else {
    ctx.out.Null();
  }
}

void GetSetCommand(CommandContext& ctx) { GetAndReplace(ctx, ctx.argv[2]); }
void GetDelCommand(CommandContext& ctx) { GetAndReplace(ctx, std::nullopt); }

// GETEX's options, accepted as Redis's parseExtendedStringArgumentsOrReply
// does: returns false after replying on error. *expire_idx is the index of
// the EX/PX/EXAT/PXAT option (0 if none); *persist for PERSIST.
bool ParseGetExSyntax(CommandContext& ctx, size_t* expire_idx, bool* persist) {
  *expire_idx = 0;
  *persist = false;
  for (size_t j = 2; j < ctx.argv.size(); ++j) {
    std::string_view opt = ctx.argv[j];
    bool has_next = j + 1 < ctx.argv.size();
    if (EqualsIgnoreCase(opt, "persist") && *expire_idx == 0) {
      *persist = true;
    } else if (!*persist && has_next && IsExpireOption(opt) &&
               (*expire_idx == 0 ||
                EqualsIgnoreCase(ctx.argv[*expire_idx], opt))) {
      *expire_idx = j++;
    } else {
      ReplySyntaxError(ctx);
      return false;
    }
  }
  return true;
}

// What GETEX does to the key's expiry: kept, set to a time, or removed;
// a time already past deletes the key (as Redis does for EXAT/PXAT).
struct GetExPlan {
  bool change = false;
  int64_t expire_at_ms = 0;
  ExpireArgError error = ExpireArgError::kNone;
};

GetExPlan PlanGetEx(CommandContext& ctx, size_t expire_idx, bool persist) {
  GetExPlan plan;
  plan.change = persist || expire_idx != 0;
  if (expire_idx == 0) return plan;
  std::string_view opt = ctx.argv[expire_idx];
  ExpireUnit unit = (opt[0] == 'e' || opt[0] == 'E')
                        ? ExpireUnit::kSeconds
                        : ExpireUnit::kMilliseconds;
  plan.error = ParseExpireValue(ctx.argv[expire_idx + 1], unit, opt.size() == 4,
                                ctx.server.NowMs(), &plan.expire_at_ms);
  return plan;
}

// The read and the expiry change are one atomic Update, so no other write
// lands between them (the reply is the value the new expiry applies to).
void GetExCommand(CommandContext& ctx) {
  size_t expire_idx = 0;
  bool persist = false;
  if (!ParseGetExSyntax(ctx, &expire_idx, &persist)) return;
  if (expire_idx == 0 && !persist) {
    GetCommand(ctx);
    return;
  }
  const GetExPlan plan = PlanGetEx(ctx, expire_idx, persist);
  const int64_t now = ctx.server.NowMs();
  std::optional<std::string> value;
  Status s = ctx.store.Update(
      ctx.argv[1], [&](const UpdateInput& in, UpdateOutput* out) -> Status {
        value.reset();
        if (in.old == nullptr) return AbortedError("absent");
        value = *in.old;
        // As Redis: a bad expiry is reported only for an existing key.
        if (plan.error != ExpireArgError::kNone) return AbortedError("expiry");
        if (plan.expire_at_ms == in.old_expire_at_ms) {
          return AbortedError("unchanged");  // nothing to write
        }
        if (plan.expire_at_ms == 0 || plan.expire_at_ms > now) {
          out->value = *in.old;
          out->expire_at_ms = plan.expire_at_ms;
        }  // else: a time already past deletes the key
        return OkStatus();
      });
  CountLookup(ctx, value.has_value());
  if (!s.ok() && s.code() != StatusCode::kAborted) {
    ReplyEngineError(ctx, s);
  } else if (!value) {
    ctx.out.Null();
  } else if (plan.error != ExpireArgError::kNone) {
    ReplyExpireArgError(ctx, "getex", plan.error);
  } else {
    ctx.out.Bulk(*value);
  }
}

// One batched engine lookup for all the keys (Store::MultiGet), in chunks
// so that the scratch stays bounded; a key that is absent, expired or not
// a string is a nil, as in Redis.
void MGetCommand(CommandContext& ctx) {
  constexpr size_t kChunk = 64;
  // Reused by every MGET of this thread: the values keep their capacity.
  static thread_local std::string values[kChunk];
  static thread_local Status statuses[kChunk];
  const std::span<const std::string_view> keys = ctx.argv.subspan(1);
  ctx.out.ArrayHeader(keys.size());
  for (size_t off = 0; off < keys.size(); off += kChunk) {
    const size_t n = std::min(kChunk, keys.size() - off);
    ctx.store.MultiGet(keys.subspan(off, n), std::span(values, n),
                       std::span(statuses, n));
    for (size_t i = 0; i < n; ++i) {
      CountLookup(ctx, Found(statuses[i]));
      if (statuses[i].ok()) {
        ctx.out.Bulk(values[i]);
      } else {
        ctx.out.Null();
      }
    }
  }
}

void MSetGeneric(CommandContext& ctx, bool nx) {
  if (ctx.argv.size() % 2 == 0) {
    ReplyWrongArity(ctx, nx ? "msetnx" : "mset");
    return;
  }
  engine::WriteBatch batch;
  for (size_t i = 1; i < ctx.argv.size(); i += 2) {
    if (nx) batch.RequireVersion(ctx.argv[i], 0);
  }
  for (size_t i = 1; i < ctx.argv.size(); i += 2) {
    batch.Put(ctx.argv[i], ctx.argv[i + 1]);
  }
  // Readers on other I/O threads must see all of the keys or none (the
  // engine publishes a batch key by key); inside EXEC the block already
  // runs in isolation.
  std::optional<ExclusiveSection> isolated;
  if (ctx.argv.size() > 3 && !ctx.in_exec) isolated.emplace(ctx);
  Status s = ctx.store.Write(batch);
  isolated.reset();
  if (s.ok()) {
    if (nx) {
      ctx.out.Integer(1);
    } else {
      ctx.out.Ok();
    }
  } else if (nx && s.code() == StatusCode::kAborted) {
    ctx.out.Integer(0);
  } else {
    ReplyEngineError(ctx, s);
  }
}

void MSetCommand(CommandContext& ctx) { MSetGeneric(ctx, false); }
void MSetNxCommand(CommandContext& ctx) { MSetGeneric(ctx, true); }

void StrLenCommand(CommandContext& ctx) {
  auto r = ctx.store.Get(ctx.argv[1]);
  if (!r.ok() && r.status().code() != StatusCode::kNotFound) {
    ReplyEngineError(ctx, r.status());  // WRONGTYPE
    return;
  }
  ctx.out.Integer(r.ok() ? static_cast<int64_t>(r->value.size()) : 0);
}

constexpr uint32_t kW = kCmdWrite | kCmdKeyspace;
constexpr uint32_t kR = kCmdReadOnly | kCmdKeyspace;

}  // namespace

void RegisterStringCommands(CommandTable* t) {
  const std::string_view g = "string";
  t->Add({.name = "get",
          .arity = 2,
          .flags = kR | kCmdFast,
          .fn = GetCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Get the value of a key",
          .since = "1.0.0"});
  t->Add({.name = "set",
          .arity = -3,
          .flags = kW,
          .fn = SetCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Set the string value of a key",
          .since = "1.0.0"});
  t->Add({.name = "setnx",
          .arity = 3,
          .flags = kW | kCmdFast,
          .fn = SetNxCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Set the value of a key, only if the key does not exist",
          .since = "1.0.0"});
  t->Add({.name = "setex",
          .arity = 4,
          .flags = kW,
          .fn = SetExCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Set the value and expiration of a key",
          .since = "2.0.0"});
  t->Add({.name = "psetex",
          .arity = 4,
          .flags = kW,
          .fn = PSetExCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Set the value and expiration in milliseconds of a key",
          .since = "2.6.0"});
  t->Add({.name = "getset",
          .arity = 3,
          .flags = kW | kCmdFast,
          .fn = GetSetCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Set the string value of a key and return its old value",
          .since = "1.0.0"});
  t->Add({.name = "getdel",
          .arity = 2,
          .flags = kW | kCmdFast,
          .fn = GetDelCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Get the value of a key and delete the key",
          .since = "6.2.0"});
  t->Add({.name = "getex",
          .arity = -2,
          .flags = kW | kCmdFast,
          .fn = GetExCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Get the value of a key and optionally set its expiration",
          .since = "6.2.0"});
  t->Add({.name = "mget",
          .arity = -2,
          .flags = kR | kCmdFast,
          .fn = MGetCommand,
          .first_key = 1,
          .last_key = -1,
          .step = 1,
          .group = g,
          .summary = "Get the values of all the given keys",
          .since = "1.0.0"});
  t->Add({.name = "mset",
          .arity = -3,
          .flags = kW,
          .fn = MSetCommand,
          .first_key = 1,
          .last_key = -1,
          .step = 2,
          .group = g,
          .summary = "Set multiple keys to multiple values",
          .since = "1.0.1"});
  t->Add({.name = "msetnx",
          .arity = -3,
          .flags = kW,
          .fn = MSetNxCommand,
          .first_key = 1,
          .last_key = -1,
          .step = 2,
          .group = g,
          .summary = "Set multiple keys to multiple values, only if none of "
                     "the keys exist",
          .since = "1.0.1"});
  t->Add({.name = "strlen",
          .arity = 2,
          .flags = kR | kCmdFast,
          .fn = StrLenCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Get the length of the value stored in a key",
          .since = "2.2.0"});
}

}  // namespace daxkv::kv
