// The arguments of SCAN and its per-key forms (HSCAN, SSCAN, ZSCAN):
// cursor [MATCH pattern] [COUNT n] [TYPE t], parsed as Redis parses them.
#ifndef DAXKV_KV_SCAN_ARGS_H_
#define DAXKV_KV_SCAN_ARGS_H_

#include <cstdint>
#include <string_view>

#include "engine/txn.h"
#include "kv/coll_run.h"
#include "kv/command.h"

namespace daxkv::kv {

struct ScanOptions {
  uint64_t cursor = 0;
  int64_t count = 10;
  std::string_view pattern;
  bool match_all = true;  // no MATCH, or MATCH * ("" matches only "")
  std::string_view type;
  // KeyScanOptions only: the reply to bad options ("" when they parsed).
  std::string error;
};

// The cursor is argv[cursor_arg], options follow; TYPE only when
// allow_type (SCAN). On failure the error is replied and false returned.
bool ParseScanOptions(CommandContext& ctx, size_t cursor_arg, bool allow_type,
                      ScanOptions* o);

// HSCAN, SSCAN, ZSCAN: a bad cursor is replied (false returned) at once,
// but Redis looks the key up before it parses the options, so a bad
// option only sets o->error; the body replies it via KeyScanOptionError.
bool KeyScanOptions(CommandContext& ctx, ScanOptions* o);

// The body's reply when o.error is set: an empty scan for a missing key,
// WRONGTYPE for a key of another type than `want`, else the error.
Status KeyScanOptionError(engine::ReadOps& ops, std::string_view key,
                          engine::KeyType want, const ScanOptions& o,
                          CollCall& call);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_SCAN_ARGS_H_
