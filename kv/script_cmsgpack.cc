#include "kv/script_cmsgpack.h"

#include <lua.hpp>

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace daxkv::kv {
namespace {

constexpr int kMaxNesting = 16;

bool IsInt64Equivalent(lua_Number n) {
  return !std::isinf(n) && n >= -9223372036854775808.0 &&
         n < 9223372036854775808.0 && static_cast<lua_Number>(
                                          static_cast<int64_t>(n)) == n;
}

void PutBigEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

void PutTagged(std::string* out, uint8_t tag, uint64_t v, int bytes) {
  out->push_back(static_cast<char>(tag));
  PutBigEndian(out, v, bytes);
}

void EncodeInteger(std::string* out, int64_t n) {
  const auto u = static_cast<uint64_t>(n);
  if (n >= 0) {
    if (n <= 127) {
      out->push_back(static_cast<char>(n));
    } else if (n <= 0xff) {
      PutTagged(out, 0xcc, u, 1);
    } else if (n <= 0xffff) {
      PutTagged(out, 0xcd, u, 2);
    } else if (n <= 0xffffffffLL) {
      PutTagged(out, 0xce, u, 4);
    } else {
      PutTagged(out, 0xcf, u, 8);
    }
  } else if (n >= -32) {
    out->push_back(static_cast<char>(u & 0xff));
  } else if (n >= -128) {
    PutTagged(out, 0xd0, u, 1);
  } else if (n >= -32768) {
    PutTagged(out, 0xd1, u, 2);
  } else if (n >= -2147483648LL) {
    PutTagged(out, 0xd2, u, 4);
  } else {
    PutTagged(out, 0xd3, u, 8);
  }
}

void EncodeNumber(std::string* out, lua_Number n) {
  if (IsInt64Equivalent(n)) {
    EncodeInteger(out, static_cast<int64_t>(n));
    return;
  }
  const auto f = static_cast<float>(n);
  if (static_cast<double>(f) == n) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof(bits));
    PutTagged(out, 0xca, bits, 4);
  } else {
    uint64_t bits;
    const double d = n;
    std::memcpy(&bits, &d, sizeof(bits));
    PutTagged(out, 0xcb, bits, 8);
  }
}

// A header for `n` items: fixed (up to `fixed_max`), 16-bit or 32-bit.
void EncodeLength(std::string* out, size_t n, uint8_t fixed, size_t fixed_max,
                  uint8_t tag16) {
  if (n <= fixed_max) {
    out->push_back(static_cast<char>(fixed | n));
  } else if (n <= 0xffff) {
    PutTagged(out, tag16, n, 2);
  } else {
    PutTagged(out, tag16 + 1, n, 4);
  }
}

void EncodeString(std::string* out, const char* s, size_t len) {
  if (len < 32) {
    out->push_back(static_cast<char>(0xa0 | len));
  } else if (len <= 0xff) {
    PutTagged(out, 0xd9, len, 1);
  } else if (len <= 0xffff) {
    PutTagged(out, 0xda, len, 2);
  } else {
    PutTagged(out, 0xdb, len, 4);
  }
  out->append(s, len);
}

// lua-cmsgpack's table_is_an_array: every key a positive integer and the
// largest equal to the count (an empty table is an array).
bool IsArray(lua_State* L, int t) {
  lua_Number max = 0, count = 0;
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    lua_pop(L, 1);
    lua_Number n = lua_tonumber(L, -1);
    if (lua_type(L, -1) != LUA_TNUMBER || n <= 0 || n > INT_MAX ||
        static_cast<lua_Number>(static_cast<int>(n)) != n) {
      lua_pop(L, 1);
      return false;
    }
    if (n > max) max = n;
    ++count;
  }
  return max == count;
}

void Encode(lua_State* L, int index, int level, std::string* out);

void EncodeTable(lua_State* L, int t, int level, std::string* out) {
  if (IsArray(L, t)) {
    const size_t n = lua_objlen(L, t);
    EncodeLength(out, n, 0x90, 15, 0xdc);
    for (size_t i = 1; i <= n; ++i) {
      lua_rawgeti(L, t, static_cast<int>(i));
      Encode(L, lua_gettop(L), level + 1, out);
      lua_pop(L, 1);
    }
    return;
  }
  size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    lua_pop(L, 1);
    ++n;
  }
  EncodeLength(out, n, 0x80, 15, 0xde);
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    Encode(L, lua_gettop(L) - 1, level + 1, out);
    Encode(L, lua_gettop(L), level + 1, out);
    lua_pop(L, 1);
  }
}

