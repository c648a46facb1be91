// Set commands: SADD SREM SISMEMBER SMISMEMBER SCARD SMEMBERS SRANDMEMBER
// SPOP SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF
// SDIFFSTORE SSCAN. Each runs as one engine Txn or read view
// (kv/coll_run.h): SMOVE and the *STORE forms are all-or-nothing.
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "kv/coll_run.h"
#include "kv/command.h"
#include "kv/glob.h"
#include "kv/scan_args.h"

namespace daxkv::kv {
namespace {

using engine::KeyType;
using engine::ReadOps;
using engine::Txn;
using Members = std::vector<std::string>;

// The members of `key` (none when absent); WRONGTYPE for another type.
StatusOr<Members> ReadMembers(ReadOps& ops, std::string_view key) {
  DAXKV_RETURN_IF_ERROR(CollSize(ops, key, KeyType::kSet).status());
  Members members;
  DAXKV_RETURN_IF_ERROR(ops.SetForEach(key, [&](std::string_view m) {
    members.emplace_back(m);
    return true;
  }));
  return members;
}

void ReplyMemberSet(ReplyWriter& out, const Members& members) {
  out.SetHeader(members.size());
  for (const std::string& m : members) out.Bulk(m);
}

void SAddCommand(CommandContext& ctx) {
  RunCountingWrite(ctx, [](Txn& txn, std::string_view key, std::string_view m,
                           bool* added) { return txn.SetAdd(key, m, added); });
}

void SRemCommand(CommandContext& ctx) {
  RunCountingWrite(
      ctx, [](Txn& txn, std::string_view key, std::string_view m,
              bool* removed) { return txn.SetRemove(key, m, removed); });
}

// SISMEMBER (one member, an integer) and SMISMEMBER (an array of them).
void MembershipCommand(CommandContext& ctx, bool multi) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    if (multi) call.out.ArrayHeader(ctx.argv.size() - 2);
    for (size_t i = 2; i < ctx.argv.size(); ++i) {
      bool contains = false;
      DAXKV_RETURN_IF_ERROR(
          ops.SetContains(ctx.argv[1], ctx.argv[i], &contains));
      call.out.Integer(contains ? 1 : 0);
    }
    return OkStatus();
  });
}

void SIsMemberCommand(CommandContext& ctx) { MembershipCommand(ctx, false); }
void SMIsMemberCommand(CommandContext& ctx) { MembershipCommand(ctx, true); }

void SCardCommand(CommandContext& ctx) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t n,
                           CollSize(ops, ctx.argv[1], KeyType::kSet));
    call.out.Integer(static_cast<int64_t>(n));
    return OkStatus();
  });
}

void SMembersCommand(CommandContext& ctx) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t n,
                           CollSize(ops, ctx.argv[1], KeyType::kSet));
    StreamedItems items(n);
    call.out.SetHeader(n);
    DAXKV_RETURN_IF_ERROR(ops.SetForEach(ctx.argv[1], [&](std::string_view m) {
      call.out.Bulk(m);
      items.Count();
      return true;
    }));
    return items.Done();
  });
}

// SRANDMEMBER / SPOP without a count: one member or nil.
void OneRandomMember(CommandContext& ctx, bool pop) {
  auto body = [&](auto& ops, CollCall& call) -> Status {
    std::string member;
    bool found = false;
    auto take = [&](std::string_view m) {
      member = m;
      found = true;
      return false;
    };
    if constexpr (std::is_same_v<std::decay_t<decltype(ops)>, Txn>) {
      DAXKV_RETURN_IF_ERROR(ops.SetPop(ctx.argv[1], 1, take));
      if (found) call.Modified(ctx.argv[1]);
    } else {
      DAXKV_RETURN_IF_ERROR(ops.SetRandom(ctx.argv[1], 1, take));
    }
    if (found) {
      call.out.Bulk(member);
    } else {
      call.out.Null();
    }
    return OkStatus();
  };
  if (pop) {
    RunCollWrite(ctx,
                 [&](Txn& txn, CollCall& call) { return body(txn, call); });
  } else {
    RunCollRead(ctx,
                [&](ReadOps& ops, CollCall& call) { return body(ops, call); });
  }
}

constexpr std::string_view kOutOfRange =
    "ERR value is out of range, value must between -9223372036854775807 and "
    "9223372036854775807";

void SRandMemberCommand(CommandContext& ctx) {
  if (ctx.argv.size() == 2) return OneRandomMember(ctx, false);
  if (ctx.argv.size() > 3) return ReplySyntaxError(ctx);
  int64_t count = 0;
  if (!ParseIntArg(ctx, ctx.argv[2], &count)) return;
  if (count == std::numeric_limits<int64_t>::min()) {
    ctx.out.Error(kOutOfRange);
    return;
  }
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    Members members;
    DAXKV_RETURN_IF_ERROR(
        ops.SetRandom(ctx.argv[1], count, [&](std::string_view m) {
          members.emplace_back(m);
          return true;
        }));
    ReplyBulkArray(call.out, members);
    return OkStatus();
  });
}

