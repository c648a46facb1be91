// Hash commands: HSET, HMSET, HSETNX, HGET, HMGET, HDEL, HEXISTS, HLEN,
// HSTRLEN, HKEYS, HVALS, HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN.
// Each runs as one engine Txn or read view (kv/coll_run.h): one field of a
// big hash is one element record, never the whole hash.
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "kv/coll_run.h"
#include "kv/command.h"
#include "kv/glob.h"
#include "kv/numbers.h"
#include "kv/scan_args.h"

namespace daxkv::kv {
namespace {

using engine::KeyType;
using engine::ReadOps;
using engine::SetMode;
using engine::Txn;

using Pairs = std::vector<std::pair<std::string, std::string>>;

// HSET and HMSET: field value pairs after the key.
void HashSetPairs(CommandContext& ctx, bool hmset) {
  if (ctx.argv.size() % 2 != 0) {
    ReplyWrongArity(ctx, hmset ? "hmset" : "hset");
    return;
  }
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    std::string_view key = ctx.argv[1];
    int64_t created_count = 0;
    for (size_t i = 2; i + 1 < ctx.argv.size(); i += 2) {
      bool created = false;
      DAXKV_RETURN_IF_ERROR(txn.HashSet(key, ctx.argv[i], ctx.argv[i + 1],
                                        SetMode::kUpsert, &created));
      created_count += created ? 1 : 0;
    }
    call.Modified(key);
    if (hmset) {
      call.out.Ok();
    } else {
      call.out.Integer(created_count);
    }
    return OkStatus();
  });
}

void HSetCommand(CommandContext& ctx) { HashSetPairs(ctx, false); }
void HMSetCommand(CommandContext& ctx) { HashSetPairs(ctx, true); }

void HSetNxCommand(CommandContext& ctx) {
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    bool created = false;
    DAXKV_RETURN_IF_ERROR(txn.HashSet(ctx.argv[1], ctx.argv[2], ctx.argv[3],
                                      SetMode::kIfAbsent, &created));
    if (created) call.Modified(ctx.argv[1]);
    call.out.Integer(created ? 1 : 0);
    return OkStatus();
  });
}

// A field's value into *value; false when the key or field is absent.
StatusOr<bool> FieldValue(ReadOps& ops, std::string_view key,
                          std::string_view field, std::string* value) {
  Status s = ops.HashGet(key, field, value);
  if (s.code() == StatusCode::kNotFound) return false;
  DAXKV_RETURN_IF_ERROR(s);
  return true;
}

void ReplyFieldValue(CollCall& call, bool found, const std::string& value) {
  if (found) {
    call.out.Bulk(value);
  } else {
    call.out.Null();
  }
}

void HGetCommand(CommandContext& ctx) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    std::string value;
    DAXKV_ASSIGN_OR_RETURN(bool found,
                           FieldValue(ops, ctx.argv[1], ctx.argv[2], &value));
    ReplyFieldValue(call, found, value);
    return OkStatus();
  });
}

void HMGetCommand(CommandContext& ctx) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    call.out.ArrayHeader(ctx.argv.size() - 2);
    std::string value;
    for (size_t i = 2; i < ctx.argv.size(); ++i) {
      DAXKV_ASSIGN_OR_RETURN(bool found,
                             FieldValue(ops, ctx.argv[1], ctx.argv[i], &value));
      ReplyFieldValue(call, found, value);
    }
    return OkStatus();
  });
}

void HDelCommand(CommandContext& ctx) {
  RunCountingWrite(
      ctx, [](Txn& txn, std::string_view key, std::string_view field,
              bool* existed) { return txn.HashDelete(key, field, existed); });
}

void HExistsCommand(CommandContext& ctx) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    std::string value;
    DAXKV_ASSIGN_OR_RETURN(bool found,
                           FieldValue(ops, ctx.argv[1], ctx.argv[2], &value));
    call.out.Integer(found ? 1 : 0);
    return OkStatus();
  });
}

void HLenCommand(CommandContext& ctx) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t n,
                           CollSize(ops, ctx.argv[1], KeyType::kHash));
    call.out.Integer(static_cast<int64_t>(n));
    return OkStatus();
  });
}

void HStrLenCommand(CommandContext& ctx) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    uint64_t size = 0;
    Status s = ops.HashValueSize(ctx.argv[1], ctx.argv[2], &size);
    if (s.code() != StatusCode::kNotFound) DAXKV_RETURN_IF_ERROR(s);
    call.out.Integer(static_cast<int64_t>(size));
    return OkStatus();
  });
}