void Encode(lua_State* L, int index, int level, std::string* out) {
  lua_checkstack(L, 4);
  switch (lua_type(L, index)) {
    case LUA_TBOOLEAN:
      out->push_back(lua_toboolean(L, index) ? '\xc3' : '\xc2');
      return;
    case LUA_TNUMBER:
      EncodeNumber(out, lua_tonumber(L, index));
      return;
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, index, &len);
      EncodeString(out, s, len);
      return;
    }
    case LUA_TTABLE:
      if (level < kMaxNesting) {
        EncodeTable(L, index, level, out);
        return;
      }
      break;
    default:
      break;
  }
  out->push_back('\xc0');
}

int Pack(lua_State* L) {
  const int argc = lua_gettop(L);
  if (argc == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
  {
    std::string out;
    for (int i = 1; i <= argc; ++i) Encode(L, i, 0, &out);
    lua_pushlstring(L, out.data(), out.size());
  }
  return 1;
}

// A read position in the input; err is set once it runs out (kEof) or
// meets a byte no MessagePack type starts with (kBadFormat). Plain data:
// lua_error may longjmp over frames holding it.
enum DecodeError { kNone, kEof, kBadFormat };
struct Cursor {
  const unsigned char* p;
  size_t left;
  DecodeError err;
};

bool Need(Cursor* c, size_t n) {
  if (c->left < n) {
    c->err = kEof;
    return false;
  }
  return true;
}

uint64_t TakeBigEndian(Cursor* c, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | c->p[i];
  c->p += bytes;
  c->left -= static_cast<size_t>(bytes);
  return v;
}

void Decode(lua_State* L, Cursor* c);

void DecodeBytes(lua_State* L, Cursor* c, int len_bytes, size_t fixed_len) {
  size_t len = fixed_len;
  if (len_bytes > 0) {
    if (!Need(c, 1 + static_cast<size_t>(len_bytes))) return;
    c->p++;
    c->left--;
    len = TakeBigEndian(c, len_bytes);
  } else {
    c->p++;
    c->left--;
  }
  if (!Need(c, len)) return;
  lua_pushlstring(L, reinterpret_cast<const char*>(c->p), len);
  c->p += len;
  c->left -= len;
}

void DecodeAggregate(lua_State* L, Cursor* c, int len_bytes, size_t fixed_len,
                     bool map) {
  size_t n = fixed_len;
  if (!Need(c, 1 + static_cast<size_t>(len_bytes))) return;
  c->p++;
  c->left--;
  if (len_bytes > 0) n = TakeBigEndian(c, len_bytes);
  luaL_checkstack(L, 3, "in function mp_decode_to_lua_type");
  lua_newtable(L);
  for (size_t i = 1; i <= n && c->err == kNone; ++i) {
    if (map) {
      Decode(L, c);
      if (c->err != kNone) return;
    } else {
      lua_pushnumber(L, static_cast<lua_Number>(i));
    }
    Decode(L, c);
    if (c->err != kNone) return;
    lua_settable(L, -3);
  }
}

void DecodeFixed(lua_State* L, Cursor* c, int bytes, bool is_signed) {
  if (!Need(c, 1 + static_cast<size_t>(bytes))) return;
  c->p++;
  c->left--;
  uint64_t v = TakeBigEndian(c, bytes);
  if (is_signed) {
    const int shift = 64 - 8 * bytes;
    lua_pushnumber(L, static_cast<lua_Number>(
                          static_cast<int64_t>(v << shift) >> shift));
  } else {
    lua_pushnumber(L, static_cast<lua_Number>(v));
  }
}

void DecodeFloat(lua_State* L, Cursor* c, int bytes) {
  if (!Need(c, 1 + static_cast<size_t>(bytes))) return;
  c->p++;
  c->left--;
  uint64_t bits = TakeBigEndian(c, bytes);
  if (bytes == 4) {
    float f;
    const auto b32 = static_cast<uint32_t>(bits);
    std::memcpy(&f, &b32, sizeof(f));
    lua_pushnumber(L, f);
  } else {
    double d;
    std::memcpy(&d, &bits, sizeof(d));
    lua_pushnumber(L, d);
  }
}

// Pushes one value; on c->err nothing valid is left to use.
void Decode(lua_State* L, Cursor* c) {
  // unpack returns every top-level value: grow the stack as they come.
  luaL_checkstack(L, 1,
                  "too many return values at once; use unpack_one or "
                  "unpack_limit instead.");
  if (!Need(c, 1)) return;
  const unsigned char b = c->p[0];
  switch (b) {
    case 0xcc: return DecodeFixed(L, c, 1, false);
    case 0xcd: return DecodeFixed(L, c, 2, false);
    case 0xce: return DecodeFixed(L, c, 4, false);
    case 0xcf: return DecodeFixed(L, c, 8, false);
    case 0xd0: return DecodeFixed(L, c, 1, true);
    case 0xd1: return DecodeFixed(L, c, 2, true);
    case 0xd2: return DecodeFixed(L, c, 4, true);
    case 0xd3: return DecodeFixed(L, c, 8, true);
    case 0xca: return DecodeFloat(L, c, 4);
    case 0xcb: return DecodeFloat(L, c, 8);
    // No bin8/16/32 (0xc4..0xc6): Redis's lua-cmsgpack refuses them too.
    case 0xd9: return DecodeBytes(L, c, 1, 0);
    case 0xda: return DecodeBytes(L, c, 2, 0);
    case 0xdb: return DecodeBytes(L, c, 4, 0);
    case 0xdc: return DecodeAggregate(L, c, 2, 0, false);
    case 0xdd: return DecodeAggregate(L, c, 4, 0, false);
    case 0xde: return DecodeAggregate(L, c, 2, 0, true);
    case 0xdf: return DecodeAggregate(L, c, 4, 0, true);
    default: break;
  }
  if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
    c->p++;
    c->left--;
    if (b <= 0x7f) {
      lua_pushnumber(L, b);
    } else if (b >= 0xe0) {
      lua_pushnumber(L, static_cast<int8_t>(b));
    } else if (b == 0xc0) {
      lua_pushnil(L);
    } else {
      lua_pushboolean(L, b == 0xc3);
    }
  } else if ((b & 0xe0) == 0xa0) {
    DecodeBytes(L, c, 0, b & 0x1f);
  } else if ((b & 0xf0) == 0x90) {
    DecodeAggregate(L, c, 0, b & 0x0f, false);
  } else if ((b & 0xf0) == 0x80) {
    DecodeAggregate(L, c, 0, b & 0x0f, true);
  } else {
    c->err = kBadFormat;
  }
}

