// Follows lua_struct.c line by line where the results depend on it (sizes,
// alignment, sign extension, error texts). Only C values live in these
// functions: luaL_error longjmps.
#include "kv/script_struct.h"

#include <lua.hpp>

#include <cctype>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kv/script_convert.h"

namespace daxkv::kv {
namespace {

constexpr int kMaxIntSize = 32;
struct AlignProbe {
  char c;
  double d;
};
constexpr size_t kPadding = sizeof(AlignProbe) - sizeof(double);
constexpr int kMaxAlign =
    static_cast<int>(kPadding > sizeof(int) ? kPadding : sizeof(int));

enum Endian { kBig = 0, kLittle = 1 };
constexpr int kNativeEndian = kLittle;  // x86-64 and arm64 Linux

struct Header {
  int endian = kNativeEndian;
  int align = 1;
};

bool IsPowerOf2(int x) { return x > 0 && (x & (x - 1)) == 0; }

int GetNum(lua_State* L, const char** fmt, int dflt) {
  if (!std::isdigit(static_cast<unsigned char>(**fmt))) return dflt;
  int a = 0;
  do {
    if (a > INT_MAX / 10 || a * 10 > INT_MAX - (**fmt - '0')) {
      luaL_error(L, "integral size overflow");
    }
    a = a * 10 + *((*fmt)++) - '0';
  } while (std::isdigit(static_cast<unsigned char>(**fmt)));
  return a;
}

size_t OptSize(lua_State* L, char opt, const char** fmt) {
  switch (opt) {
    case 'B': case 'b': return sizeof(char);
    case 'H': case 'h': return sizeof(short);
    case 'L': case 'l': return sizeof(long);
    case 'T': return sizeof(size_t);
    case 'f': return sizeof(float);
    case 'd': return sizeof(double);
    case 'x': return 1;
    case 'c': return static_cast<size_t>(GetNum(L, fmt, 1));
    case 'i': case 'I': {
      int size = GetNum(L, fmt, sizeof(int));
      if (size > kMaxIntSize) {
        luaL_error(L, "integral size %d is larger than limit of %d", size,
                   kMaxIntSize);
      }
      return static_cast<size_t>(size);
    }
    default: return 0;
  }
}

size_t ToAlign(size_t len, const Header& h, int opt, size_t size) {
  if (size == 0 || opt == 'c') return 0;
  if (size > static_cast<size_t>(h.align)) size = static_cast<size_t>(h.align);
  return (size - (len & (size - 1))) & (size - 1);
}

void ControlOptions(lua_State* L, int opt, const char** fmt, Header* h) {
  switch (opt) {
    case ' ': return;
    case '>': h->endian = kBig; return;
    case '<': h->endian = kLittle; return;
    case '!': {
      int a = GetNum(L, fmt, kMaxAlign);
      if (!IsPowerOf2(a)) luaL_error(L, "alignment %d is not a power of 2", a);
      h->align = a;
      return;
    }
    default:
      luaL_argerror(L, 1,
                    lua_pushfstring(L, "invalid format option '%c'", opt));
  }
}

void PutInteger(lua_State* L, luaL_Buffer* b, int arg, int endian, int size) {
  lua_Number n = luaL_checknumber(L, arg);
  // (unsigned)(long long)n for negatives, (unsigned)n otherwise, as
  // lua_struct.c (x86's results where C leaves it undefined).
  uint64_t value = n < 0 || n >= 18446744073709551616.0 || std::isnan(n)
                       ? static_cast<uint64_t>(LuaNumberToInteger(n))
                       : static_cast<uint64_t>(n);
  char buff[kMaxIntSize];
  for (int i = 0; i < size; ++i) {
    buff[endian == kLittle ? i : size - 1 - i] =
        static_cast<char>(value & 0xff);
    value = i < 7 ? value >> 8 : 0;
  }
  luaL_addlstring(b, buff, static_cast<size_t>(size));
}

void CorrectBytes(char* b, int size, int endian) {
  if (endian == kNativeEndian) return;
  for (int i = 0, j = size - 1; i < j; ++i, --j) {
    char t = b[i];
    b[i] = b[j];
    b[j] = t;
  }
}

void PackValue(lua_State* L, luaL_Buffer* b, int opt, size_t* size, int* arg,
               const Header& h) {
  const int isize = static_cast<int>(*size);
  switch (opt) {
    case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T':
    case 'i': case 'I':
      PutInteger(L, b, (*arg)++, h.endian, isize);
      return;
    case 'x':
      luaL_addchar(b, '\0');
      return;
    case 'f': {
      auto f = static_cast<float>(luaL_checknumber(L, (*arg)++));
      CorrectBytes(reinterpret_cast<char*>(&f), isize, h.endian);
      luaL_addlstring(b, reinterpret_cast<char*>(&f), *size);
      return;
    }
    case 'd': {
      double d = luaL_checknumber(L, (*arg)++);
      CorrectBytes(reinterpret_cast<char*>(&d), isize, h.endian);
      luaL_addlstring(b, reinterpret_cast<char*>(&d), *size);
      return;
    }
    default: {  // 'c' and 's'
      size_t l = 0;
      const char* s = luaL_checklstring(L, (*arg)++, &l);
      if (*size == 0) *size = l;
      luaL_argcheck(L, l >= *size, *arg, "string too short");
      luaL_addlstring(b, s, *size);
      if (opt == 's') {
        luaL_addchar(b, '\0');
        ++*size;
      }
    }
  }
}

int Pack(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  Header h;
  int arg = 2;
  size_t total = 0;
  lua_pushnil(L);  // separates the arguments from the buffer
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  while (*fmt != '\0') {
    int opt = *fmt++;
    size_t size = OptSize(L, static_cast<char>(opt), &fmt);
    size_t pad = ToAlign(total, h, opt, size);
    total += pad;
    while (pad-- > 0) luaL_addchar(&b, '\0');
    if (std::strchr("bBhHlLTiIxfdcs", opt) != nullptr) {
      PackValue(L, &b, opt, &size, &arg, h);
    } else {
      ControlOptions(L, opt, &fmt, &h);
    }
    total += size;
  }
  luaL_pushresult(&b);
  return 1;
}

lua_Number GetInteger(const char* buff, int endian, bool is_signed,
                      int size) {
  uint64_t l = 0;
  for (int k = 0; k < size; ++k) {
    int i = endian == kBig ? k : size - 1 - k;
    l = (l << 8) | static_cast<unsigned char>(buff[i]);
  }
  if (!is_signed) return static_cast<lua_Number>(l);
  uint64_t mask = ~uint64_t{0} << ((size * 8 - 1) & 63);
  if (l & mask) l |= mask;
  return static_cast<lua_Number>(static_cast<int64_t>(l));
}

void CheckRoom(lua_State* L, size_t size, size_t ld, size_t pos) {
  luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
}

// Pushes one value read at data + pos (none for 'x'); *size may be set
// (c0, s). Returns how many results that adds (c0: the length it used was
// the previous result, so 0).
int UnpackValue(lua_State* L, int opt, const char* data, size_t ld,
                size_t pos, size_t* size, int n, const Header& h) {
  const int isize = static_cast<int>(*size);
  switch (opt) {
    case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T':
    case 'i': case 'I':
      lua_pushnumber(L, GetInteger(data + pos, h.endian,
                                   std::islower(opt) != 0, isize));
      return 1;
    case 'x':
      return 0;
    case 'f': {
      float f;
      std::memcpy(&f, data + pos, *size);
      CorrectBytes(reinterpret_cast<char*>(&f), sizeof(f), h.endian);
      lua_pushnumber(L, f);
      return 1;
    }
    case 'd': {
      double d;
      std::memcpy(&d, data + pos, *size);
      CorrectBytes(reinterpret_cast<char*>(&d), sizeof(d), h.endian);
      lua_pushnumber(L, d);
      return 1;
    }
    case 'c': {
      int added = 1;
      if (*size == 0) {
        if (n == 0 || !lua_isnumber(L, -1)) {
          luaL_error(L, "format 'c0' needs a previous size");
        }
        *size = static_cast<size_t>(LuaNumberToInteger(lua_tonumber(L, -1)));
        lua_pop(L, 1);
        added = 0;
        CheckRoom(L, *size, ld, pos);
      }
      lua_pushlstring(L, data + pos, *size);
      return added;
    }
    default: {  // 's'
      const void* e = std::memchr(data + pos, '\0', ld - pos);
      if (e == nullptr) luaL_error(L, "unfinished string in data");
      *size = static_cast<size_t>(static_cast<const char*>(e) -
                                  (data + pos)) + 1;
      lua_pushlstring(L, data + pos, *size - 1);
      return 1;
    }
  }
}

int Unpack(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  size_t ld = 0;
  const char* data = luaL_checklstring(L, 2, &ld);
  auto pos = static_cast<size_t>(luaL_optinteger(L, 3, 1));
  luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
  --pos;
  Header h;
  int n = 0;
  while (*fmt != '\0') {
    int opt = *fmt++;
    size_t size = OptSize(L, static_cast<char>(opt), &fmt);
    pos += ToAlign(pos, h, opt, size);
    CheckRoom(L, size, ld, pos);
    luaL_checkstack(L, 2, "too many results");
    if (std::strchr("bBhHlLTiIxfdcs", opt) != nullptr) {
      n += UnpackValue(L, opt, data, ld, pos, &size, n, h);
    } else {
      ControlOptions(L, opt, &fmt, &h);
    }
    pos += size;
  }
  lua_pushinteger(L, static_cast<lua_Integer>(pos + 1));
  return n + 1;
}

int Size(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  Header h;
  size_t pos = 0;
  while (*fmt != '\0') {
    int opt = *fmt++;
    size_t size = OptSize(L, static_cast<char>(opt), &fmt);
    pos += ToAlign(pos, h, opt, size);
    if (opt == 's') {
      luaL_argerror(L, 1, "option 's' has no fixed size");
    } else if (opt == 'c' && size == 0) {
      luaL_argerror(L, 1, "option 'c0' has no fixed size");
    }
    if (!std::isalnum(opt)) ControlOptions(L, opt, &fmt, &h);
    pos += size;
  }
  lua_pushinteger(L, static_cast<lua_Integer>(pos));
  return 1;
}

}  // namespace

int OpenStruct(lua_State* L) {
  static const luaL_Reg kFunctions[] = {
      {"pack", Pack}, {"unpack", Unpack}, {"size", Size}, {nullptr, nullptr}};
  lua_newtable(L);
  luaL_register(L, nullptr, kFunctions);
  return 1;
}

}  // namespace daxkv::kv
