// HyperLogLog: PFADD, PFCOUNT (one key, or the union of several) and
// PFMERGE, on strings in Redis's HLL encoding (kv/hyperloglog.h). Each
// write is one engine Update keeping the key's expiry; PFCOUNT of one key
// stores a recomputed cardinality back in the value's cache, as Redis does
// (so GET shows the same bytes on both servers).
#include <optional>
#include <string>

#include "kv/command.h"
#include "kv/hyperloglog.h"

namespace daxkv::kv {
namespace {

using engine::UpdateInput;
using engine::UpdateOutput;

constexpr std::string_view kErrNotHll =
    "WRONGTYPE Key is not a valid HyperLogLog string value.";
constexpr std::string_view kErrCorrupt =
    "INVALIDOBJ Corrupted HLL object detected";

enum class HllError { kNone, kNotHll, kCorrupt };

// Replies for an Update whose callback may have stopped on purpose;
// false when it sent an error.
bool Settle(CommandContext& ctx, const Status& s, HllError err) {
  if (err == HllError::kNotHll) {
    ctx.out.Error(kErrNotHll);
  } else if (err == HllError::kCorrupt) {
    ctx.out.Error(kErrCorrupt);
  } else if (!s.ok() && s.code() != StatusCode::kAborted) {
    ReplyEngineError(ctx, s);
  } else {
    return true;
  }
  return false;
}

size_t SparseMax(CommandContext& ctx) {
  return static_cast<size_t>(ctx.server.settings().hll_sparse_max_bytes.load());
}

void PfAddCommand(CommandContext& ctx) {
  const size_t sparse_max = SparseMax(ctx);
  HllError err = HllError::kNone;
  bool updated = false;
  Status s = ctx.store.Update(
      ctx.argv[1], [&](const UpdateInput& in, UpdateOutput* out) {
        err = HllError::kNone;
        updated = in.old == nullptr;  // creating the key is a change
        if (in.old != nullptr && !hll::LooksValid(*in.old)) {
          err = HllError::kNotHll;
          return AbortedError("not an HLL");
        }
        std::string h = in.old ? *in.old : hll::New();
        for (size_t j = 2; j < ctx.argv.size(); ++j) {
          int r = hll::Add(&h, ctx.argv[j], sparse_max);
          if (r < 0) {
            err = HllError::kCorrupt;
            return AbortedError("corrupt HLL");
          }
          updated |= r == 1;
        }
        if (!updated) return AbortedError("unchanged");
        hll::InvalidateCache(&h);
        out->value = std::move(h);
        out->expire_at_ms = in.old_expire_at_ms;
        return OkStatus();
      });
  if (Settle(ctx, s, err)) ctx.out.Integer(updated ? 1 : 0);
}

// Merges the registers of the HLLs at argv[1..] (absent keys are empty)
// into *max; *dense when one of them is dense. False after an error reply.
bool MergeKeys(CommandContext& ctx, hll::Registers* max, bool* dense) {
  for (size_t j = 1; j < ctx.argv.size(); ++j) {
    auto r = ctx.store.Get(ctx.argv[j]);
    CountLookup(ctx, r.ok());
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kNotFound) continue;
      ReplyEngineError(ctx, r.status());
      return false;
    }
    if (!hll::LooksValid(r->value)) {
      ctx.out.Error(kErrNotHll);
      return false;
    }
    *dense |= hll::IsDense(r->value);
    if (!hll::MergeInto(r->value, max)) {
      ctx.out.Error(kErrCorrupt);
      return false;
    }
  }
  return true;
}

// Several keys: the cardinality of their union, nothing written.
void PfCountUnion(CommandContext& ctx) {
  hll::Registers max{};
  bool dense = false;
  if (MergeKeys(ctx, &max, &dense)) {
    ctx.out.Integer(static_cast<int64_t>(hll::Estimate(max)));
  }
}

void PfCountCommand(CommandContext& ctx) {
  if (ctx.argv.size() > 2) {
    PfCountUnion(ctx);
    return;
  }
  HllError err = HllError::kNone;
  std::optional<uint64_t> card;
  Status s = ctx.store.Update(ctx.argv[1],
                              [&](const UpdateInput& in, UpdateOutput* out) {
                                err = HllError::kNone;
                                card.reset();
                                if (in.old == nullptr)
                                  return AbortedError("absent");
                                if (!hll::LooksValid(*in.old)) {
                                  err = HllError::kNotHll;
                                  return AbortedError("not an HLL");
                                }
                                std::string h = *in.old;
                                uint64_t n = 0;
                                bool recomputed = false;
                                if (!hll::Count(&h, &n, &recomputed)) {
                                  err = HllError::kCorrupt;
                                  return AbortedError("corrupt HLL");
                                }
                                card = n;
                                if (!recomputed) return AbortedError("cached");
                                out->value = std::move(h);
                                out->expire_at_ms = in.old_expire_at_ms;
                                return OkStatus();
                              });
  CountLookup(ctx, card.has_value());
  // Storing the cache is an optimisation: a failed write still answers.
  if (card && err == HllError::kNone) {
    ctx.out.Integer(static_cast<int64_t>(*card));
  } else if (Settle(ctx, s, err)) {
    ctx.out.Integer(0);
  }
}

