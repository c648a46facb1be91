#include "kv/scan_args.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <string>

namespace daxkv::kv {

bool ParseScanOptions(CommandContext& ctx, size_t cursor_arg, bool allow_type,
                      ScanOptions* o) {
  // Redis parses the cursor with strtoul: "-1" wraps, spaces do not pass.
  std::string c(ctx.argv[cursor_arg]);
  char* end = nullptr;
  errno = 0;
  o->cursor = std::strtoull(c.c_str(), &end, 10);
  if (c.empty() || std::isspace(static_cast<unsigned char>(c[0])) ||
      *end != '\0' || errno == ERANGE) {
    ctx.out.Error("ERR invalid cursor");
    return false;
  }
  for (size_t j = cursor_arg + 1; j < ctx.argv.size(); j += 2) {
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
    } else if (allow_type && EqualsIgnoreCase(opt, "type") && has_value) {
      o->type = ctx.argv[j + 1];
    } else {
      ReplySyntaxError(ctx);
      return false;
    }
  }
  return true;
}

}  // namespace daxkv::kv
