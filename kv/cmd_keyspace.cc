// Whole-keyspace commands: KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL.
// They read the engine's cursor scan (inside EXEC too: the block's own
// uncommitted writes are not listed).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "kv/command.h"
#include "kv/glob.h"

namespace daxkv::kv {
namespace {

constexpr size_t kScanPage = 1024;

void KeysCommand(CommandContext& ctx) {
  std::string_view pattern = ctx.argv[1];
  bool all = pattern == "*";
  std::vector<std::string> keys;
  uint64_t cursor = 0;
  do {
    auto page = ctx.store.db().Scan(cursor, kScanPage);
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

struct ScanOptions {
  uint64_t cursor = 0;
  int64_t count = 10;
  std::string_view pattern;
  std::string_view type;
};

bool ParseScanOptions(CommandContext& ctx, ScanOptions* o) {
  // Redis parses the cursor with strtoul: "-1" wraps, spaces do not pass.
  std::string c(ctx.argv[1]);
  char* end = nullptr;
  errno = 0;
  o->cursor = std::strtoull(c.c_str(), &end, 10);
  if (c.empty() || std::isspace(static_cast<unsigned char>(c[0])) ||
      *end != '\0' || errno == ERANGE) {
    ctx.out.Error("ERR invalid cursor");
    return false;
  }
  for (size_t j = 2; j < ctx.argv.size(); j += 2) {
    std::string_view opt = ctx.argv[j];
    bool has_value = j + 1 < ctx.argv.size();
    if (EqualsIgnoreCase(opt, "count") && has_value) {
      if (!ParseIntArg(ctx, ctx.argv[j + 1], &o->count)) return false;
      if (o->count < 1) {
        ReplySyntaxError(ctx);
        return false;
      }
    } else if (EqualsIgnoreCase(opt, "match") && has_value) {
      o->pattern = ctx.argv[j + 1];
      if (o->pattern == "*") o->pattern = {};
    } else if (EqualsIgnoreCase(opt, "type") && has_value) {
      o->type = ctx.argv[j + 1];
    } else {
      ReplySyntaxError(ctx);
      return false;
    }
  }
  return true;
}

void ScanCommand(CommandContext& ctx) {
  ScanOptions o;
  if (!ParseScanOptions(ctx, &o)) return;
  auto page = ctx.store.db().Scan(o.cursor, static_cast<size_t>(o.count));
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
  bool type_ok = o.type.empty() || EqualsIgnoreCase(o.type, "string");
  std::vector<std::string_view> keys;
  if (type_ok) {
    for (const auto& k : page->keys) {
      if (o.pattern.empty() || GlobMatch(o.pattern, k)) keys.push_back(k);
    }
  }
  ctx.out.ArrayHeader(2);
  ctx.out.Bulk(std::to_string(page->next_cursor));
  ctx.out.ArrayHeader(keys.size());
  for (auto k : keys) ctx.out.Bulk(k);
}

void RandomKeyCommand(CommandContext& ctx) {
  uint64_t n = ctx.store.db().Count();
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
    auto page = ctx.store.db().Scan(cursor, kScanPage);
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
  if (last.empty() && seen == 0) {
    ctx.out.Null();
  } else {
    ctx.out.Bulk(last);
  }
}

void DbSizeCommand(CommandContext& ctx) {
  ctx.out.Integer(static_cast<int64_t>(ctx.store.db().Count()));
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
