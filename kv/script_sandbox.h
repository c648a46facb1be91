// The Lua 5.1 state scripts run in, sandboxed as Redis 7.0's:
// - libraries: base (without dofile, loadfile, print, getfenv, setfenv,
//   newproxy), coroutine, table, string, math, cjson and bit (Debian's
//   lua-cjson and lua-bitop), cmsgpack and struct (kv/script_cmsgpack.h,
//   kv/script_struct.h); no os, io, package or debug;
// - every global and every library table is read-only: assigning a global
//   fails with "Attempt to modify a readonly table", reading an absent one
//   with "Script attempted to access nonexistent global variable 'x'".
//
// Redis patches its Lua VM with a read-only table flag; Debian's stock
// liblua5.1 has none, so the read-only tables here are empty proxies whose
// metatables refuse writes and forward reads, and rawset, rawget,
// setmetatable, next, pairs and ipairs are wrapped to see through (or
// refuse) them.
//
// Thread-safety: a lua_State is used by one thread at a time.
#ifndef DAXKV_KV_SCRIPT_SANDBOX_H_
#define DAXKV_KV_SCRIPT_SANDBOX_H_

#include <functional>

struct lua_State;

namespace daxkv::kv {

// Registry key of the error handler scripts run under (Redis's
// __redis__err__handler): it turns any error into {err=..., source=...,
// line=...}.
inline constexpr char kErrorHandlerKey[] = "__redis__err__handler";
// Registry key of the writable table behind the read-only globals (where
// KEYS and ARGV are set before each run). Its metatable refuses reads of
// absent names (raw reads and writes only from C++).
inline constexpr char kGlobalsKey[] = "__daxkv_globals";
// Registry key of the backing table of a function library's load-time
// globals (only a `redis` with register_function, log and the constants).
inline constexpr char kLibraryApiKey[] = "__daxkv_library_api";

// A new sandboxed state. `register_api` runs once the libraries are open
// and before the globals become read-only; it defines the `redis` table.
// `push_library_api` pushes the `redis` table FUNCTION LOAD's library code
// sees. Returns null when Lua cannot allocate the state.
lua_State* NewSandboxedState(
    const std::function<void(lua_State*)>& register_api,
    const std::function<void(lua_State*)>& push_library_api);

// luaL_loadbuffer that never loads precompiled bytecode (which Lua 5.1
// trusts blindly: crafted bytecode reads and writes memory outside the
// sandbox, CVE-2015-4335). A chunk starting with the bytecode signature
// is parsed as text instead, so it fails as in Redis, whose Lua is patched
// the same way: "unexpected symbol near 'char(27)'".
int LoadTextChunk(lua_State* L, const char* code, size_t len,
                  const char* chunkname);

// Pushes a new environment for a function library's code while it loads:
// read-only, only `redis` (the library API) in it, other names an error.
void PushLibraryEnvironment(lua_State* L);
// Turns the environment at `env` into the scripts' read-only globals (the
// library's functions then run with what EVAL scripts see).
void SwitchToRuntimeEnvironment(lua_State* L, int env);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_SCRIPT_SANDBOX_H_
