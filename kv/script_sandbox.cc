#include "kv/script_sandbox.h"

#include <lua.hpp>

#include "kv/script_cmsgpack.h"
#include "kv/script_hardening.h"
#include "kv/script_struct.h"

extern "C" {
#include <lua-bitop.h>
#include <lua-cjson.h>
}

namespace daxkv::kv {
namespace {

// Registry key of the weak table proxy -> backing table.
constexpr char kProxiesKey[] = "__daxkv_readonly_proxies";
constexpr char kReadonly[] = "Attempt to modify a readonly table";

// Pushes the table behind the proxy at `index`, or nil.
void PushBacking(lua_State* L, int index) {
  lua_getfield(L, LUA_REGISTRYINDEX, kProxiesKey);
  lua_pushvalue(L, index);
  lua_rawget(L, -2);
  lua_remove(L, -2);
}

bool IsProxy(lua_State* L, int index) {
  PushBacking(L, index);
  bool proxy = !lua_isnil(L, -1);
  lua_pop(L, 1);
  return proxy;
}

// Replaces the argument at `index` by its backing table when it is a proxy.
void Unwrap(lua_State* L, int index) {
  PushBacking(L, index);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
  } else {
    lua_replace(L, index);
  }
}

// __newindex of every read-only table; the message carries the script's
// position, as Redis's VM check does.
int RefuseWrite(lua_State* L) { return luaL_error(L, "%s", kReadonly); }

// __index of the globals (and of a function library's load-time API):
// reads the backing table (upvalue 1); absent names are an error.
int StrictIndex(lua_State* L) {
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  if (!lua_isnil(L, -1)) return 1;
  return luaL_error(L,
                    "Script attempted to access nonexistent global variable "
                    "'%s'",
                    lua_tostring(L, 2));
}

// Calls the original function (upvalue 1) with the arguments as given.
int CallOriginal(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

int RefuseIfProxy(lua_State* L) {
  if (lua_gettop(L) >= 1 && IsProxy(L, 1)) {
    lua_pushstring(L, kReadonly);
    return lua_error(L);
  }
  return CallOriginal(L);
}

int SeeThroughProxy(lua_State* L) {
  if (lua_gettop(L) >= 1) Unwrap(L, 1);
  return CallOriginal(L);
}

// loadstring(s [, chunkname]) in text mode only.
int LoadString(lua_State* L) {
  size_t len = 0;
  const char* s = luaL_checklstring(L, 1, &len);
  const char* name = luaL_optstring(L, 2, s);
  if (LoadTextChunk(L, s, len, name) == 0) return 1;
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

// load(reader [, chunkname]): the reader's pieces, then as loadstring.
constexpr char kLoad[] = R"(
local loadstring, concat, type, error = ...
return function(reader, name)
  local parts = {}
  while true do
    local piece = reader()
    if piece == nil or piece == '' then break end
    if type(piece) ~= 'string' then
      error('reader function must return a string')
    end
    parts[#parts + 1] = piece
  end
  return loadstring(concat(parts), name or '=(load)')
end
)";

void InstallTextOnlyLoaders(lua_State* L) {
  lua_pushcfunction(L, LoadString);
  lua_setglobal(L, "loadstring");
  luaL_loadbuffer(L, kLoad, sizeof(kLoad) - 1, "=load");
  lua_getglobal(L, "loadstring");
  lua_getglobal(L, "table");
  lua_getfield(L, -1, "concat");
  lua_remove(L, -2);
  lua_getglobal(L, "type");
  lua_getglobal(L, "error");
  lua_call(L, 4, 1);
  lua_setglobal(L, "load");
}

// pairs(t): the wrapped next, t, nil (so proxies iterate their backing).
int Pairs(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, LUA_REGISTRYINDEX, kGlobalsKey);
  lua_getfield(L, -1, "next");
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

void WrapGlobal(lua_State* L, const char* name, lua_CFunction wrapper) {
  lua_getglobal(L, name);
  lua_pushcclosure(L, wrapper, 1);
  lua_setglobal(L, name);
}

// Stack: ..., table, reads. Makes `table` read-only with `reads` as its
// __index, and pops `reads`.
void MakeReadOnly(lua_State* L) {
  lua_newtable(L);
  lua_insert(L, -2);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, RefuseWrite);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
}

// Pushes a read-only proxy of the table at `index`: reads of absent keys
// are nil, or an error when `strict`.
void PushProxy(lua_State* L, int index, bool strict) {
  index = index < 0 ? lua_gettop(L) + index + 1 : index;
  lua_newtable(L);  // the proxy
  lua_pushvalue(L, index);
  if (strict) lua_pushcclosure(L, StrictIndex, 1);
  MakeReadOnly(L);
  lua_getfield(L, LUA_REGISTRYINDEX, kProxiesKey);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, index);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

// Absent names read from the table at the top are an error (StrictIndex
// as its __index). Only for tables no script can reach but through a
// proxy: C++ reads of absent names would raise outside a protected call.
void MakeStrict(lua_State* L) {
  lua_newtable(L);
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, StrictIndex, 1);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
}

void OpenLibrary(lua_State* L, const char* name, lua_CFunction open) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  if (name[0] != '\0' && lua_istable(L, -1)) lua_setglobal(L, name);
  lua_settop(L, 0);
}

