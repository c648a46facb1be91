// Expiry arguments shared by SET, GETEX, SETEX/PSETEX: the EX/PX/EXAT/PXAT
// options turned into an absolute Unix time in milliseconds, with Redis's
// validation and error texts.
#ifndef DAXKV_KV_EXPIRE_ARGS_H_
#define DAXKV_KV_EXPIRE_ARGS_H_

#include <cstdint>
#include <string_view>

#include "kv/command.h"

namespace daxkv::kv {

enum class ExpireUnit { kSeconds, kMilliseconds };

enum class ExpireArgError { kNone, kNotInteger, kInvalid };

// ParseExpireArg without the reply: for commands that must look the key up
// before they may report a bad expiry (GETEX).
ExpireArgError ParseExpireValue(std::string_view arg, ExpireUnit unit,
                                bool absolute, int64_t now_ms,
                                int64_t* expire_at_ms);
// The reply for a ParseExpireValue error.
void ReplyExpireArgError(CommandContext& ctx, std::string_view command,
                         ExpireArgError error);

// Converts `arg` (EX/PX when !absolute, EXAT/PXAT when absolute) into an
// absolute time in ms. Replies with the error and returns false when `arg`
// is not an integer, <= 0, or overflows ("ERR invalid expire time in 'set'
// command" naming `command`).
bool ParseExpireArg(CommandContext& ctx, std::string_view command,
                    std::string_view arg, ExpireUnit unit, bool absolute,
                    int64_t* expire_at_ms);

void ReplyInvalidExpire(CommandContext& ctx, std::string_view command);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_EXPIRE_ARGS_H_
