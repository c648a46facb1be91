// Conversions between Lua values and RESP replies, by Redis 7.0's rules
// (script_lua.c): a command's reply becomes a Lua value for redis.call, and
// a script's return value becomes the client's reply.
//
// RESP -> Lua: integer -> number, bulk -> string, null bulk or null array
// -> false (RESP3 null -> nil), array -> table, status -> {ok=s}, error ->
// {err=s}; RESP3: map -> {map={...}}, set -> {set={k=true}}, boolean ->
// boolean, double -> {double=n}, big number -> {big_number=s}, verbatim ->
// {verbatim_string={format=f, string=s}}.
//
// Lua -> RESP: number -> integer (truncated), string -> bulk, true -> 1,
// false -> null (script in RESP3: booleans), {err=s} -> error, {ok=s} -> status,
// {double=n}, {big_number=s}, {verbatim_string=...}, {map=...}, {set=...},
// other tables -> array up to the first nil, anything else -> null.
//
// Thread-safety: as the lua_State passed in.
#ifndef DAXKV_KV_SCRIPT_CONVERT_H_
#define DAXKV_KV_SCRIPT_CONVERT_H_

#include <cstdint>
#include <string_view>

#include "kv/resp_writer.h"

struct lua_State;

namespace daxkv::kv {

// Pushes the Lua value of the single RESP reply in `reply` (as a command
// handler wrote it). Returns whether the reply is an error; an error is
// pushed as Redis's error table ({err="CODE msg"}).
bool PushReplyAsLua(lua_State* L, std::string_view reply);

// Writes the Lua value at `index` as one reply. Booleans follow the
// script's protocol (redis.setresp), as in Redis: under RESP2 true is 1 and
// false a null; under RESP3 they are booleans (0/1 to a RESP2 caller).
void WriteLuaValue(lua_State* L, int index, int script_resp, ReplyWriter& out);

// (long long)n as Redis's C code does it, defined for every double: NaN
// and values out of range become what x86 yields, INT64_MIN.
int64_t LuaNumberToInteger(double n);
// (int)n the same way: INT_MIN when out of int's range.
int LuaNumberToInt(double n);

// Pushes Redis's error table for `text` (luaPushErrorBuff): "-CODE msg"
// keeps its code, anything else gets "ERR "; CR/LF at the ends are trimmed.
void PushErrorTable(lua_State* L, std::string_view text);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_SCRIPT_CONVERT_H_
