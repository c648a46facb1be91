#include "kv/expire_args.h"

#include <limits>
#include <string>

namespace daxkv::kv {

void ReplyInvalidExpire(CommandContext& ctx, std::string_view command) {
  ctx.out.Error("ERR invalid expire time in '" + std::string(command) +
                "' command");
}

bool ParseExpireArg(CommandContext& ctx, std::string_view command,
                    std::string_view arg, ExpireUnit unit, bool absolute,
                    int64_t* expire_at_ms) {
  int64_t v = 0;
  if (!ParseIntArg(ctx, arg, &v)) return false;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (v <= 0 || (unit == ExpireUnit::kSeconds && v > kMax / 1000)) {
    ReplyInvalidExpire(ctx, command);
    return false;
  }
  if (unit == ExpireUnit::kSeconds) v *= 1000;
  if (!absolute) {
    int64_t now = ctx.server.NowMs();
    if (v > kMax - now) {
      ReplyInvalidExpire(ctx, command);
      return false;
    }
    v += now;
  }
  *expire_at_ms = v;
  return true;
}

}  // namespace daxkv::kv
