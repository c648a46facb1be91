#include "kv/scan_args.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <string>

#include "kv/resp_parser.h"

namespace daxkv::kv {

namespace {

bool ParseCursor(CommandContext& ctx, size_t cursor_arg, ScanOptions* o) {
  // Redis parses the cursor with strtoul: "-1" wraps, "" is 0, spaces do
  // not pass.
  std::string c(ctx.argv[cursor_arg]);
  char* end = nullptr;
  errno = 0;
  o->cursor = std::strtoull(c.c_str(), &end, 10);
  if (std::isspace(static_cast<unsigned char>(c[0])) || *end != '\0' ||
      errno == ERANGE) {
    ctx.out.Error("ERR invalid cursor");
    return false;
  }
  return true;
}

// The options after the cursor; the error reply's text, "" when valid.
std::string_view ParseRest(CommandContext& ctx, size_t cursor_arg,
                           bool allow_type, ScanOptions* o) {
  for (size_t j = cursor_arg + 1; j < ctx.argv.size(); j += 2) {
    std::string_view opt = ctx.argv[j];
    bool has_value = j + 1 < ctx.argv.size();
    if (EqualsIgnoreCase(opt, "count") && has_value) {
      if (!ParseInt64(ctx.argv[j + 1], &o->count)) return kErrNotInteger;
      if (o->count < 1) return kErrSyntax;
    } else if (EqualsIgnoreCase(opt, "match") && has_value) {
      o->pattern = ctx.argv[j + 1];
      o->match_all = o->pattern == "*";
    } else if (allow_type && EqualsIgnoreCase(opt, "type") && has_value) {
      o->type = ctx.argv[j + 1];
    } else {
      return kErrSyntax;
    }
  }
  return {};
}

}  // namespace

bool ParseScanOptions(CommandContext& ctx, size_t cursor_arg, bool allow_type,
                      ScanOptions* o) {
  if (!ParseCursor(ctx, cursor_arg, o)) return false;
  std::string_view error = ParseRest(ctx, cursor_arg, allow_type, o);
  if (error.empty()) return true;
  ctx.out.Error(error);
  return false;
}

bool KeyScanOptions(CommandContext& ctx, ScanOptions* o) {
  if (!ParseCursor(ctx, 2, o)) return false;
  o->error = std::string(ParseRest(ctx, 2, /*allow_type=*/false, o));
  return true;
}

Status KeyScanOptionError(engine::ReadOps& ops, std::string_view key,
                          engine::KeyType want, const ScanOptions& o,
                          CollCall& call) {
  StatusOr<engine::KeyInfo> info = ops.Stat(key);
  if (!info.ok() && info.status().code() != StatusCode::kNotFound) {
    return info.status();
  }
  if (!info.ok() || info->type == engine::KeyType::kNone) {
    call.out.ArrayHeader(2);
    call.out.Bulk("0");
    call.out.ArrayHeader(0);
    return OkStatus();
  }
  if (info->type != want) return engine::WrongTypeError();
  return CommandError(o.error);
}

}  // namespace daxkv::kv
