// struct for scripts: pack, unpack and size of binary records, with the
// format language, results and error texts of the struct library (Roberto
// Ierusalimschy's lua-struct 0.2) Redis bundles; Debian packages none.
// Formats: > < (endianness), ![n] (alignment), x (pad byte), b B h H l L
// T i[n] I[n] (integers), f d (floats), s (zero-terminated string), c[n]
// (n characters; c0 takes the length from the string, or from the
// previous value when unpacking).
#ifndef DAXKV_KV_SCRIPT_STRUCT_H_
#define DAXKV_KV_SCRIPT_STRUCT_H_

struct lua_State;

namespace daxkv::kv {

// lua_CFunction: pushes the struct table.
int OpenStruct(lua_State* L);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_SCRIPT_STRUCT_H_
