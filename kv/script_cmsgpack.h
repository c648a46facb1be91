// cmsgpack for scripts: MessagePack pack/unpack with the API and the
// encoding choices of the lua-cmsgpack Redis bundles (Debian packages no
// Lua 5.1 C module with that API; lua-messagepack is pure Lua with another
// API and other encoding choices). pack(...) encodes each argument
// (integral numbers as the smallest integer, others as float32 when exact
// else float64, tables with keys 1..n as arrays, others as maps, nesting
// cut at 16 levels with nil); unpack(s), unpack_one(s [, offset]) and
// unpack_limit(s, limit [, offset]) decode.
#ifndef DAXKV_KV_SCRIPT_CMSGPACK_H_
#define DAXKV_KV_SCRIPT_CMSGPACK_H_

struct lua_State;

namespace daxkv::kv {

// lua_CFunction: pushes the cmsgpack table.
int OpenCmsgpack(lua_State* L);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_SCRIPT_CMSGPACK_H_
