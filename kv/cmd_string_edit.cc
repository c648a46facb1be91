// In-place string edits and counters: APPEND, GETRANGE, SETRANGE, INCR,
// DECR, INCRBY, DECRBY, INCRBYFLOAT. Each write is one atomic engine Update
// that keeps the key's expiry, as Redis does.
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "kv/command.h"
#include "kv/numbers.h"

namespace daxkv::kv {
namespace {

using engine::UpdateInput;
using engine::UpdateOutput;

constexpr std::string_view kErrTooBig =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

bool LengthOk(CommandContext& ctx, uint64_t total) {
  if (total > ctx.server.settings().proto_max_bulk_len.load()) {
    ctx.out.Error(kErrTooBig);
    return false;
  }
  return true;
}

void AppendCommand(CommandContext& ctx) {
  std::string_view add = ctx.argv[2];
  uint64_t limit = ctx.server.settings().proto_max_bulk_len.load();
  size_t new_len = 0;
  bool too_big = false;
  Status s = ctx.store.Update(ctx.argv[1],
                              [&](const UpdateInput& in, UpdateOutput* out) {
                                size_t old_len = in.old ? in.old->size() : 0;
                                if (old_len + add.size() > limit) {
                                  too_big = true;
                                  return AbortedError("too big");
                                }
                                out->value.emplace();
                                out->value->reserve(old_len + add.size());
                                if (in.old) out->value->append(*in.old);
                                out->value->append(add);
                                out->expire_at_ms = in.old_expire_at_ms;
                                new_len = out->value->size();
                                return OkStatus();
                              });
  if (too_big) {
    ctx.out.Error(kErrTooBig);
  } else if (!s.ok()) {
    ReplyEngineError(ctx, s);
  } else {
    ctx.out.Integer(static_cast<int64_t>(new_len));
  }
}

void GetRangeCommand(CommandContext& ctx) {
  int64_t start = 0, end = 0;
  if (!ParseIntArg(ctx, ctx.argv[2], &start)) return;
  if (!ParseIntArg(ctx, ctx.argv[3], &end)) return;
  auto r = ctx.store.Get(ctx.argv[1]);
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kNotFound) {
      ctx.out.Bulk("");
    } else {
      ReplyEngineError(ctx, r.status());  // WRONGTYPE
    }
    return;
  }
  int64_t len = static_cast<int64_t>(r->value.size());
  if (start < 0 && end < 0 && start > end) {
    ctx.out.Bulk("");
    return;
  }
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len == 0) {
    ctx.out.Bulk("");
    return;
  }
  ctx.out.Bulk(std::string_view(r->value).substr(
      static_cast<size_t>(start), static_cast<size_t>(end - start + 1)));
}

void SetRangeCommand(CommandContext& ctx) {
  int64_t offset = 0;
  if (!ParseIntArg(ctx, ctx.argv[2], &offset)) return;
  if (offset < 0) {
    ctx.out.Error("ERR offset is out of range");
    return;
  }
  std::string_view value = ctx.argv[3];
  if (value.empty()) {
    auto r = ctx.store.Get(ctx.argv[1]);
    ctx.out.Integer(r.ok() ? static_cast<int64_t>(r->value.size()) : 0);
    return;
  }
  if (!LengthOk(ctx, static_cast<uint64_t>(offset) + value.size())) return;
  size_t new_len = 0;
  Status s = ctx.store.Update(
      ctx.argv[1], [&](const UpdateInput& in, UpdateOutput* out) {
        std::string v = in.old ? *in.old : std::string();
        size_t end = static_cast<size_t>(offset) + value.size();
        if (v.size() < end) v.resize(end, '\0');
        std::memcpy(v.data() + offset, value.data(), value.size());
        new_len = v.size();
        out->value = std::move(v);
        out->expire_at_ms = in.old_expire_at_ms;
        return OkStatus();
      });
  if (!s.ok()) {
    ReplyEngineError(ctx, s);
  } else {
    ctx.out.Integer(static_cast<int64_t>(new_len));
  }
}

enum class IncrError { kNone, kNotInteger, kOverflow };

