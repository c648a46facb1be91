// Bitmaps on strings: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
// BITFIELD_RO, with Redis 7.0's argument order, limits and error texts.
// Every write is one atomic engine Update of the string that keeps its
// expiry (BITOP, which replaces its destination, runs isolated like MSET),
// so it is durable before the reply and all-or-nothing inside MULTI/EXEC.
#include <optional>
#include <string>
#include <vector>

#include "kv/bitops.h"
#include "kv/command.h"

namespace daxkv::kv {
namespace {

using engine::UpdateInput;
using engine::UpdateOutput;

constexpr std::string_view kErrBitOffset =
    "ERR bit offset is not an integer or out of range";
constexpr std::string_view kErrBitValue =
    "ERR bit is not an integer or out of range";

uint64_t MaxBytes(CommandContext& ctx) {
  return ctx.server.settings().proto_max_bulk_len.load();
}

// The string at `key`, nullopt when absent; false after an error reply.
bool ReadString(CommandContext& ctx, std::string_view key,
                std::optional<std::string>* value) {
  auto r = ctx.store.Get(key);
  CountLookup(ctx, r.ok());
  if (r.ok()) {
    *value = std::move(r->value);
    return true;
  }
  if (r.status().code() == StatusCode::kNotFound) return true;
  ReplyEngineError(ctx, r.status());
  return false;
}

// Replies to an Update that may have been aborted on purpose (nothing to
// write); false when the engine failed (error sent).
bool UpdateOk(CommandContext& ctx, const Status& s) {
  if (s.ok() || s.code() == StatusCode::kAborted) return true;
  ReplyEngineError(ctx, s);
  return false;
}

void SetBitCommand(CommandContext& ctx) {
  uint64_t offset = 0;
  if (!ParseBitOffset(ctx.argv[2], 0, MaxBytes(ctx), &offset)) {
    ctx.out.Error(kErrBitOffset);
    return;
  }
  int64_t on = 0;
  if (!ParseInt64(ctx.argv[3], &on) || (on & ~int64_t{1}) != 0) {
    ctx.out.Error(kErrBitValue);
    return;
  }
  const size_t byte = offset >> 3;
  uint64_t old = 0;
  Status s = ctx.store.Update(
      ctx.argv[1], [&](const UpdateInput& in, UpdateOutput* out) {
        const bool grows = in.old == nullptr || in.old->size() <= byte;
        old = grows ? 0 : GetUnsignedBits(*in.old, offset, 1);
        // As Redis: an unchanged bit of an unchanged length writes nothing.
        if (!grows && old == static_cast<uint64_t>(on)) {
          return AbortedError("unchanged");
        }
        out->value = in.old ? *in.old : std::string();
        SetBits(&*out->value, offset, 1, static_cast<uint64_t>(on));
        out->expire_at_ms = in.old_expire_at_ms;
        return OkStatus();
      });
  if (UpdateOk(ctx, s)) ctx.out.Integer(static_cast<int64_t>(old));
}

void GetBitCommand(CommandContext& ctx) {
  uint64_t offset = 0;
  if (!ParseBitOffset(ctx.argv[2], 0, MaxBytes(ctx), &offset)) {
    ctx.out.Error(kErrBitOffset);
    return;
  }
  std::optional<std::string> v;
  if (!ReadString(ctx, ctx.argv[1], &v)) return;
  ctx.out.Integer(v ? static_cast<int64_t>(GetUnsignedBits(*v, offset, 1)) : 0);
}

// BYTE or BIT (the unit of a BITCOUNT / BITPOS range); false on error.
bool ParseRangeUnit(CommandContext& ctx, std::string_view arg, bool* in_bits) {
  if (EqualsIgnoreCase(arg, "bit")) {
    *in_bits = true;
  } else if (EqualsIgnoreCase(arg, "byte")) {
    *in_bits = false;
  } else {
    ReplySyntaxError(ctx);
    return false;
  }
  return true;
}

// As Redis: an absent key answers 0 before the range is even parsed.
void BitCountCommand(CommandContext& ctx) {
  std::optional<std::string> v;
  if (!ReadString(ctx, ctx.argv[1], &v)) return;
  if (!v) {
    ctx.out.Integer(0);
    return;
  }
  const size_t argc = ctx.argv.size();
  const auto len = static_cast<int64_t>(v->size());
  int64_t start = 0, end = len - 1;
  bool in_bits = false;
  if (argc == 4 || argc == 5) {
    if (!ParseIntArg(ctx, ctx.argv[2], &start)) return;
    if (!ParseIntArg(ctx, ctx.argv[3], &end)) return;
    if (start < 0 && end < 0 && start > end) {
      ctx.out.Integer(0);
      return;
    }
    if (argc == 5 && !ParseRangeUnit(ctx, ctx.argv[4], &in_bits)) return;
  } else if (argc != 2) {
    ReplySyntaxError(ctx);
    return;
  }
  uint64_t first = 0, last = 0;
  if (!ResolveBitRange(start, end, in_bits, len, &first, &last)) {
    ctx.out.Integer(0);
    return;
  }
  ctx.out.Integer(static_cast<int64_t>(CountBits(*v, first, last)));
}

void BitPosCommand(CommandContext& ctx) {
  int64_t bit = 0;
  if (!ParseIntArg(ctx, ctx.argv[2], &bit)) return;
  if (bit != 0 && bit != 1) {
    ctx.out.Error("ERR The bit argument must be 1 or 0.");
    return;
  }
  std::optional<std::string> v;
  if (!ReadString(ctx, ctx.argv[1], &v)) return;
  // An absent key is an endless run of zeros.
  if (!v) {
    ctx.out.Integer(bit ? -1 : 0);
    return;
  }
  const size_t argc = ctx.argv.size();
  const auto len = static_cast<int64_t>(v->size());
  int64_t start = 0, end = len - 1;
  bool in_bits = false, end_given = false;
  if (argc >= 4 && argc <= 6) {
    if (!ParseIntArg(ctx, ctx.argv[3], &start)) return;
    if (argc == 6 && !ParseRangeUnit(ctx, ctx.argv[5], &in_bits)) return;
    if (argc >= 5) {
      if (!ParseIntArg(ctx, ctx.argv[4], &end)) return;
      end_given = true;
    } else if (in_bits) {
      end = len * 8 + 7;
    }
  } else if (argc != 3) {
    ReplySyntaxError(ctx);
    return;
  }
  uint64_t first = 0, last = 0;
  if (!ResolveBitRange(start, end, in_bits, len, &first, &last)) {
    ctx.out.Integer(-1);
    return;
  }
  int64_t pos = FindBit(*v, first, last, static_cast<int>(bit));
  // Looking for a 0 without an explicit end: the string continues with
  // zeros, so the first bit past the range is the answer.
  if (pos < 0 && bit == 0 && !end_given) pos = static_cast<int64_t>(last + 1);
  ctx.out.Integer(pos);
}

enum class BitOp { kAnd, kOr, kXor, kNot };

bool ParseBitOp(std::string_view name, BitOp* op) {
  if (EqualsIgnoreCase(name, "and")) {
    *op = BitOp::kAnd;
  } else if (EqualsIgnoreCase(name, "or")) {
    *op = BitOp::kOr;
  } else if (EqualsIgnoreCase(name, "xor")) {
    *op = BitOp::kXor;
  } else if (EqualsIgnoreCase(name, "not")) {
    *op = BitOp::kNot;
  } else {
    return false;
  }
  return true;
}

// Sources shorter than the longest read as zero bytes past their end.
std::string ComputeBitOp(BitOp op, const std::vector<std::string>& src) {
  size_t max_len = 0;
  for (const auto& s : src) max_len = std::max(max_len, s.size());
  std::string out(max_len, '\0');
  for (size_t j = 0; j < max_len; ++j) {
    auto at = [&](size_t i) -> uint8_t {
      return j < src[i].size() ? static_cast<uint8_t>(src[i][j]) : 0;
    };
    uint8_t v = at(0);
    if (op == BitOp::kNot) v = static_cast<uint8_t>(~v);
    for (size_t i = 1; i < src.size(); ++i) {
      if (op == BitOp::kAnd) v &= at(i);
      if (op == BitOp::kOr) v |= at(i);
      if (op == BitOp::kXor) v ^= at(i);
    }
    out[j] = static_cast<char>(v);
  }
  return out;
}

void BitOpCommand(CommandContext& ctx) {
  BitOp op;
  if (!ParseBitOp(ctx.argv[1], &op)) {
    ReplySyntaxError(ctx);
    return;
  }
  if (op == BitOp::kNot && ctx.argv.size() != 4) {
    ctx.out.Error("ERR BITOP NOT must be called with a single source key.");
    return;
  }
  // The sources and the destination are read and written as one step, as
  // in Redis: no other client's write lands in between.
  std::optional<ExclusiveSection> isolated;
  if (!ctx.in_exec) isolated.emplace(ctx);
  std::vector<std::string> src;
  for (size_t j = 3; j < ctx.argv.size(); ++j) {
    std::optional<std::string> v;
    if (!ReadString(ctx, ctx.argv[j], &v)) return;
    src.push_back(v ? std::move(*v) : std::string());
  }
  std::string result = ComputeBitOp(op, src);
  // An empty result deletes the destination; otherwise it is replaced,
  // expiry dropped.
  Status s = result.empty() ? ctx.store.Delete(ctx.argv[2], nullptr)
                            : ctx.store.Put(ctx.argv[2], result, 0);
  isolated.reset();
  if (!s.ok()) {
    ReplyEngineError(ctx, s);
    return;
  }
  ctx.out.Integer(static_cast<int64_t>(result.size()));
}

}  // namespace

void RegisterBitfieldCommands(CommandTable* table);

void RegisterBitmapCommands(CommandTable* t) {
  const std::string_view g = "bitmap";
  const uint32_t kW = kCmdWrite | kCmdKeyspace;
  const uint32_t kR = kCmdReadOnly | kCmdKeyspace;
  t->Add({.name = "setbit",
          .arity = 4,
          .flags = kW,
          .fn = SetBitCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Sets or clears the bit at offset in the string value "
                     "stored at key",
          .since = "2.2.0"});
  t->Add({.name = "getbit",
          .arity = 3,
          .flags = kR | kCmdFast,
          .fn = GetBitCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Returns the bit value at offset in the string value "
                     "stored at key",
          .since = "2.2.0"});
  t->Add({.name = "bitcount",
          .arity = -2,
          .flags = kR,
          .fn = BitCountCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Count set bits in a string",
          .since = "2.6.0"});
  t->Add({.name = "bitpos",
          .arity = -3,
          .flags = kR,
          .fn = BitPosCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Find first bit set or clear in a string",
          .since = "2.8.7"});
  t->Add({.name = "bitop",
          .arity = -4,
          .flags = kW,
          .fn = BitOpCommand,
          .first_key = 2,
          .last_key = -1,
          .step = 1,
          .group = g,
          .summary = "Perform bitwise operations between strings",
          .since = "2.6.0"});
  RegisterBitfieldCommands(t);
}

}  // namespace daxkv::kv