void PfMergeCommand(CommandContext& ctx) {
  // Sources read and destination written as one step, as in Redis.
  std::optional<ExclusiveSection> isolated;
  if (!ctx.in_exec) isolated.emplace(ctx);
  hll::Registers max{};
  bool dense = false;
  if (!MergeKeys(ctx, &max, &dense)) return;
  const size_t sparse_max = SparseMax(ctx);
  HllError err = HllError::kNone;
  Status s = ctx.store.Update(ctx.argv[1],
                              [&](const UpdateInput& in, UpdateOutput* out) {
                                err = HllError::kNone;
                                std::string h = in.old ? *in.old : hll::New();
                                if (!hll::Store(&h, max, dense, sparse_max)) {
                                  err = HllError::kCorrupt;
                                  return AbortedError("corrupt HLL");
                                }
                                out->value = std::move(h);
                                out->expire_at_ms = in.old_expire_at_ms;
                                return OkStatus();
                              });
  isolated.reset();
  if (Settle(ctx, s, err)) ctx.out.Ok();
}

// PFDEBUG GETREG | DECODE | ENCODING | TODENSE <key>: Redis's debugging
// view of an HLL. GETREG and TODENSE convert a sparse value to dense (a
// write, as in Redis). Replies into `out`; *converted when h changed.
void PfDebugReply(ReplyWriter& out, std::string_view sub_arg, std::string* h,
                  bool* converted) {
  const std::string sub = ToLower(sub_arg);
  if (sub == "getreg" || sub == "todense") {
    *converted = !hll::IsDense(*h);
    if (*converted && !hll::ToDense(h)) {
      *converted = false;
      out.Error(kErrCorrupt);
      return;
    }
    if (sub == "todense") {
      out.Integer(*converted ? 1 : 0);
      return;
    }
    out.ArrayHeader(hll::kRegisters);
    for (int i = 0; i < hll::kRegisters; ++i) {
      out.Integer(hll::DenseRegister(*h, i));
    }
  } else if (sub == "decode") {
    if (hll::IsDense(*h)) {
      out.Error("ERR HLL encoding is not sparse");
    } else {
      out.Bulk(hll::DecodeSparse(*h));
    }
  } else if (sub == "encoding") {
    out.Simple(hll::IsDense(*h) ? "dense" : "sparse");
  } else {
    out.Error("ERR Unknown PFDEBUG subcommand '" + std::string(sub_arg) + "'");
  }
}

void PfDebugCommand(CommandContext& ctx) {
  std::string reply;
  Status s = ctx.store.Update(
      ctx.argv[2], [&](const UpdateInput& in, UpdateOutput* out) {
        reply.clear();
        ReplyWriter w(&reply, ctx.out.resp());
        if (in.old == nullptr) {
          w.Error("ERR The specified key does not exist");
          return AbortedError("absent");
        }
        if (!hll::LooksValid(*in.old)) {
          w.Error(kErrNotHll);
          return AbortedError("not an HLL");
        }
        std::string h = *in.old;
        bool converted = false;
        PfDebugReply(w, ctx.argv[1], &h, &converted);
        if (!converted) return AbortedError("unchanged");
        out->value = std::move(h);
        out->expire_at_ms = in.old_expire_at_ms;
        return OkStatus();
      });
  if (!s.ok() && s.code() != StatusCode::kAborted) {
    ReplyEngineError(ctx, s);
  } else {
    ctx.out.buffer()->append(reply);
  }
}

}  // namespace

void RegisterHyperLogLogCommands(CommandTable* t) {
  const std::string_view g = "hyperloglog";
  t->Add({.name = "pfadd",
          .arity = -2,
          .flags = kCmdWrite | kCmdKeyspace | kCmdFast,
          .fn = PfAddCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Adds the specified elements to the specified "
                     "HyperLogLog.",
          .since = "2.8.9"});
  t->Add({.name = "pfcount",
          .arity = -2,
          .flags = kCmdReadOnly | kCmdKeyspace,
          .fn = PfCountCommand,
          .first_key = 1,
          .last_key = -1,
          .step = 1,
          .group = g,
          .summary = "Return the approximated cardinality of the set(s) "
                     "observed by the HyperLogLog at key(s).",
          .since = "2.8.9"});
  t->Add({.name = "pfmerge",
          .arity = -2,
          .flags = kCmdWrite | kCmdKeyspace,
          .fn = PfMergeCommand,
          .first_key = 1,
          .last_key = -1,
          .step = 1,
          .group = g,
          .summary = "Merge N different HyperLogLogs into a single one.",
          .since = "2.8.9"});
  t->Add({.name = "pfdebug",
          .arity = 3,
          .flags = kCmdWrite | kCmdKeyspace | kCmdAdmin,
          .fn = PfDebugCommand,
          .first_key = 2,
          .last_key = 2,
          .step = 1,
          .group = g,
          .summary = "Internal commands for debugging HyperLogLog values",
          .since = "2.8.9"});
}

}  // namespace daxkv::kv