void IncrBy(CommandContext& ctx, int64_t incr) {
  IncrError err = IncrError::kNone;
  int64_t result = 0;
  Status s = ctx.store.Update(ctx.argv[1], [&](const UpdateInput& in,
                                               UpdateOutput* out) {
    int64_t v = 0;
    if (in.old && !ParseInt64(*in.old, &v)) {
      err = IncrError::kNotInteger;
      return AbortedError("not an integer");
    }
    if ((incr < 0 && v < 0 && incr < std::numeric_limits<int64_t>::min() - v) ||
        (incr > 0 && v > 0 && incr > std::numeric_limits<int64_t>::max() - v)) {
      err = IncrError::kOverflow;
      return AbortedError("overflow");
    }
    result = v + incr;
    out->value = std::to_string(result);
    out->expire_at_ms = in.old_expire_at_ms;
    return OkStatus();
  });
  if (err == IncrError::kNotInteger) {
    ReplyNotInteger(ctx);
  } else if (err == IncrError::kOverflow) {
    ctx.out.Error("ERR increment or decrement would overflow");
  } else if (!s.ok()) {
    ReplyEngineError(ctx, s);
  } else {
    ctx.out.Integer(result);
  }
}

void IncrCommand(CommandContext& ctx) { IncrBy(ctx, 1); }
void DecrCommand(CommandContext& ctx) { IncrBy(ctx, -1); }

void IncrByCommand(CommandContext& ctx) {
  int64_t incr = 0;
  if (ParseIntArg(ctx, ctx.argv[2], &incr)) IncrBy(ctx, incr);
}

void DecrByCommand(CommandContext& ctx) {
  int64_t decr = 0;
  if (!ParseIntArg(ctx, ctx.argv[2], &decr)) return;
  if (decr == std::numeric_limits<int64_t>::min()) {
    ctx.out.Error("ERR decrement would overflow");
    return;
  }
  IncrBy(ctx, -decr);
}

void IncrByFloatCommand(CommandContext& ctx) {
  long double incr = 0;
  if (!ParseLongDouble(ctx.argv[2], &incr)) {
    ctx.out.Error("ERR value is not a valid float");
    return;
  }
  std::string_view err;
  std::string result;
  Status s = ctx.store.Update(
      ctx.argv[1], [&](const UpdateInput& in, UpdateOutput* out) {
        long double v = 0;
        if (in.old && !ParseLongDouble(*in.old, &v)) {
          err = "ERR value is not a valid float";
          return AbortedError("not a float");
        }
        v += incr;
        if (std::isnan(v) || std::isinf(v)) {
          err = "ERR increment would produce NaN or Infinity";
          return AbortedError("nan");
        }
        result = FormatLongDouble(v);
        out->value = result;
        out->expire_at_ms = in.old_expire_at_ms;
        return OkStatus();
      });
  if (!err.empty()) {
    ctx.out.Error(err);
  } else if (!s.ok()) {
    ReplyEngineError(ctx, s);
  } else {
    ctx.out.Bulk(result);
  }
}

constexpr uint32_t kW = kCmdWrite | kCmdKeyspace;

}  // namespace

void RegisterStringEditCommands(CommandTable* t) {
  const std::string_view g = "string";
  t->Add({.name = "append",
          .arity = 3,
          .flags = kW | kCmdFast,
          .fn = AppendCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Append a value to a key",
          .since = "2.0.0"});
  t->Add({.name = "getrange",
          .arity = 4,
          .flags = kCmdReadOnly | kCmdKeyspace,
          .fn = GetRangeCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Get a substring of the string stored at a key",
          .since = "2.4.0"});
  t->Add(
      {.name = "setrange",
       .arity = 4,
       .flags = kW,
       .fn = SetRangeCommand,
       .first_key = 1,
       .last_key = 1,
       .step = 1,
       .group = g,
       .summary =
           "Overwrite part of a string at key starting at the specified offset",
       .since = "2.2.0"});
  t->Add({.name = "incr",
          .arity = 2,
          .flags = kW | kCmdFast,
          .fn = IncrCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Increment the integer value of a key by one",
          .since = "1.0.0"});
  t->Add({.name = "decr",
          .arity = 2,
          .flags = kW | kCmdFast,
          .fn = DecrCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Decrement the integer value of a key by one",
          .since = "1.0.0"});
  t->Add({.name = "incrby",
          .arity = 3,
          .flags = kW | kCmdFast,
          .fn = IncrByCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Increment the integer value of a key by the given amount",
          .since = "1.0.0"});
  t->Add({.name = "decrby",
          .arity = 3,
          .flags = kW | kCmdFast,
          .fn = DecrByCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Decrement the integer value of a key by the given number",
          .since = "1.0.0"});
  t->Add({.name = "incrbyfloat",
          .arity = 3,
          .flags = kW | kCmdFast,
          .fn = IncrByFloatCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Increment the float value of a key by the given amount",
          .since = "2.6.0"});
}

}  // namespace daxkv::kv
