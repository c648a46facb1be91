// The arguments of SCAN and its per-key forms (HSCAN, SSCAN, ZSCAN):
// cursor [MATCH pattern] [COUNT n] [TYPE t], parsed as Redis parses them.
#ifndef DAXKV_KV_SCAN_ARGS_H_
#define DAXKV_KV_SCAN_ARGS_H_

#include <cstdint>
#include <string_view>

#include "kv/command.h"

namespace daxkv::kv {

struct ScanOptions {
  uint64_t cursor = 0;
  int64_t count = 10;
  std::string_view pattern;
  std::string_view type;
};

// The cursor is argv[cursor_arg], options follow; TYPE only when
// allow_type (SCAN). On failure the error is replied and false returned.
bool ParseScanOptions(CommandContext& ctx, size_t cursor_arg, bool allow_type,
                      ScanOptions* o);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_SCAN_ARGS_H_
