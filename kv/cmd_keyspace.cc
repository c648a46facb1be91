// Whole-keyspace commands: KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL.
// They read the engine's cursor scan (inside EXEC too: the block's own
// uncommitted writes are not listed).
#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/txn.h"
#include "kv/command.h"
#include "kv/glob.h"
#include "kv/scan_args.h"

namespace daxkv::kv {
namespace {

constexpr size_t kScanPage = 1024;

void KeysCommand(CommandContext& ctx) {
  std::string_view pattern = ctx.argv[1];
  bool all = pattern == "*";
  std::vector<std::string> keys;
  uint64_t cursor = 0;
  do {
    auto page = ctx.store.Scan(cursor, kScanPage);
    if (!page.ok()) {
      ReplyEngineError(ctx, page.status());
      return;
    }
    for (auto& k : page->keys) {
      if (all || GlobMatch(pattern, k)) keys.push_back(std::move(k));
    }
    cursor = page->next_cursor;
  } while (cursor != 0);
  ctx.out.ArrayHeader(keys.size());
  for (const auto& k : keys) ctx.out.Bulk(k);
}

// SCAN's TYPE argument; false for a name Redis does not know (Redis 7.0
// then lists nothing).
bool ParseKeyType(std::string_view name, engine::KeyType* type) {
  using engine::KeyType;
  for (KeyType t : {KeyType::kString, KeyType::kHash, KeyType::kList,
                    KeyType::kSet, KeyType::kZset, KeyType::kStream}) {
    if (EqualsIgnoreCase(name, engine::KeyTypeName(t))) {
      *type = t;
      return true;
    }
  }
  return false;
}

// One page of the keyspace scan, of one type when TYPE is given.
StatusOr<engine::DB::ScanPage> ScanPageOf(CommandContext& ctx,
                                          const ScanOptions& o) {
  const size_t count = static_cast<size_t>(o.count);
  if (o.type.empty()) return ctx.store.Scan(o.cursor, count);
  engine::KeyType type = engine::KeyType::kNone;
  const bool known = ParseKeyType(o.type, &type);
  engine::DB::ScanPage page;
  DAXKV_RETURN_IF_ERROR(ctx.store.Read({}, [&](engine::ReadOps& ops) {
    DAXKV_ASSIGN_OR_RETURN(page, ops.ScanKeys(o.cursor, count, type));
    return OkStatus();
  }));
  if (!known) page.keys.clear();
  return page;
}

void ScanCommand(CommandContext& ctx) {
  ScanOptions o;
  if (!ParseScanOptions(ctx, 1, /*allow_type=*/true, &o)) return;
  auto page = ScanPageOf(ctx, o);
  if (page.status().code() == StatusCode::kInvalidArgument) {
    // A cursor the engine never handed out: Redis just ends the scan.
    ctx.out.ArrayHeader(2);
    ctx.out.Bulk("0");
    ctx.out.ArrayHeader(0);
    return;
  }
  if (!page.ok()) {
    ReplyEngineError(ctx, page.status());
    return;
  }
  std::vector<std::string_view> keys;
  for (const auto& k : page->keys) {
    if (o.match_all || GlobMatch(o.pattern, k)) keys.push_back(k);
  }
  ctx.out.ArrayHeader(2);
  ctx.out.Bulk(std::to_string(page->next_cursor));
  ctx.out.ArrayHeader(keys.size());
  for (auto k : keys) ctx.out.Bulk(k);
}

void RandomKeyCommand(CommandContext& ctx) {
  auto count = ctx.store.Count();
  const uint64_t n = count.ok() ? *count : 0;
  if (n == 0) {
    ctx.out.Null();
    return;
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  // Pick among the first few thousand keys the scan yields: uniform enough
  // for its uses (sampling), bounded in cost on a large pool.
  uint64_t target = rng() % std::min<uint64_t>(n, 4 * kScanPage);
  uint64_t cursor = 0, seen = 0;
  std::string last;
  do {
    auto page = ctx.store.Scan(cursor, kScanPage);
    if (!page.ok()) break;
    for (auto& k : page->keys) {
      last = std::move(k);
      if (seen++ == target) {
        ctx.out.Bulk(last);
        return;
      }
    }
    cursor = page->next_cursor;
  } while (cursor != 0);
  if (seen == 0) {
    ctx.out.Null();
  } else {
    ctx.out.Bulk(last);
  }
}

void DbSizeCommand(CommandContext& ctx) {
  auto n = ctx.store.Count();
  if (!n.ok()) {
    ReplyEngineError(ctx, n.status());
    return;
  }
  ctx.out.Integer(static_cast<int64_t>(*n));
}

void FlushCommand(CommandContext& ctx) {
  if (ctx.argv.size() > 2 ||
      (ctx.argv.size() == 2 && !EqualsIgnoreCase(ctx.argv[1], "sync") &&
       !EqualsIgnoreCase(ctx.argv[1], "async"))) {
    ReplySyntaxError(ctx);
    return;
  }
  // Isolated: no read-modify-write on another I/O thread straddles the
  // flush, and the watched keys it touches are those that existed.
  std::optional<ExclusiveSection> isolated;
  if (!ctx.in_exec) isolated.emplace(ctx);
  Status s = ctx.store.Flush();
  isolated.reset();
  if (!s.ok()) {
    ReplyEngineError(ctx, s);
  } else {
    ctx.out.Ok();
  }
}

constexpr uint32_t kR = kCmdReadOnly | kCmdKeyspace;
constexpr uint32_t kW = kCmdWrite | kCmdKeyspace;

}  // namespace

void RegisterKeyspaceCommands(CommandTable* t) {
  const std::string_view g = "generic";
  t->Add({.name = "keys",
          .arity = 2,
          .flags = kR,
          .fn = KeysCommand,
          .group = g,
          .summary = "Find all keys matching the given pattern",
          .since = "1.0.0"});
  t->Add({.name = "scan",
          .arity = -2,
          .flags = kR,
          .fn = ScanCommand,
          .group = g,
          .summary = "Incrementally iterate the keys space",
          .since = "2.8.0"});
  t->Add({.name = "randomkey",
          .arity = 1,
          .flags = kR,
          .fn = RandomKeyCommand,
          .group = g,
          .summary = "Return a random key from the keyspace",
          .since = "1.0.0"});
  t->Add({.name = "dbsize",
          .arity = 1,
          .flags = kR | kCmdFast,
          .fn = DbSizeCommand,
          .group = "server",
          .summary = "Return the number of keys in the selected database",
          .since = "1.0.0"});
  t->Add({.name = "flushdb",
          .arity = -1,
          .flags = kW,
          .fn = FlushCommand,
          .group = "server",
          .summary = "Remove all keys from the current database",
          .since = "1.0.0"});
  t->Add({.name = "flushall",
          .arity = -1,
          .flags = kW,
          .fn = FlushCommand,
          .group = "server",
          .summary = "Remove all keys from all databases",
          .since = "1.0.0"});
}

}  // namespace daxkv::kv
