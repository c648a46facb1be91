// BITFIELD and BITFIELD_RO: GET / SET / INCRBY of signed and unsigned
// fields (i1..i64, u1..u63) at bit offsets or "#N" field indexes, with
// OVERFLOW WRAP | SAT | FAIL, as Redis 7.0 parses and applies them. The
// subcommands of one call apply to the string in one atomic engine Update
// (the key's expiry kept); a call of GETs alone only reads.
#include <optional>
#include <string>
#include <vector>

#include "kv/bitops.h"
#include "kv/command.h"

namespace daxkv::kv {
namespace {

using engine::UpdateInput;
using engine::UpdateOutput;

enum class FieldOp { kGet, kSet, kIncrBy };

struct BitfieldStep {
  FieldOp op;
  BitfieldType type;
  uint64_t offset;
  int64_t value;  // SET's value or INCRBY's increment
  BitfieldOverflow overflow;
};

struct BitfieldPlan {
  std::vector<BitfieldStep> steps;
  bool writes = false;
};

// Redis's parsing order: the subcommand and its argument count, then the
// type, the offset and the value, one subcommand at a time; the first bad
// argument is the error. False after the error reply.
bool ParseSteps(CommandContext& ctx, BitfieldPlan* plan) {
  const uint64_t max_bytes = ctx.server.settings().proto_max_bulk_len.load();
  BitfieldOverflow overflow = BitfieldOverflow::kWrap;
  const size_t argc = ctx.argv.size();
  for (size_t j = 2; j < argc; ++j) {
    const size_t rest = argc - j - 1;
    std::string_view sub = ctx.argv[j];
    FieldOp op;
    if (EqualsIgnoreCase(sub, "get") && rest >= 2) {
      op = FieldOp::kGet;
    } else if (EqualsIgnoreCase(sub, "set") && rest >= 3) {
      op = FieldOp::kSet;
    } else if (EqualsIgnoreCase(sub, "incrby") && rest >= 3) {
      op = FieldOp::kIncrBy;
    } else if (EqualsIgnoreCase(sub, "overflow") && rest >= 1) {
      std::string_view mode = ctx.argv[++j];
      if (EqualsIgnoreCase(mode, "wrap")) {
        overflow = BitfieldOverflow::kWrap;
      } else if (EqualsIgnoreCase(mode, "sat")) {
        overflow = BitfieldOverflow::kSat;
      } else if (EqualsIgnoreCase(mode, "fail")) {
        overflow = BitfieldOverflow::kFail;
      } else {
        ctx.out.Error("ERR Invalid OVERFLOW type specified");
        return false;
      }
      continue;
    } else {
      ReplySyntaxError(ctx);
      return false;
    }
    BitfieldStep step{op, {}, 0, 0, overflow};
    if (!ParseBitfieldType(ctx.argv[j + 1], &step.type)) {
      ctx.out.Error(
          "ERR Invalid bitfield type. Use something like i16 u8. Note that "
          "u64 is not supported but i64 is.");
      return false;
    }
    if (!ParseBitOffset(ctx.argv[j + 2], step.type.bits, max_bytes,
                        &step.offset)) {
      ctx.out.Error("ERR bit offset is not an integer or out of range");
      return false;
    }
    if (op != FieldOp::kGet) {
      plan->writes = true;
      if (!ParseIntArg(ctx, ctx.argv[j + 3], &step.value)) return false;
    }
    plan->steps.push_back(step);
    j += op == FieldOp::kGet ? 2 : 3;
  }
  return true;
}

int64_t ReadField(std::string_view s, const BitfieldStep& st) {
  return st.type.is_signed ? GetSignedBits(s, st.offset, st.type.bits)
                           : static_cast<int64_t>(
                                 GetUnsignedBits(s, st.offset, st.type.bits));
}

// Applies one SET or INCRBY to *s; returns the reply (nullopt: FAIL
// overflow, nothing written) and sets *changed when the field changed.
std::optional<int64_t> WriteField(std::string* s, const BitfieldStep& st,
                                  bool* changed) {
  const int bits = st.type.bits;
  const bool incr = st.op == FieldOp::kIncrBy;
  uint64_t old_u = GetUnsignedBits(*s, st.offset, bits);
  uint64_t new_u;
  int64_t reply;
  int over;
  if (st.type.is_signed) {
    const int64_t old = GetSignedBits(*s, st.offset, bits);
    int64_t fixed = 0;
    int64_t v = incr ? old : st.value;
    over =
        CheckSignedOverflow(v, incr ? st.value : 0, bits, st.overflow, &fixed);
    const int64_t nv =
        over ? fixed
             : static_cast<int64_t>(static_cast<uint64_t>(v) +
                                    static_cast<uint64_t>(incr ? st.value : 0));
    new_u = static_cast<uint64_t>(nv);
    reply = incr ? nv : old;
    *changed = nv != old;
  } else {
    uint64_t fixed = 0;
    uint64_t v = incr ? old_u : static_cast<uint64_t>(st.value);
    over = CheckUnsignedOverflow(v, incr ? st.value : 0, bits, st.overflow,
                                 &fixed);
    new_u = over ? fixed : v + static_cast<uint64_t>(incr ? st.value : 0);
    reply = static_cast<int64_t>(incr ? new_u : old_u);
    *changed = new_u != old_u;
  }
  if (over != 0 && st.overflow == BitfieldOverflow::kFail) {
    *changed = false;
    return std::nullopt;
  }
  SetBits(s, st.offset, bits, new_u);
  return reply;
}

void ReplyResults(CommandContext& ctx,
                  const std::vector<std::optional<int64_t>>& results) {
  ctx.out.ArrayHeader(results.size());
  for (const auto& r : results) {
    if (r) {
      ctx.out.Integer(*r);
    } else {
      ctx.out.Null();
    }
  }
}

// Writes: the string grows to the farthest bit written (a new key is
// created) even when every write fails on OVERFLOW FAIL, as in Redis.
void ApplyWrites(CommandContext& ctx, const BitfieldPlan& plan) {
  uint64_t need = 0;
  for (const auto& st : plan.steps) {
    if (st.op == FieldOp::kGet) continue;
    need = std::max(need, (st.offset + st.type.bits - 1) / 8 + 1);
  }
  // Redis lets a field end up to 7 bytes past proto-max-bulk-len; the
  // engine's values stop at it.
  if (need > ctx.server.settings().proto_max_bulk_len.load()) {
    ctx.out.Error(
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    return;
  }
  std::vector<std::optional<int64_t>> results;
  Status s = ctx.store.Update(
      ctx.argv[1], [&](const UpdateInput& in, UpdateOutput* out) {
        results.clear();
        std::string v = in.old ? *in.old : std::string();
        bool dirty = in.old == nullptr || v.size() < need;
        if (v.size() < need) v.resize(need, '\0');
        for (const auto& st : plan.steps) {
          if (st.op == FieldOp::kGet) {
            results.push_back(ReadField(v, st));
            continue;
          }
          bool changed = false;
          results.push_back(WriteField(&v, st, &changed));
          dirty |= changed;
        }
        if (!dirty) return AbortedError("unchanged");
        out->value = std::move(v);
        out->expire_at_ms = in.old_expire_at_ms;
        return OkStatus();
      });
  if (!s.ok() && s.code() != StatusCode::kAborted) {
    ReplyEngineError(ctx, s);
    return;
  }
  ReplyResults(ctx, results);
}

void BitfieldGeneric(CommandContext& ctx, bool read_only) {
  BitfieldPlan plan;
  if (!ParseSteps(ctx, &plan)) return;
  if (plan.writes && read_only) {
    ctx.out.Error("ERR BITFIELD_RO only supports the GET subcommand");
    return;
  }
  if (plan.writes) {
    ApplyWrites(ctx, plan);
    return;
  }
  auto r = ctx.store.Get(ctx.argv[1]);
  CountLookup(ctx, r.ok());
  if (!r.ok() && r.status().code() != StatusCode::kNotFound) {
    ReplyEngineError(ctx, r.status());
    return;
  }
  std::string_view v = r.ok() ? std::string_view(r->value) : "";
  std::vector<std::optional<int64_t>> results;
  for (const auto& st : plan.steps) results.push_back(ReadField(v, st));
  ReplyResults(ctx, results);
}

void BitfieldCommand(CommandContext& ctx) { BitfieldGeneric(ctx, false); }
void BitfieldRoCommand(CommandContext& ctx) { BitfieldGeneric(ctx, true); }

}  // namespace

void RegisterBitfieldCommands(CommandTable* t) {
  t->Add({.name = "bitfield",
          .arity = -2,
          .flags = kCmdWrite | kCmdKeyspace,
          .fn = BitfieldCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = "bitmap",
          .summary = "Perform arbitrary bitfield integer operations on "
                     "strings",
          .since = "3.2.0"});
  t->Add({.name = "bitfield_ro",
          .arity = -2,
          .flags = kCmdReadOnly | kCmdKeyspace | kCmdFast,
          .fn = BitfieldRoCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = "bitmap",
          .summary = "Perform arbitrary bitfield integer operations on "
                     "strings. Read-only variant of BITFIELD",
          .since = "6.0.0"});
}

}  // namespace daxkv::kv
