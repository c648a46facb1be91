// SHA-1 (FIPS 180-4), for script identifiers: Redis names an EVAL script by
// the SHA-1 of its body (EVALSHA, SCRIPT LOAD, redis.sha1hex). Not used for
// anything that needs collision resistance.
#ifndef DAXKV_KV_SHA1_H_
#define DAXKV_KV_SHA1_H_

#include <string>
#include <string_view>

namespace daxkv::kv {

// The 40 lower-case hex digits of SHA-1(data).
std::string Sha1Hex(std::string_view data);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_SHA1_H_