enum class PairPart { kFields, kValues, kBoth };

// HKEYS, HVALS, HGETALL: straight into the reply.
void HashDump(CommandContext& ctx, PairPart part) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t n,
                           CollSize(ops, ctx.argv[1], KeyType::kHash));
    StreamedItems items(n);
    if (part == PairPart::kBoth) {
      call.out.MapHeader(n);
    } else {
      call.out.ArrayHeader(n);
    }
    DAXKV_RETURN_IF_ERROR(ops.HashForEach(
        ctx.argv[1], [&](std::string_view f, std::string_view v) {
          if (part != PairPart::kValues) call.out.Bulk(f);
          if (part != PairPart::kFields) call.out.Bulk(v);
          items.Count();
          return true;
        }));
    return items.Done();
  });
}

void HKeysCommand(CommandContext& ctx) { HashDump(ctx, PairPart::kFields); }
void HValsCommand(CommandContext& ctx) { HashDump(ctx, PairPart::kValues); }
void HGetAllCommand(CommandContext& ctx) { HashDump(ctx, PairPart::kBoth); }

void HIncrByCommand(CommandContext& ctx) {
  int64_t incr = 0;
  if (!ParseIntArg(ctx, ctx.argv[3], &incr)) return;
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    std::string_view key = ctx.argv[1], field = ctx.argv[2];
    std::string old;
    DAXKV_ASSIGN_OR_RETURN(bool found, FieldValue(txn, key, field, &old));
    int64_t v = 0;
    if (found && !ParseInt64(old, &v)) {
      return CommandError("ERR hash value is not an integer");
    }
    if ((incr < 0 && v < 0 && incr < std::numeric_limits<int64_t>::min() - v) ||
        (incr > 0 && v > 0 && incr > std::numeric_limits<int64_t>::max() - v)) {
      return CommandError("ERR increment or decrement would overflow");
    }
    v += incr;
    bool created = false;
    DAXKV_RETURN_IF_ERROR(
        txn.HashSet(key, field, std::to_string(v), SetMode::kUpsert, &created));
    call.Modified(key);
    call.out.Integer(v);
    return OkStatus();
  });
}

void HIncrByFloatCommand(CommandContext& ctx) {
  long double incr = 0;
  if (!ParseLongDouble(ctx.argv[3], &incr)) {
    ctx.out.Error("ERR value is not a valid float");
    return;
  }
  if (std::isinf(incr)) {
    ctx.out.Error("ERR value is NaN or Infinity");
    return;
  }
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    std::string_view key = ctx.argv[1], field = ctx.argv[2];
    std::string old;
    DAXKV_ASSIGN_OR_RETURN(bool found, FieldValue(txn, key, field, &old));
    long double v = 0;
    if (found && !ParseLongDouble(old, &v)) {
      return CommandError("ERR hash value is not a float");
    }
    v += incr;
    if (std::isnan(v) || std::isinf(v)) {
      return CommandError("ERR increment would produce NaN or Infinity");
    }
    std::string result = FormatLongDouble(v);
    bool created = false;
    DAXKV_RETURN_IF_ERROR(
        txn.HashSet(key, field, result, SetMode::kUpsert, &created));
    call.Modified(key);
    call.out.Bulk(result);
    return OkStatus();
  });
}

// HRANDFIELD key count [WITHVALUES]: Redis's reply shapes (RESP3 pairs as
// two-element arrays).
void RandomFields(CommandContext& ctx, int64_t count, bool with_values) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    Pairs pairs;
    DAXKV_RETURN_IF_ERROR(ops.HashRandom(
        ctx.argv[1], count, [&](std::string_view f, std::string_view v) {
          pairs.emplace_back(f, v);
          return true;
        }));
    const bool nested = with_values && call.out.resp() >= 3;
    call.out.ArrayHeader(with_values && !nested ? 2 * pairs.size()
                                                : pairs.size());
    for (const auto& [f, v] : pairs) {
      if (nested) call.out.ArrayHeader(2);
      call.out.Bulk(f);
      if (with_values) call.out.Bulk(v);
    }
    return OkStatus();
  });
}

