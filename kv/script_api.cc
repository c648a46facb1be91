#include "kv/script_api.h"

#include <lua.hpp>

#include <cstdio>
#include <string>

#include "kv/command.h"
#include "kv/script_convert.h"
#include "kv/script_engine.h"
#include "kv/sha1.h"

namespace daxkv::kv {
namespace {

// The version scripts see: what INFO and HELLO report.
constexpr char kVersion[] = "7.0.0";
constexpr int kVersionNum = 0x070000;

enum LogLevel { kLogDebug = 0, kLogVerbose, kLogNotice, kLogWarning };

// Raises Redis's error table for `msg` (luaPushError + luaError). Only
// C strings are live here: lua_error longjmps.
int RaiseError(lua_State* L, const char* msg) {
  PushErrorTable(L, msg);
  return lua_error(L);
}

int Call(lua_State* L) { return ScriptEngine::FromLua(L)->Call(L, true); }
int PCall(lua_State* L) { return ScriptEngine::FromLua(L)->Call(L, false); }

// {field = s}, or an error table when the argument is not one string.
int SingleFieldTable(lua_State* L, const char* field) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    PushErrorTable(L, "wrong number or type of arguments");
    return 1;
  }
  lua_newtable(L);
  lua_pushstring(L, field);
  lua_pushvalue(L, -3);
  lua_settable(L, -3);
  return 1;
}

int ErrorReply(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    return SingleFieldTable(L, "err");
  }
  size_t len = 0;
  const char* s = lua_tolstring(L, 1, &len);
  if (len > 0 && s[0] == '-') {
    PushErrorTable(L, std::string_view(s, len));
  } else {
    PushErrorTable(L, "-" + std::string(s, len));
  }
  return 1;
}

int StatusReply(lua_State* L) { return SingleFieldTable(L, "ok"); }

int Sha1HexFn(lua_State* L) {
  if (lua_gettop(L) != 1) return RaiseError(L, "wrong number of arguments");
  size_t len = 0;
  const char* s = lua_tolstring(L, 1, &len);
  std::string hex = Sha1Hex(std::string_view(s != nullptr ? s : "", len));
  lua_pushlstring(L, hex.data(), hex.size());
  return 1;
}

// redis.log(level, ...): the arguments joined by spaces, to the server's
// log (stderr) at notice and warning, which is what Redis's default
// verbosity shows.
void WriteLog(lua_State* L, int level) {
  std::string line;
  for (int i = 2; i <= lua_gettop(L); ++i) {
    size_t len = 0;
    const char* s = lua_tolstring(L, i, &len);
    if (s == nullptr) continue;
    if (!line.empty()) line += ' ';
    line.append(s, len);
  }
  if (level >= kLogNotice) {
    std::fprintf(stderr, "daxkv-server: script: %s\n", line.c_str());
  }
}

int Log(lua_State* L) {
  if (lua_gettop(L) < 2) {
    return RaiseError(L, "redis.log() requires two arguments or more.");
  }
  if (!lua_isnumber(L, 1)) {
    return RaiseError(L, "First argument must be a number (log level).");
  }
  int level = LuaNumberToInt(lua_tonumber(L, 1));
  if (level < kLogDebug || level > kLogWarning) {
    return RaiseError(L, "Invalid debug level.");
  }
  WriteLog(L, level);
  return 0;
}

int SetResp(lua_State* L) {
  if (lua_gettop(L) != 1) {
    return RaiseError(L, "redis.setresp() requires one argument.");
  }
  int resp = LuaNumberToInt(lua_tonumber(L, -1));
  if (resp != 2 && resp != 3) {
    return RaiseError(L, "RESP version must be 2 or 3.");
  }
  ScriptEngine::FromLua(L)->set_resp(resp);
  return 0;
}

// Accepted and ignored: daxkv replicates a script's effects (never the
// script), whatever the flags, as Redis 7 does by default.
int SetRepl(lua_State* L) {
  if (lua_gettop(L) != 1) {
    return RaiseError(L, "redis.set_repl() requires one argument.");
  }
  int flags = LuaNumberToInt(lua_tonumber(L, -1));
  if (flags < 0 || flags > 3) {
    return RaiseError(L,
                      "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, "
                      "REPL_ALL or REPL_NONE.");
  }
  return 0;
}

int ReplicateCommands(lua_State* L) {
  lua_pushboolean(L, 1);
  return 1;
}

// The script debugger (SCRIPT DEBUG) is not supported: as Redis outside a
// debugging session, breakpoint() is false and debug() does nothing.
int Breakpoint(lua_State* L) {
  lua_pushboolean(L, 0);
  return 1;
}
int Debug(lua_State*) { return 0; }

// daxkv has no ACL users: every existing command is allowed.
int AclCheckCmd(lua_State* L) {
  if (lua_gettop(L) < 1 || lua_type(L, 1) != LUA_TSTRING) {
    return RaiseError(L, "Please specify at least one argument for this "
                         "redis lib call");
  }
  if (CommandTable::Default().Find(lua_tostring(L, 1)) == nullptr) {
    return RaiseError(L, "Invalid command passed to redis.acl_check_cmd()");
  }
  lua_pushboolean(L, 1);
  return 1;
}

void SetNumber(lua_State* L, const char* name, int value) {
  lua_pushnumber(L, value);
  lua_setfield(L, -2, name);
}

int RegisterFunction(lua_State* L) {
  return ScriptEngine::FromLua(L)->functions().Register(L);
}

// The LOG_* levels and the version, in the table at the top.
void SetConstants(lua_State* L) {
  SetNumber(L, "LOG_DEBUG", kLogDebug);
  SetNumber(L, "LOG_VERBOSE", kLogVerbose);
  SetNumber(L, "LOG_NOTICE", kLogNotice);
  SetNumber(L, "LOG_WARNING", kLogWarning);
  lua_pushstring(L, kVersion);
  lua_setfield(L, -2, "REDIS_VERSION");
  SetNumber(L, "REDIS_VERSION_NUM", kVersionNum);
}

}  // namespace

void RegisterRedisApi(lua_State* L) {
  static const luaL_Reg kFunctions[] = {
      {"call", Call},
      {"pcall", PCall},
      {"error_reply", ErrorReply},
      {"status_reply", StatusReply},
      {"sha1hex", Sha1HexFn},
      {"log", Log},
      {"setresp", SetResp},
      {"set_repl", SetRepl},
      {"replicate_commands", ReplicateCommands},
      {"breakpoint", Breakpoint},
      {"debug", Debug},
      {"acl_check_cmd", AclCheckCmd},
      {nullptr, nullptr}};
  lua_newtable(L);
  luaL_register(L, nullptr, kFunctions);
  SetConstants(L);
  SetNumber(L, "REPL_NONE", 0);
  SetNumber(L, "REPL_AOF", 1);
  SetNumber(L, "REPL_SLAVE", 2);
  SetNumber(L, "REPL_REPLICA", 2);
  SetNumber(L, "REPL_ALL", 3);
  lua_setglobal(L, "redis");
}

void PushLibraryApi(lua_State* L) {
  static const luaL_Reg kFunctions[] = {
      {"register_function", RegisterFunction}, {"log", Log}, {nullptr, nullptr}};
  lua_newtable(L);
  luaL_register(L, nullptr, kFunctions);
  SetConstants(L);
}

}  // namespace daxkv::kv
