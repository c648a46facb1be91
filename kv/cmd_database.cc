// SELECT, MOVE and SWAPDB over the one database daxkv has (CONFIG GET
// databases says 1), answered as redis-server started with `databases 1`
// answers them: DB 0 is the only index in range, so SELECT 0 and SWAPDB
// 0 0 succeed (changing nothing) and a MOVE always fails, before it looks
// at its key. Indexes parse as Redis's getIntFromObjectOrReply (an int).
#include <cstdint>
#include <string_view>

#include "base/int_text.h"
#include "kv/command.h"

namespace daxkv::kv {
namespace {

constexpr std::string_view kNotInteger =
    "ERR value is not an integer or out of range";
constexpr std::string_view kOutOfRange = "ERR DB index is out of range";

// `arg` as a DB index; false (and the error replied) when not an int:
// `invalid`, or without one Redis's default texts.
bool ParseDbIndex(CommandContext& ctx, std::string_view arg,
                  std::string_view invalid, int64_t* db) {
  if (!ParseInt64(arg, db)) {
    ctx.out.Error(invalid.empty() ? kNotInteger : invalid);
    return false;
  }
  if (*db < INT32_MIN || *db > INT32_MAX) {
    ctx.out.Error(invalid.empty()
                      ? "ERR value is out of range, value must between "
                        "-2147483648 and 2147483647"
                      : invalid);
    return false;
  }
  return true;
}

void SelectCommand(CommandContext& ctx) {
  int64_t db;
  if (!ParseDbIndex(ctx, ctx.argv[1], "", &db)) return;
  if (db != 0) return ctx.out.Error(kOutOfRange);
  ctx.out.Ok();
}

void MoveCommand(CommandContext& ctx) {
  int64_t db;
  if (!ParseDbIndex(ctx, ctx.argv[2], "", &db)) return;
  if (db != 0) return ctx.out.Error(kOutOfRange);
  ctx.out.Error("ERR source and destination objects are the same");
}

void SwapDbCommand(CommandContext& ctx) {
  int64_t a, b;
  if (!ParseDbIndex(ctx, ctx.argv[1], "ERR invalid first DB index", &a) ||
      !ParseDbIndex(ctx, ctx.argv[2], "ERR invalid second DB index", &b)) {
    return;
  }
  if (a != 0 || b != 0) return ctx.out.Error(kOutOfRange);
  ctx.out.Ok();
}

}  // namespace

void RegisterDatabaseCommands(CommandTable* t) {
  t->Add({.name = "select",
          .arity = 2,
          .flags = kCmdFast | kCmdLoading | kCmdStale,
          .fn = SelectCommand,
          .group = "connection",
          .summary = "Change the selected database for the current connection",
          .since = "1.0.0"});
  t->Add({.name = "move",
          .arity = 3,
          .flags = kCmdWrite | kCmdFast,
          .fn = MoveCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = "generic",
          .summary = "Move a key to another database",
          .since = "1.0.0"});
  t->Add({.name = "swapdb",
          .arity = 3,
          .flags = kCmdWrite | kCmdFast,
          .fn = SwapDbCommand,
          .group = "server",
          .summary = "Swaps two Redis databases",
          .since = "4.0.0"});
}

}  // namespace daxkv::kv
