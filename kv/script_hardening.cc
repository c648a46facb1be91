// Only C values live in these functions: luaL_error longjmps.
#include "kv/script_hardening.h"

#include <lua.hpp>

#include <cstdint>
#include <cstring>

namespace daxkv::kv {
namespace {

// lua-bitop's barg: the number modulo 2^32 (through the 2^52+2^51 bias).
uint32_t BitArg(lua_State* L, int index) {
  double n = lua_tonumber(L, index) + 6755399441055744.0;
  uint64_t bits;
  std::memcpy(&bits, &n, sizeof(bits));
  auto b = static_cast<uint32_t>(bits);
  if (b == 0 && !lua_isnumber(L, index)) luaL_typerror(L, index, "number");
  return b;
}

// Redis's bit_tohex: INT32_MIN digits count as INT32_MAX (then 8).
int ToHex(lua_State* L) {
  uint32_t b = BitArg(L, 1);
  int32_t n = lua_isnone(L, 2) ? 8 : static_cast<int32_t>(BitArg(L, 2));
  const char* digits = "0123456789abcdef";
  if (n == INT32_MIN) n = INT32_MIN + 1;
  if (n < 0) {
    n = -n;
    digits = "0123456789ABCDEF";
  }
  if (n > 8) n = 8;
  char buf[8];
  for (int i = n; --i >= 0;) {
    buf[i] = digits[b & 15];
    b >>= 4;
  }
  lua_pushlstring(L, buf, static_cast<size_t>(n));
  return 1;
}

// cjson's worst case is 6 bytes per string byte (\u00XX): keep the whole
// output well inside its int-sized buffer.
constexpr uint64_t kMaxEncoding = uint64_t{1} << 30;
// cjson refuses deeper nesting itself; deeper parts are not walked.
constexpr int kMaxDepth = 1001;

uint64_t EncodingBound(lua_State* L, int index, int depth) {
  switch (lua_type(L, index)) {
    case LUA_TSTRING:
      return 6 * lua_objlen(L, index) + 2;
    case LUA_TTABLE: {
      if (depth >= kMaxDepth || !lua_checkstack(L, 3)) return 0;
      uint64_t total = 2;
      lua_pushnil(L);
      while (lua_next(L, index) != 0 && total <= kMaxEncoding) {
        const int top = lua_gettop(L);
        total += EncodingBound(L, top - 1, depth + 1) +
                 EncodingBound(L, top, depth + 1) + 2;
        lua_pop(L, 1);
      }
      if (total > kMaxEncoding) lua_pop(L, 1);  // the key lua_next left
      return total;
    }
    default:
      return 32;
  }
}

// cjson.encode(v): refused when its encoding could pass kMaxEncoding,
// else the original (upvalue 1).
int SafeEncode(lua_State* L) {
  if (lua_gettop(L) >= 1 && EncodingBound(L, 1, 0) > kMaxEncoding) {
    return luaL_error(L, "Cannot serialise: the encoding would exceed %d bytes",
                      static_cast<int>(kMaxEncoding));
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

}  // namespace

void HardenModules(lua_State* L) {
  lua_getglobal(L, "bit");
  if (lua_istable(L, -1)) {
    lua_pushcfunction(L, ToHex);
    lua_setfield(L, -2, "tohex");
  }
  lua_pop(L, 1);
  lua_getglobal(L, "cjson");
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "encode");
    lua_pushcclosure(L, SafeEncode, 1);
    lua_setfield(L, -2, "encode");
  }
  lua_pop(L, 1);
}

}  // namespace daxkv::kv
