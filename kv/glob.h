// Redis glob-style pattern matching (KEYS, SCAN MATCH, CONFIG GET):
// * ? [abc] [^a] [a-z] and \ escapes, as Redis's stringmatchlen.
#ifndef DAXKV_KV_GLOB_H_
#define DAXKV_KV_GLOB_H_

#include <string_view>

namespace daxkv::kv {

bool GlobMatch(std::string_view pattern, std::string_view s,
               bool nocase = false);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_GLOB_H_