void SPopCommand(CommandContext& ctx) {
  if (ctx.argv.size() == 2) return OneRandomMember(ctx, true);
  if (ctx.argv.size() > 3) return ReplySyntaxError(ctx);
  // Redis's getPositiveLongFromObjectOrReply: one text for both.
  int64_t count = 0;
  if (!ParseInt64(ctx.argv[2], &count) || count < 0) {
    ctx.out.Error("ERR value is out of range, must be positive");
    return;
  }
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    Members members;
    DAXKV_RETURN_IF_ERROR(CollSize(txn, ctx.argv[1], KeyType::kSet).status());
    DAXKV_RETURN_IF_ERROR(txn.SetPop(ctx.argv[1], static_cast<uint64_t>(count),
                                     [&](std::string_view m) {
                                       members.emplace_back(m);
                                       return true;
                                     }));
    if (!members.empty()) call.Modified(ctx.argv[1]);
    ReplyMemberSet(call.out, members);
    return OkStatus();
  });
}

void SMoveCommand(CommandContext& ctx) {
  std::string_view src = ctx.argv[1], dst = ctx.argv[2], m = ctx.argv[3];
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    // Both types are checked before anything moves, as Redis does, but a
    // missing source is a 0 whatever the destination holds.
    StatusOr<uint64_t> src_size = CollSize(txn, src, KeyType::kSet);
    DAXKV_RETURN_IF_ERROR(src_size.status());
    if (*src_size == 0) {
      call.out.Integer(0);
      return OkStatus();
    }
    DAXKV_RETURN_IF_ERROR(CollSize(txn, dst, KeyType::kSet).status());
    bool moved = false;
    if (src == dst) {
      DAXKV_RETURN_IF_ERROR(txn.SetContains(src, m, &moved));
    } else {
      DAXKV_RETURN_IF_ERROR(txn.SetRemove(src, m, &moved));
      if (moved) {
        bool fresh = false;
        DAXKV_RETURN_IF_ERROR(txn.SetAdd(dst, m, &fresh));
        call.Modified(src);
        call.Modified(dst);
      }
    }
    call.out.Integer(moved ? 1 : 0);
    return OkStatus();
  });
}

enum class SetOp { kInter, kUnion, kDiff };

// SINTER/SUNION/SDIFF of `keys`: every key's type is checked before the
// result is computed (WRONGTYPE wins over an empty intersection).
StatusOr<Members> Combine(ReadOps& ops, std::span<const std::string_view> keys,
                          SetOp op) {
  std::vector<Members> sets;
  for (std::string_view k : keys) {
    DAXKV_ASSIGN_OR_RETURN(Members m, ReadMembers(ops, k));
    sets.push_back(std::move(m));
  }
  Members result;
  std::unordered_set<std::string_view> seen;
  if (op == SetOp::kUnion) {
    for (const Members& s : sets) {
      for (const std::string& m : s) {
        if (seen.insert(m).second) result.push_back(m);
      }
    }
    return result;
  }
  for (size_t i = 1; i < sets.size(); ++i) {
    if (op == SetOp::kInter && sets[i].empty()) return result;
  }
  std::vector<std::unordered_set<std::string_view>> others(sets.size());
  for (size_t i = 1; i < sets.size(); ++i) {
    others[i].insert(sets[i].begin(), sets[i].end());
  }
  for (const std::string& m : sets[0]) {
    bool keep = true;
    for (size_t i = 1; i < sets.size() && keep; ++i) {
      const bool in = others[i].count(m) != 0;
      keep = op == SetOp::kInter ? in : !in;
    }
    if (keep) result.push_back(m);
  }
  return result;
}

void CombineCommand(CommandContext& ctx, SetOp op) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(Members m, Combine(ops, ctx.argv.subspan(1), op));
    ReplyMemberSet(call.out, m);
    return OkStatus();
  });
}

void CombineStoreCommand(CommandContext& ctx, SetOp op) {
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(Members m, Combine(txn, ctx.argv.subspan(2), op));
    std::string_view dst = ctx.argv[1];
    bool existed = false;
    DAXKV_RETURN_IF_ERROR(txn.Delete(dst, &existed));
    for (const std::string& member : m) {
      bool fresh = false;
      DAXKV_RETURN_IF_ERROR(txn.SetAdd(dst, member, &fresh));
    }
    if (existed || !m.empty()) call.Modified(dst);
    call.out.Integer(static_cast<int64_t>(m.size()));
    return OkStatus();
  });
}

void SInterCommand(CommandContext& ctx) { CombineCommand(ctx, SetOp::kInter); }
void SUnionCommand(CommandContext& ctx) { CombineCommand(ctx, SetOp::kUnion); }
void SDiffCommand(CommandContext& ctx) { CombineCommand(ctx, SetOp::kDiff); }
void SInterStoreCommand(CommandContext& ctx) {
  CombineStoreCommand(ctx, SetOp::kInter);
}
void SUnionStoreCommand(CommandContext& ctx) {
  CombineStoreCommand(ctx, SetOp::kUnion);
}
void SDiffStoreCommand(CommandContext& ctx) {
  CombineStoreCommand(ctx, SetOp::kDiff);
}

