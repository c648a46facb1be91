// Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (NX/XX/GT/LT), TTL,
// PTTL, EXPIRETIME, PEXPIRETIME, PERSIST. Expiry times are absolute Unix ms
// in the engine, so they survive restarts.
#include <limits>
#include <string>

#include "kv/command.h"
#include "kv/expire_args.h"

namespace daxkv::kv {
namespace {

enum ExpireFlag { kNx = 1, kXx = 2, kGt = 4, kLt = 8 };

// An expiry change that does not happen: the command replies 0.
StatusOr<int64_t> Refused() { return AbortedError("expiry unchanged"); }

void ReplyExpiryChange(CommandContext& ctx, const Status& s) {
  if (s.code() == StatusCode::kAborted) {
    ctx.out.Integer(0);
  } else if (!s.ok()) {
    ReplyEngineError(ctx, s);
  } else {
    ctx.out.Integer(1);
  }
}

bool ParseExpireFlags(CommandContext& ctx, int* flags) {
  for (size_t j = 3; j < ctx.argv.size(); ++j) {
    std::string_view opt = ctx.argv[j];
    if (EqualsIgnoreCase(opt, "nx")) {
      *flags |= kNx;
    } else if (EqualsIgnoreCase(opt, "xx")) {
      *flags |= kXx;
    } else if (EqualsIgnoreCase(opt, "gt")) {
      *flags |= kGt;
    } else if (EqualsIgnoreCase(opt, "lt")) {
      *flags |= kLt;
    } else {
      // Redis formats the option with %s: it stops at a NUL byte.
      ctx.out.Error("ERR Unsupported option " +
                    std::string(opt.substr(0, opt.find('\0'))));
      return false;
    }
  }
  if ((*flags & kNx) && (*flags & (kXx | kGt | kLt))) {
    ctx.out.Error(
        "ERR NX and XX, GT or LT options at the same time are not compatible");
    return false;
  }
  if ((*flags & kGt) && (*flags & kLt)) {
    ctx.out.Error("ERR GT and LT options at the same time are not compatible");
    return false;
  }
  return true;
}

// Whether the flags allow replacing `current` (0 = none) by `when`.
bool FlagsAllow(int flags, int64_t current, int64_t when) {
  if ((flags & kNx) && current != 0) return false;
  if ((flags & kXx) && current == 0) return false;
  if ((flags & kGt) && (current == 0 || when <= current)) return false;
  if ((flags & kLt) && current != 0 && when >= current) return false;
  return true;
}

void ExpireGeneric(CommandContext& ctx, ExpireUnit unit, bool absolute,
                   std::string_view name) {
  int flags = 0;
  if (!ParseExpireFlags(ctx, &flags)) return;
  int64_t when = 0;
  if (!ParseIntArg(ctx, ctx.argv[2], &when)) return;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  if (unit == ExpireUnit::kSeconds) {
    if (when > kMax / 1000 || when < kMin / 1000) {
      ReplyInvalidExpire(ctx, name);
      return;
    }
    when *= 1000;
  }
  int64_t now = ctx.server.NowMs();
  int64_t base = absolute ? 0 : now;
  if (when > kMax - base) {
    ReplyInvalidExpire(ctx, name);
    return;
  }
  when += base;
  Status s = ctx.store.ChangeExpiry(
      ctx.argv[1], [&](const engine::KeyInfo& info) -> StatusOr<int64_t> {
        if (info.type == engine::KeyType::kNone) return Refused();
        if (!FlagsAllow(flags, info.expire_at_ms, when)) return Refused();
        // An expiry in the past deletes the key.
        return when > now ? when : Store::kExpireDeletes;
      });
  ReplyExpiryChange(ctx, s);
}

void ExpireCommand(CommandContext& ctx) {
  ExpireGeneric(ctx, ExpireUnit::kSeconds, false, "expire");
}
void PExpireCommand(CommandContext& ctx) {
  ExpireGeneric(ctx, ExpireUnit::kMilliseconds, false, "pexpire");
}
void ExpireAtCommand(CommandContext& ctx) {
  ExpireGeneric(ctx, ExpireUnit::kSeconds, true, "expireat");
}
void PExpireAtCommand(CommandContext& ctx) {
  ExpireGeneric(ctx, ExpireUnit::kMilliseconds, true, "pexpireat");
}

// Redis's ttlGenericCommand.
void TtlGeneric(CommandContext& ctx, bool output_ms, bool output_abs) {
  auto r = ctx.store.Stat(ctx.argv[1]);
  if (!r.ok() || r->type == engine::KeyType::kNone) {
    ctx.out.Integer(-2);
    return;
  }
  if (r->expire_at_ms == 0) {
    ctx.out.Integer(-1);
    return;
  }
  int64_t ttl =
      output_abs ? r->expire_at_ms : r->expire_at_ms - ctx.server.NowMs();
  if (ttl < 0) ttl = 0;
  ctx.out.Integer(output_ms ? ttl : (ttl + 500) / 1000);
}

void TtlCommand(CommandContext& ctx) { TtlGeneric(ctx, false, false); }
void PTtlCommand(CommandContext& ctx) { TtlGeneric(ctx, true, false); }
void ExpireTimeCommand(CommandContext& ctx) { TtlGeneric(ctx, false, true); }
void PExpireTimeCommand(CommandContext& ctx) { TtlGeneric(ctx, true, true); }

// Atomic: the TTL it removes is the one it saw.
void PersistCommand(CommandContext& ctx) {
  Status s = ctx.store.ChangeExpiry(
      ctx.argv[1], [](const engine::KeyInfo& info) -> StatusOr<int64_t> {
        if (info.type == engine::KeyType::kNone || info.expire_at_ms == 0) {
          return Refused();  // nothing to write
        }
        return int64_t{0};
      });
  ReplyExpiryChange(ctx, s);
}

constexpr uint32_t kW = kCmdWrite | kCmdKeyspace | kCmdFast;
constexpr uint32_t kR = kCmdReadOnly | kCmdKeyspace | kCmdFast;

}  // namespace

void RegisterExpireCommands(CommandTable* t) {
  const std::string_view g = "generic";
  t->Add({.name = "expire",
          .arity = -3,
          .flags = kW,
          .fn = ExpireCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Set a key's time to live in seconds",
          .since = "1.0.0"});
  t->Add({.name = "pexpire",
          .arity = -3,
          .flags = kW,
          .fn = PExpireCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Set a key's time to live in milliseconds",
          .since = "2.6.0"});
  t->Add({.name = "expireat",
          .arity = -3,
          .flags = kW,
          .fn = ExpireAtCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Set the expiration for a key as a UNIX timestamp",
          .since = "1.2.0"});
  t->Add({.name = "pexpireat",
          .arity = -3,
          .flags = kW,
          .fn = PExpireAtCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary =
              "Set the expiration for a key as a UNIX timestamp specified in "
              "milliseconds",
          .since = "2.6.0"});
  t->Add({.name = "ttl",
          .arity = 2,
          .flags = kR | kCmdNoTouch,
          .fn = TtlCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Get the time to live for a key in seconds",
          .since = "1.0.0"});
  t->Add({.name = "pttl",
          .arity = 2,
          .flags = kR | kCmdNoTouch,
          .fn = PTtlCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Get the time to live for a key in milliseconds",
          .since = "2.6.0"});
  t->Add({.name = "expiretime",
          .arity = 2,
          .flags = kR | kCmdNoTouch,
          .fn = ExpireTimeCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Get the expiration Unix timestamp for a key",
          .since = "7.0.0"});
  t->Add(
      {.name = "pexpiretime",
       .arity = 2,
       .flags = kR | kCmdNoTouch,
       .fn = PExpireTimeCommand,
       .first_key = 1,
       .last_key = 1,
       .step = 1,
       .group = g,
       .summary = "Get the expiration Unix timestamp for a key in milliseconds",
       .since = "7.0.0"});
  t->Add({.name = "persist",
          .arity = 2,
          .flags = kW,
          .fn = PersistCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Remove the expiration from a key",
          .since = "2.2.0"});
}

}  // namespace daxkv::kv
