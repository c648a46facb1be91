// The `redis` table scripts see: call, pcall, error_reply, status_reply,
// sha1hex, log, setresp, set_repl, replicate_commands, breakpoint, debug,
// acl_check_cmd, and the LOG_*, REPL_* and REDIS_VERSION constants, with
// Redis 7.0's argument checks and error texts.
#ifndef DAXKV_KV_SCRIPT_API_H_
#define DAXKV_KV_SCRIPT_API_H_

struct lua_State;

namespace daxkv::kv {

// Defines the global `redis` table in L.
// REQUIRES: L belongs to a ScriptEngine (ScriptEngine::FromLua).
void RegisterRedisApi(lua_State* L);
// Pushes the `redis` table a function library's code sees while it loads
// (FUNCTION LOAD): register_function, log and the LOG_* and version
// constants.
void PushLibraryApi(lua_State* L);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_SCRIPT_API_H_