// SINTERCARD numkeys key [key ...] [LIMIT limit]
void SInterCardCommand(CommandContext& ctx) {
  int64_t numkeys = 0;
  if (!ParseInt64(ctx.argv[1], &numkeys) || numkeys <= 0) {
    ctx.out.Error("ERR numkeys should be greater than 0");
    return;
  }
  if (numkeys > static_cast<int64_t>(ctx.argv.size()) - 2) {
    ctx.out.Error("ERR Number of keys can't be greater than number of args");
    return;
  }
  int64_t limit = 0;
  for (size_t j = 2 + static_cast<size_t>(numkeys); j < ctx.argv.size();
       j += 2) {
    if (!EqualsIgnoreCase(ctx.argv[j], "limit") || j + 1 >= ctx.argv.size()) {
      return ReplySyntaxError(ctx);
    }
    if (!ParseInt64(ctx.argv[j + 1], &limit) || limit < 0) {
      ctx.out.Error("ERR LIMIT can't be negative");
      return;
    }
  }
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(
        Members m,
        Combine(ops, ctx.argv.subspan(2, static_cast<size_t>(numkeys)),
                SetOp::kInter));
    int64_t n = static_cast<int64_t>(m.size());
    call.out.Integer(limit > 0 && n > limit ? limit : n);
    return OkStatus();
  });
}

void SScanCommand(CommandContext& ctx) {
  ScanOptions o;
  if (!KeyScanOptions(ctx, &o)) return;
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    if (!o.error.empty()) {
      return KeyScanOptionError(ops, ctx.argv[1], engine::KeyType::kSet, o, call);
    }
    Members members;
    uint64_t next = 0;
    DAXKV_RETURN_IF_ERROR(ops.SetScan(
        ctx.argv[1], o.cursor, static_cast<size_t>(o.count),
        [&](std::string_view m) {
          if (o.match_all || GlobMatch(o.pattern, m)) {
            members.emplace_back(m);
          }
          return true;
        },
        &next));
    call.out.ArrayHeader(2);
    call.out.Bulk(std::to_string(next));
    ReplyBulkArray(call.out, members);
    return OkStatus();
  });
}

constexpr uint32_t kW = kCmdWrite;
constexpr uint32_t kR = kCmdReadOnly;

}  // namespace

void RegisterSetCommands(CommandTable* t) {
  static constexpr CollCommand kCommands[] = {
      {"sadd", -3, kW | kCmdPipelined | kCmdFast, SAddCommand,
       "Add one or more members to a set", "1.0.0", 1, 1, 2, 1},
      {"srem", -3, kW | kCmdPipelined | kCmdFast, SRemCommand,
       "Remove one or more members from a set", "1.0.0", 1, 1, 2, 1},
      {"sismember", 3, kR | kCmdFast, SIsMemberCommand,
       "Determine if a given value is a member of a set", "1.0.0", 1, 1},
      {"smismember", -3, kR | kCmdFast, SMIsMemberCommand,
       "Returns the membership associated with the given elements for a set",
       "6.2.0", 1, 1},
      {"scard", 2, kR | kCmdFast, SCardCommand,
       "Get the number of members in a set", "1.0.0", 1, 1},
      {"smembers", 2, kR, SMembersCommand, "Get all the members in a set",
       "1.0.0", 1, 1},
      {"srandmember", -2, kR, SRandMemberCommand,
       "Get one or multiple random members from a set", "1.0.0", 1, 1},
      {"spop", -2, kW | kCmdPipelined | kCmdFast, SPopCommand,
       "Remove and return one or multiple random members from a set", "1.0.0",
       1, 1},
      {"smove", 4, kW | kCmdFast, SMoveCommand,
       "Move a member from one set to another", "1.0.0", 1, 2},
      {"sinter", -2, kR, SInterCommand, "Intersect multiple sets", "1.0.0", 1,
       -1},
      {"sintercard", -3, kR, SInterCardCommand,
       "Intersect multiple sets and return the cardinality of the result",
       "7.0.0", 2, -1},
      {"sinterstore", -3, kW, SInterStoreCommand,
       "Intersect multiple sets and store the resulting set in a key", "1.0.0",
       1, -1},
      {"sunion", -2, kR, SUnionCommand, "Add multiple sets", "1.0.0", 1, -1},
      {"sunionstore", -3, kW, SUnionStoreCommand,
       "Add multiple sets and store the resulting set in a key", "1.0.0", 1,
       -1},
      {"sdiff", -2, kR, SDiffCommand, "Subtract multiple sets", "1.0.0", 1, -1},
      {"sdiffstore", -3, kW, SDiffStoreCommand,
       "Subtract multiple sets and store the resulting set in a key", "1.0.0",
       1, -1},
      {"sscan", -3, kR, SScanCommand, "Incrementally iterate Set elements",
       "2.8.0", 1, 1},
  };
  AddCollCommands(t, "set", kCommands);
}

}  // namespace daxkv::kv
