#include "kv/expire_args.h"

#include <limits>
#include <string>

namespace daxkv::kv {

void ReplyInvalidExpire(CommandContext& ctx, std::string_view command) {
  ctx.out.Error("ERR invalid expire time in '" + std::string(command) +
                "' command");
}

ExpireArgError ParseExpireValue(std::string_view arg, ExpireUnit unit,
                                bool absolute, int64_t now_ms,
                                int64_t* expire_at_ms) {
  int64_t v = 0;
  if (!ParseInt64(arg, &v)) return ExpireArgError::kNotInteger;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (v <= 0 || (unit == ExpireUnit::kSeconds && v > kMax / 1000)) {
    return ExpireArgError::kInvalid;
  }
  if (unit == ExpireUnit::kSeconds) v *= 1000;
  if (!absolute) {
    if (v > kMax - now_ms) return ExpireArgError::kInvalid;
    v += now_ms;
  }
  *expire_at_ms = v;
  return ExpireArgError::kNone;
}

void ReplyExpireArgError(CommandContext& ctx, std::string_view command,
                         ExpireArgError error) {
  if (error == ExpireArgError::kNotInteger) {
    ReplyNotInteger(ctx);
  } else {
    ReplyInvalidExpire(ctx, command);
  }
}

bool ParseExpireArg(CommandContext& ctx, std::string_view command,
                    std::string_view arg, ExpireUnit unit, bool absolute,
                    int64_t* expire_at_ms) {
  ExpireArgError e =
      ParseExpireValue(arg, unit, absolute, ctx.server.NowMs(), expire_at_ms);
  if (e == ExpireArgError::kNone) return true;
  ReplyExpireArgError(ctx, command, e);
  return false;
}

}  // namespace daxkv::kv
