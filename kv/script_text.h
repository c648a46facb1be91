// The text around a script: its shebang line and its SHA-1 name (EVAL,
// SCRIPT LOAD, EVALSHA; FUNCTION LOAD's first line shares SplitWords).
#ifndef DAXKV_KV_SCRIPT_TEXT_H_
#define DAXKV_KV_SCRIPT_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace daxkv::kv {

// The flags of a script's shebang line ("#!lua flags=no-writes,...").
struct ScriptFlags {
  bool has_shebang = false;  // flags decide up front (not Redis's compat)
  bool no_writes = false;
  bool allow_stale = false;  // runs on a replica refusing stale reads
  // allow-oom, no-cluster, allow-cross-slot-keys are accepted; daxkv has
  // no maxmemory or cluster to relax.
};

// The whitespace-separated words of a shebang line.
std::vector<std::string_view> SplitWords(std::string_view line);

// Parses the shebang of `body`: "" when it has none. On success *flags is
// set and *skip is the length of the shebang (the body compiles from its
// newline on, so line numbers stay the script's). On failure returns
// false with Redis's error text in *error.
bool ParseShebang(std::string_view body, ScriptFlags* flags, size_t* skip,
                  std::string* error);

// SHA-1s are cached in lower case; most arrive so (EVAL computes them,
// clients send SCRIPT LOAD's answer back). A 40-character name is lowered
// into `buf` (no allocation on EVALSHA's path); any other length is
// returned as is (it names no cached script).
constexpr size_t kShaHexLen = 40;
std::string_view LowerSha(std::string_view sha, char (&buf)[kShaHexLen]);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_SCRIPT_TEXT_H_
