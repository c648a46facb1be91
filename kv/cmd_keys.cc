// Per-key generic commands: DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX,
// COPY, OBJECT.
#include <limits>
#include <optional>
#include <string>

#include "engine/txn.h"
#include "kv/coll_run.h"
#include "kv/coll_value.h"
#include "kv/command.h"

namespace daxkv::kv {
namespace {

void DelCommand(CommandContext& ctx) {
  int64_t n = 0;
  for (size_t i = 1; i < ctx.argv.size(); ++i) {
    bool existed = false;
    Status s = ctx.store.Delete(ctx.argv[i], &existed);
    if (!s.ok()) {
      ReplyEngineError(ctx, s);
      return;
    }
    n += existed ? 1 : 0;
  }
  ctx.out.Integer(n);
}

void ExistsCommand(CommandContext& ctx) {
  int64_t n = 0;
  for (size_t i = 1; i < ctx.argv.size(); ++i) {
    n += ctx.store.Exists(ctx.argv[i]) ? 1 : 0;
  }
  ctx.out.Integer(n);
}

void TypeCommand(CommandContext& ctx) {
  auto info = ctx.store.Stat(ctx.argv[1]);
  if (!info.ok()) {
    ReplyEngineError(ctx, info.status());
    return;
  }
  ctx.out.Simple(engine::KeyTypeName(info->type));
}

// RENAME / RENAMENX on `store`: replies into out; an engine failure is
// returned (nothing written).
Status RenameOn(Store& store, std::string_view src, std::string_view dst,
                bool nx, ReplyWriter& out) {
  if (!store.Exists(src)) {
    out.Error("ERR no such key");
    return OkStatus();
  }
  if (src == dst) {  // Redis touches nothing here (WATCH stays clean)
    nx ? out.Integer(0) : out.Ok();
    return OkStatus();
  }
  if (nx && store.Exists(dst)) {
    out.Integer(0);
    return OkStatus();
  }
  Status s = store.Rename(src, dst);
  if (s.code() == StatusCode::kNotFound) {  // expired just now
    out.Error("ERR no such key");
    return OkStatus();
  }
  DAXKV_RETURN_IF_ERROR(s);
  nx ? out.Integer(1) : out.Ok();
  return OkStatus();
}

// One Txn over both keys (the existence checks and the rename are one
// step), which serves the clients blocked on dst.
void RenameGeneric(CommandContext& ctx, bool nx) {
  const std::string_view src = ctx.argv[1], dst = ctx.argv[2];
  // Isolated, as MSET is: a reader of both keys (EXISTS a b) that takes no
  // Txn must never see src gone and dst not yet there (an EXEC block is
  // isolated already).
  std::optional<ExclusiveSection> isolated;
  if (!ctx.in_exec) isolated.emplace(ctx);
  RunStoreWrite(ctx, {std::string(src), std::string(dst)},
                [&](Store& store, ReplyWriter& out) {
                  return RenameOn(store, src, dst, nx, out);
                });
}

void RenameCommand(CommandContext& ctx) { RenameGeneric(ctx, false); }
void RenameNxCommand(CommandContext& ctx) { RenameGeneric(ctx, true); }

// COPY's options; replies and returns false on error.
bool ParseCopyOptions(CommandContext& ctx, bool* replace) {
  for (size_t j = 3; j < ctx.argv.size(); ++j) {
    if (EqualsIgnoreCase(ctx.argv[j], "replace")) {
      *replace = true;
    } else if (EqualsIgnoreCase(ctx.argv[j], "db") && j + 1 < ctx.argv.size()) {
      int64_t db = 0;
      if (!ParseIntArg(ctx, ctx.argv[++j], &db)) return false;
      if (db < std::numeric_limits<int32_t>::min() ||
          db > std::numeric_limits<int32_t>::max()) {
        // Redis's getIntFromObjectOrReply.
        ctx.out.Error(
            "ERR value is out of range, value must between -2147483648 and "
            "2147483647");
        return false;
      }
      if (db != 0) {
        ctx.out.Error("ERR DB index is out of range");
        return false;
      }
    } else {
      ReplySyntaxError(ctx);
      return false;
    }
  }
  if (ctx.argv[1] == ctx.argv[2]) {
    ctx.out.Error("ERR source and destination objects are the same");
    return false;
  }
  return true;
}

void CopyCommand(CommandContext& ctx) {
  bool replace = false;
  if (!ParseCopyOptions(ctx, &replace)) return;
  const std::string_view src = ctx.argv[1], dst = ctx.argv[2];
  RunStoreWrite(ctx, {std::string(src), std::string(dst)},
                [&](Store& store, ReplyWriter& out) {
                  bool done = false;
                  DAXKV_RETURN_IF_ERROR(store.Copy(src, dst, replace, &done));
                  out.Integer(done ? 1 : 0);
                  return OkStatus();
                });
}

// OBJECT ENCODING / REFCOUNT of a collection key.
void ObjectOfCollection(CommandContext& ctx, std::string_view sub) {
  auto info = ctx.store.Stat(ctx.argv[2]);
  if (!info.ok()) {
    ReplyEngineError(ctx, info.status());
    return;
  }
  if (info->type == engine::KeyType::kNone) {
    ctx.out.Null();
  } else if (sub == "refcount") {
    ctx.out.Integer(1);
  } else {
    ctx.out.Bulk(CollectionEncoding(
        *info, static_cast<uint64_t>(
                   ctx.server.settings().set_max_intset_entries.load())));
  }
}

// Redis's encoding choice for a string value.
std::string_view StringEncoding(std::string_view v) {
  int64_t n = 0;
  if (v.size() <= 20 && ParseInt64(v, &n)) return "int";
  return v.size() <= 44 ? "embstr" : "raw";
}

void ObjectHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store "
      "the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned "
      "integer is",
      "    proportional to the logarithm of the recent access frequency of the "
      "key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number "
      "of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the "
      "specified",
      "    <key>.",
      "HELP",
      "    Prints this help."};
  ReplyHelp(ctx, kLines);
}