constexpr char kErrorHandler[] = R"(
local dbg = debug
return function(err)
  local i = dbg.getinfo(2, 'nSl')
  if i and i.what == 'C' then
    i = dbg.getinfo(3, 'nSl')
  end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
)";

void InstallErrorHandler(lua_State* L) {
  luaL_loadbuffer(L, kErrorHandler, sizeof(kErrorHandler) - 1, "=errh");
  lua_call(L, 0, 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, kErrorHandlerKey);
  lua_setglobal(L, kErrorHandlerKey);
}

void OpenLibraries(lua_State* L) {
  OpenLibrary(L, "", luaopen_base);
  OpenLibrary(L, LUA_TABLIBNAME, luaopen_table);
  OpenLibrary(L, LUA_STRLIBNAME, luaopen_string);
  OpenLibrary(L, LUA_MATHLIBNAME, luaopen_math);
  OpenLibrary(L, LUA_DBLIBNAME, luaopen_debug);
  OpenLibrary(L, "cjson", luaopen_cjson);
  OpenLibrary(L, "bit", luaopen_bit);
  OpenLibrary(L, "cmsgpack", OpenCmsgpack);
  OpenLibrary(L, "struct", OpenStruct);
  for (const char* name :
       {"dofile", "loadfile", "print", "getfenv", "setfenv", "newproxy"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }
  InstallTextOnlyLoaders(L);
  HardenModules(L);
}

// Makes the library tables and then the globals read-only.
void ProtectEverything(lua_State* L) {
  lua_newtable(L);
  lua_newtable(L);
  lua_pushstring(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, kProxiesKey);

  WrapGlobal(L, "rawset", RefuseIfProxy);
  WrapGlobal(L, "setmetatable", RefuseIfProxy);
  WrapGlobal(L, "rawget", SeeThroughProxy);
  WrapGlobal(L, "next", SeeThroughProxy);
  WrapGlobal(L, "ipairs", SeeThroughProxy);
  lua_pushcfunction(L, Pairs);
  lua_setglobal(L, "pairs");

  for (const char* lib : {"string", "table", "math", "cjson", "bit",
                          "cmsgpack", "struct", "coroutine", "redis"}) {
    lua_getglobal(L, lib);
    if (!lua_istable(L, -1)) {
      lua_pop(L, 1);
      continue;
    }
    PushProxy(L, -1, false);
    lua_setglobal(L, lib);
    lua_pop(L, 1);
  }
  // Methods on strings ("x"):upper() go through the read-only table too.
  lua_pushstring(L, "");
  lua_getmetatable(L, -1);
  lua_getglobal(L, "string");
  lua_setfield(L, -2, "__index");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);

  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, kGlobalsKey);
  MakeStrict(L);
  // Not a strict proxy: its __index is the backing table itself, so that
  // a script's reads of globals that exist (KEYS, redis, tonumber...) stay
  // in the VM (no C call each); the backing table's own __index refuses
  // absent ones, with the same message from the same position.
  PushProxy(L, -1, false);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "_G");
  lua_replace(L, LUA_GLOBALSINDEX);
  lua_settop(L, 0);
}

// Wraps the library API table `redis` (at the top) as Redis's load-time
// globals: {redis = <strict read-only redis>}, strict and read-only too.
void InstallLibraryApi(lua_State* L) {
  const int api = lua_gettop(L);
  lua_newtable(L);  // the load-time globals' backing table
  PushProxy(L, api, true);
  lua_setfield(L, -2, "redis");
  lua_setfield(L, LUA_REGISTRYINDEX, kLibraryApiKey);
  lua_settop(L, api - 1);
}

}  // namespace

lua_State* NewSandboxedState(
    const std::function<void(lua_State*)>& register_api,
    const std::function<void(lua_State*)>& push_library_api) {
  lua_State* L = luaL_newstate();
  if (L == nullptr) return nullptr;
  OpenLibraries(L);
  InstallErrorHandler(L);
  lua_pushnil(L);
  lua_setglobal(L, LUA_DBLIBNAME);
  register_api(L);
  ProtectEverything(L);
  push_library_api(L);
  InstallLibraryApi(L);
  return L;
}

int LoadTextChunk(lua_State* L, const char* code, size_t len,
                  const char* chunkname) {
  if (len == 0 || code[0] != LUA_SIGNATURE[0]) {
    return luaL_loadbuffer(L, code, len, chunkname);
  }
  // A leading space makes the lexer see the same bytes, on the same line.
  lua_pushlstring(L, " ", 1);
  lua_pushlstring(L, code, len);
  lua_concat(L, 2);
  size_t text_len = 0;
  const char* text = lua_tolstring(L, -1, &text_len);
  int rc = luaL_loadbuffer(L, text, text_len, chunkname);
  lua_remove(L, -2);
  return rc;
}

void PushLibraryEnvironment(lua_State* L) {
  lua_newtable(L);
  lua_getfield(L, LUA_REGISTRYINDEX, kLibraryApiKey);
  lua_pushcclosure(L, StrictIndex, 1);
  MakeReadOnly(L);
}

void SwitchToRuntimeEnvironment(lua_State* L, int env) {
  // The globals proxy's metatable: the same reads and refusals as scripts.
  lua_getmetatable(L, LUA_GLOBALSINDEX);
  lua_setmetatable(L, env);
}

}  // namespace daxkv::kv