// lua-cmsgpack's mp_unpack_full: all values (limit 0 and offset 0), or up
// to `limit` from `offset`, then the next offset (-1 at the end) first.
int UnpackFull(lua_State* L, int limit, int offset) {
  size_t len = 0;
  const char* s = luaL_checklstring(L, 1, &len);
  const bool all = limit == 0 && offset == 0;
  if (offset < 0 || limit < 0) {
    return luaL_error(L,
                      "Invalid request to unpack with offset of %d and limit "
                      "of %d.",
                      offset, static_cast<int>(len));
  }
  if (static_cast<size_t>(offset) > len) {
    return luaL_error(L, "Start offset %d greater than input length %d.",
                      offset, static_cast<int>(len));
  }
  if (all) limit = INT_MAX;
  Cursor c{reinterpret_cast<const unsigned char*>(s) + offset,
           len - static_cast<size_t>(offset), kNone};
  int count = 0;
  while (c.left > 0 && count < limit) {
    Decode(L, &c);
    if (c.err == kEof) return luaL_error(L, "Missing bytes in input.");
    if (c.err == kBadFormat) return luaL_error(L, "Bad data format in input.");
    ++count;
  }
  if (!all) {
    luaL_checkstack(L, 1, "in function mp_unpack_full");
    lua_pushinteger(L, c.left == 0 ? -1 : static_cast<lua_Integer>(len - c.left));
    lua_insert(L, 2);
    ++count;
  }
  return count;
}

int Unpack(lua_State* L) { return UnpackFull(L, 0, 0); }

int UnpackOne(lua_State* L) {
  const int offset = static_cast<int>(luaL_optinteger(L, 2, 0));
  lua_pop(L, lua_gettop(L) - 1);
  return UnpackFull(L, 1, offset);
}

int UnpackLimit(lua_State* L) {
  const int limit = static_cast<int>(luaL_checkinteger(L, 2));
  const int offset = static_cast<int>(luaL_optinteger(L, 3, 0));
  lua_pop(L, lua_gettop(L) - 1);
  return UnpackFull(L, limit, offset);
}

}  // namespace

int OpenCmsgpack(lua_State* L) {
  static const luaL_Reg kFunctions[] = {{"pack", Pack},
                                        {"unpack", Unpack},
                                        {"unpack_one", UnpackOne},
                                        {"unpack_limit", UnpackLimit},
                                        {nullptr, nullptr}};
  lua_newtable(L);
  luaL_register(L, nullptr, kFunctions);
  lua_pushstring(L, "lua-cmsgpack");
  lua_setfield(L, -2, "_NAME");
  lua_pushstring(L, "lua-cmsgpack 0.4.0");
  lua_setfield(L, -2, "_VERSION");
  lua_pushstring(L, "Copyright (C) 2012, Salvatore Sanfilippo");
  lua_setfield(L, -2, "_COPYRIGHT");
  lua_pushstring(L, "MessagePack C implementation for Lua");
  lua_setfield(L, -2, "_DESCRIPTION");
  return 1;
}

}  // namespace daxkv::kv