void ObjectCommand(CommandContext& ctx) {
  std::string sub = ToLower(ctx.argv[1]);
  if (sub == "help") {
    if (ctx.argv.size() == 2) {
      ObjectHelp(ctx);
    } else {
      ReplyWrongArity(ctx, "object|help");
    }
    return;
  }
  bool known = sub == "encoding" || sub == "refcount" || sub == "idletime" ||
               sub == "freq";
  if (!known) {
    ReplyUnknownSubcommand(ctx);
    return;
  }
  if (ctx.argv.size() != 3) {
    ReplyWrongArity(ctx, "object|" + sub);
    return;
  }
  auto r = ctx.store.Get(ctx.argv[2]);
  if (engine::IsWrongType(r.status()) && sub != "idletime" && sub != "freq") {
    ObjectOfCollection(ctx, sub);
  } else if (!r.ok() && !engine::IsWrongType(r.status())) {
    ctx.out.Null();
  } else if (sub == "encoding") {
    ctx.out.Bulk(StringEncoding(r->value));
  } else if (sub == "refcount") {
    // Redis shares the integers 0..9999 (refcount INT_MAX).
    int64_t n = 0;
    bool shared = ParseInt64(r->value, &n) && n >= 0 && n < 10000;
    ctx.out.Integer(shared ? 2147483647 : 1);
  } else if (sub == "idletime") {
    ctx.out.Integer(
        ctx.server.access_clock().IdleSeconds(ctx.argv[2], ctx.server.NowMs()));
  } else {
    ctx.out.Error(
        "ERR An LFU maxmemory policy is not selected, access frequency not "
        "tracked. Please note that when switching between policies at "
        "runtime LRU and LFU data will take some time to adjust.");
  }
}

constexpr uint32_t kW = kCmdWrite | kCmdKeyspace;
constexpr uint32_t kR = kCmdReadOnly | kCmdKeyspace;

}  // namespace

void RegisterKeyCommands(CommandTable* t) {
  const std::string_view g = "generic";
  t->Add({.name = "del",
          .arity = -2,
          .flags = kW,
          .fn = DelCommand,
          .first_key = 1,
          .last_key = -1,
          .step = 1,
          .group = g,
          .summary = "Delete a key",
          .since = "1.0.0"});
  t->Add({.name = "unlink",
          .arity = -2,
          .flags = kW | kCmdFast,
          .fn = DelCommand,
          .first_key = 1,
          .last_key = -1,
          .step = 1,
          .group = g,
          .summary = "Delete a key asynchronously in another thread. Otherwise "
                     "it is just "
                     "as DEL, but non blocking.",
          .since = "4.0.0"});
  t->Add({.name = "exists",
          .arity = -2,
          .flags = kR | kCmdFast | kCmdNoTouch,
          .fn = ExistsCommand,
          .first_key = 1,
          .last_key = -1,
          .step = 1,
          .group = g,
          .summary = "Determine if a key exists",
          .since = "1.0.0"});
  // TOUCH is EXISTS that counts as an access (OBJECT IDLETIME restarts).
  t->Add({.name = "touch",
          .arity = -2,
          .flags = kR | kCmdFast,
          .fn = ExistsCommand,
          .first_key = 1,
          .last_key = -1,
          .step = 1,
          .group = g,
          .summary = "Alters the last access time of a key(s). Returns the "
                     "number of existing keys specified.",
          .since = "3.2.1"});
  t->Add({.name = "type",
          .arity = 2,
          .flags = kR | kCmdFast | kCmdNoTouch,
          .fn = TypeCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Determine the type stored at key",
          .since = "1.0.0"});
  t->Add({.name = "rename",
          .arity = 3,
          .flags = kW,
          .fn = RenameCommand,
          .first_key = 1,
          .last_key = 2,
          .step = 1,
          .group = g,
          .summary = "Rename a key",
          .since = "1.0.0"});
  t->Add({.name = "renamenx",
          .arity = 3,
          .flags = kW | kCmdFast,
          .fn = RenameNxCommand,
          .first_key = 1,
          .last_key = 2,
          .step = 1,
          .group = g,
          .summary = "Rename a key, only if the new key does not exist",
          .since = "1.0.0"});
  t->Add({.name = "copy",
          .arity = -3,
          .flags = kW,
          .fn = CopyCommand,
          .first_key = 1,
          .last_key = 2,
          .step = 1,
          .group = g,
          .summary = "Copy a key",
          .since = "6.2.0"});
  t->Add({.name = "object",
          .arity = -2,
          .flags = kR | kCmdContainer | kCmdNoTouch,
          .fn = ObjectCommand,
          .first_key = 2,
          .last_key = 2,
          .step = 1,
          .group = g,
          .summary = "A container for object introspection commands",
          .since = "2.2.3"});
}

}  // namespace daxkv::kv