void HRandFieldCommand(CommandContext& ctx) {
  if (ctx.argv.size() == 2) {
    RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
      std::string field;
      DAXKV_RETURN_IF_ERROR(ops.HashRandom(
          ctx.argv[1], 1, [&](std::string_view f, std::string_view) {
            field = f;
            return false;
          }));
      DAXKV_ASSIGN_OR_RETURN(uint64_t n,
                             CollSize(ops, ctx.argv[1], KeyType::kHash));
      if (n == 0) {
        call.out.Null();
      } else {
        call.out.Bulk(field);
      }
      return OkStatus();
    });
    return;
  }
  int64_t count = 0;
  if (!ParseRandomCount(ctx, "withvalues", &count)) return;
  RandomFields(ctx, count, ctx.argv.size() == 4);
}

void HScanCommand(CommandContext& ctx) {
  ScanOptions o;
  if (!KeyScanOptions(ctx, &o)) return;
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    if (!o.error.empty()) {
      return KeyScanOptionError(ops, ctx.argv[1], engine::KeyType::kHash, o, call);
    }
    Pairs pairs;
    uint64_t next = 0;
    DAXKV_RETURN_IF_ERROR(ops.HashScan(
        ctx.argv[1], o.cursor, static_cast<size_t>(o.count),
        [&](std::string_view f, std::string_view v) {
          if (o.match_all || GlobMatch(o.pattern, f)) {
            pairs.emplace_back(f, v);
          }
          return true;
        },
        &next));
    call.out.ArrayHeader(2);
    call.out.Bulk(std::to_string(next));
    call.out.ArrayHeader(2 * pairs.size());
    for (const auto& [f, v] : pairs) {
      call.out.Bulk(f);
      call.out.Bulk(v);
    }
    return OkStatus();
  });
}

constexpr uint32_t kW = kCmdWrite;
constexpr uint32_t kR = kCmdReadOnly;

}  // namespace

void RegisterHashCommands(CommandTable* t) {
  static constexpr CollCommand kCommands[] = {
      {"hset", -4, kW | kCmdPipelined | kCmdFast, HSetCommand,
       "Set the string value of a hash field", "2.0.0", 1, 1, 2, 2},
      {"hmset", -4, kW | kCmdPipelined | kCmdFast, HMSetCommand,
       "Set multiple hash fields to multiple values", "2.0.0", 1, 1, 2, 2},
      {"hsetnx", 4, kW | kCmdPipelined | kCmdFast, HSetNxCommand,
       "Set the value of a hash field, only if the field does not exist",
       "2.0.0", 1, 1, 2, 2},
      {"hget", 3, kR | kCmdFast, HGetCommand, "Get the value of a hash field",
       "2.0.0"},
      {"hmget", -3, kR | kCmdFast, HMGetCommand,
       "Get the values of all the given hash fields", "2.0.0"},
      {"hdel", -3, kW | kCmdPipelined | kCmdFast, HDelCommand,
       "Delete one or more hash fields", "2.0.0", 1, 1, 2, 1},
      {"hexists", 3, kR | kCmdFast, HExistsCommand,
       "Determine if a hash field exists", "2.0.0"},
      {"hlen", 2, kR | kCmdFast, HLenCommand,
       "Get the number of fields in a hash", "2.0.0"},
      {"hstrlen", 3, kR | kCmdFast, HStrLenCommand,
       "Get the length of the value of a hash field", "3.2.0"},
      {"hkeys", 2, kR, HKeysCommand, "Get all the fields in a hash", "2.0.0"},
      {"hvals", 2, kR, HValsCommand, "Get all the values in a hash", "2.0.0"},
      {"hgetall", 2, kR, HGetAllCommand,
       "Get all the fields and values in a hash", "2.0.0"},
      {"hincrby", 4, kW | kCmdPipelined | kCmdFast, HIncrByCommand,
       "Increment the integer value of a hash field by the given number",
       "2.0.0", 1, 1, 2, 2},
      {"hincrbyfloat", 4, kW | kCmdPipelined | kCmdFast, HIncrByFloatCommand,
       "Increment the float value of a hash field by the given amount", "2.6.0",
       1, 1, 2, 2},
      {"hrandfield", -2, kR, HRandFieldCommand,
       "Get one or multiple random fields from a hash", "6.2.0"},
      {"hscan", -3, kR, HScanCommand,
       "Incrementally iterate hash fields and associated values", "2.8.0"},
  };
  AddCollCommands(t, "hash", kCommands);
}

}  // namespace daxkv::kv
