#include "kv/script_convert.h"

#include <lua.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

namespace daxkv::kv {
namespace {

// Reads the RESP2/RESP3 replies ReplyWriter produced and pushes their Lua
// values. The input is well formed (our own writer made it).
class ReplyReader {
 public:
  ReplyReader(lua_State* L, std::string_view buf) : L_(L), buf_(buf) {}

  void Push() {
    // Command replies nest a few levels at most; luaL_checkstack would
    // longjmp over this object.
    lua_checkstack(L_, 4);
    char type = buf_[pos_++];
    std::string_view line = Line();
    switch (type) {
      case '+':
        PushField("ok", line);
        return;
      case '-':
        PushError(line);
        return;
      case ':':
        lua_pushnumber(L_, static_cast<lua_Number>(ToInt(line)));
        return;
      case '$':
      case '=':
        PushBulk(type, line);
        return;
      case '*':
      case '>':
        PushArray(line);
        return;
      case '%':
      case '~':
        PushMapOrSet(line, type == '%');
        return;
      case '_':
        lua_pushnil(L_);
        return;
      case '#':
        lua_pushboolean(L_, line == "t");
        return;
      case ',':
        PushDouble(line);
        return;
      case '(':
        PushField("big_number", line);
        return;
      default:
        lua_pushnil(L_);
    }
  }

 private:
  std::string_view Line() {
    size_t end = buf_.find("\r\n", pos_);
    if (end == std::string_view::npos) end = buf_.size();
    std::string_view line = buf_.substr(pos_, end - pos_);
    pos_ = end + 2;
    return line;
  }
  static int64_t ToInt(std::string_view s) {
    int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);  // our own digits
    return v;
  }
  void PushField(const char* field, std::string_view s) {
    lua_newtable(L_);
    lua_pushstring(L_, field);
    lua_pushlstring(L_, s.data(), s.size());
    lua_settable(L_, -3);
  }
  void PushError(std::string_view text) {
    PushErrorTable(L_, "-" + std::string(text));
    lua_pushstring(L_, "ignore_error_stats_update");
    lua_pushboolean(L_, 1);
    lua_settable(L_, -3);
  }
  void PushBulk(char type, std::string_view len_text) {
    int64_t len = ToInt(len_text);
    if (len < 0) {
      lua_pushboolean(L_, 0);
      return;
    }
    std::string_view data = buf_.substr(pos_, static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len) + 2;
    if (type == '$') {
      lua_pushlstring(L_, data.data(), data.size());
      return;
    }
    // Verbatim: "fmt:payload".
    lua_newtable(L_);
    lua_pushstring(L_, "verbatim_string");
    lua_newtable(L_);
    lua_pushstring(L_, "format");
    lua_pushlstring(L_, data.data(), std::min<size_t>(3, data.size()));
    lua_settable(L_, -3);
    lua_pushstring(L_, "string");
    std::string_view text = data.size() > 4 ? data.substr(4) : "";
    lua_pushlstring(L_, text.data(), text.size());
    lua_settable(L_, -3);
    lua_settable(L_, -3);
  }
  void PushArray(std::string_view len_text) {
    int64_t n = ToInt(len_text);
    if (n < 0) {
      lua_pushboolean(L_, 0);
      return;
    }
    lua_newtable(L_);
    for (int64_t i = 1; i <= n; ++i) {
      Push();
      lua_rawseti(L_, -2, static_cast<int>(i));
    }
  }
  // RESP3 map -> {map={k=v}}, set -> {set={k=true}}.
  void PushMapOrSet(std::string_view len_text, bool is_map) {
    int64_t n = ToInt(len_text);
    lua_newtable(L_);
    lua_pushstring(L_, is_map ? "map" : "set");
    lua_newtable(L_);
    for (int64_t i = 0; i < n; ++i) {
      Push();
      if (is_map) {
        Push();
      } else {
        lua_pushboolean(L_, 1);
      }
      lua_settable(L_, -3);
    }
    lua_settable(L_, -3);
  }
  void PushDouble(std::string_view text) {
    lua_newtable(L_);
    lua_pushstring(L_, "double");
    lua_pushnumber(L_, std::strtod(std::string(text).c_str(), nullptr));
    lua_settable(L_, -3);
  }

  lua_State* L_;
  std::string_view buf_;
  size_t pos_ = 0;
};

// Redis maps CR and LF inside status and error texts to spaces.
std::string Sanitized(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

std::string_view TrimCrLf(std::string_view s) {
  while (!s.empty() && (s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view ToView(lua_State* L, int index) {
  size_t len = 0;
  const char* s = lua_tolstring(L, index, &len);
  return {s, len};
}

// Pushes t[field] and returns its type (the caller pops it).
int RawField(lua_State* L, int table, const char* field) {
  lua_pushstring(L, field);
  lua_rawget(L, table);
  return lua_type(L, -1);
}

void WriteVerbatim(lua_State* L, int table, ReplyWriter& out) {
  lua_pushstring(L, "format");
  lua_rawget(L, table);
  lua_pushstring(L, "string");
  lua_rawget(L, table);
  std::string_view format = ToView(L, -2);
  std::string_view text = ToView(L, -1);
  if (out.resp() < 3) {
    out.Bulk(text);
  } else {
    std::string* buf = out.buffer();
    buf->append("=" + std::to_string(text.size() + 4) + "\r\n");
    buf->append(format.substr(0, 3));
    buf->append(3 - std::min<size_t>(3, format.size()), ' ');
    buf->push_back(':');
    buf->append(text);
    buf->append("\r\n");
  }
  lua_pop(L, 2);
}

}  // namespace

void WriteLuaValue(lua_State* L, int index, int script_resp,
                   ReplyWriter& out);

namespace {

size_t CountPairs(lua_State* L, int table) {
  size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, table) != 0) {
    ++n;
    lua_pop(L, 1);
  }
  return n;
}


void WriteMapOrSet(lua_State* L, int table, bool is_map, int script_resp,
                   ReplyWriter& out) {
  size_t n = CountPairs(L, table);
  if (is_map) {
    out.MapHeader(n);
  } else {
    out.SetHeader(n);
  }
  lua_pushnil(L);
  while (lua_next(L, table) != 0) {
    WriteLuaValue(L, lua_gettop(L) - 1, script_resp, out);
    if (is_map) WriteLuaValue(L, lua_gettop(L), script_resp, out);
    lua_pop(L, 1);
  }
}

// Redis's special tables, checked in its order; false when `t` is a plain
// array.
bool WriteSpecialTable(lua_State* L, int t, int script_resp,
                       ReplyWriter& out) {
  if (RawField(L, t, "err") == LUA_TSTRING) {
    out.Error(TrimCrLf(ToView(L, -1)));
  } else if (lua_pop(L, 1); RawField(L, t, "ok") == LUA_TSTRING) {
    out.Simple(Sanitized(ToView(L, -1)));
  } else if (lua_pop(L, 1); RawField(L, t, "double") == LUA_TNUMBER) {
    out.Double(lua_tonumber(L, -1));
  } else if (lua_pop(L, 1); RawField(L, t, "big_number") == LUA_TSTRING) {
    std::string digits = Sanitized(ToView(L, -1));
    if (out.resp() < 3) {
      out.Bulk(digits);
    } else {
      out.buffer()->append("(" + digits + "\r\n");
    }
  } else if (lua_pop(L, 1);
             RawField(L, t, "verbatim_string") == LUA_TTABLE &&
             RawField(L, lua_gettop(L), "format") == LUA_TSTRING &&
             (lua_pop(L, 1), RawField(L, lua_gettop(L), "string")) ==
                 LUA_TSTRING) {
    lua_pop(L, 1);
    WriteVerbatim(L, lua_gettop(L), out);
  } else {
    lua_settop(L, t);
    if (RawField(L, t, "map") == LUA_TTABLE) {
      WriteMapOrSet(L, lua_gettop(L), true, script_resp, out);
    } else if (lua_pop(L, 1); RawField(L, t, "set") == LUA_TTABLE) {
      WriteMapOrSet(L, lua_gettop(L), false, script_resp, out);
    } else {
      lua_settop(L, t);
      return false;
    }
  }
  lua_settop(L, t);
  return true;
}

void WriteTable(lua_State* L, int t, int script_resp, ReplyWriter& out) {
  if (WriteSpecialTable(L, t, script_resp, out)) return;
  size_t n = 0;
  while (true) {
    lua_rawgeti(L, t, static_cast<int>(n + 1));
    bool nil = lua_isnil(L, -1);
    lua_pop(L, 1);
    if (nil) break;
    ++n;
  }
  out.ArrayHeader(n);
  for (size_t i = 1; i <= n; ++i) {
    lua_rawgeti(L, t, static_cast<int>(i));
    WriteLuaValue(L, lua_gettop(L), script_resp, out);
    lua_pop(L, 1);
  }
}

}  // namespace

int64_t LuaNumberToInteger(double n) {
  constexpr double kLimit = 9223372036854775808.0;
  if (std::isnan(n) || n >= kLimit || n < -kLimit) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(n);
}

int LuaNumberToInt(double n) {
  int64_t v = LuaNumberToInteger(n);
  if (v < std::numeric_limits<int>::min() ||
      v > std::numeric_limits<int>::max()) {
    return std::numeric_limits<int>::min();
  }
  return static_cast<int>(v);
}

bool PushReplyAsLua(lua_State* L, std::string_view reply) {
  if (reply.empty()) {
    lua_pushnil(L);
    return false;
  }
  ReplyReader(L, reply).Push();
  return reply[0] == '-';
}

void WriteLuaValue(lua_State* L, int index, int script_resp,
                   ReplyWriter& out) {
  if (!lua_checkstack(L, 4)) {
    out.Error("ERR reached lua stack limit");
    return;
  }
  const int top = lua_gettop(L);
  switch (lua_type(L, index)) {
    case LUA_TSTRING:
      out.Bulk(ToView(L, index));
      break;
    case LUA_TBOOLEAN:
      if (script_resp >= 3) {
        out.Bool(lua_toboolean(L, index));
      } else if (lua_toboolean(L, index)) {
        out.Integer(1);
      } else {
        out.Null();
      }
      break;
    case LUA_TNUMBER:
      out.Integer(LuaNumberToInteger(lua_tonumber(L, index)));
      break;
    case LUA_TTABLE:
      lua_pushvalue(L, index);
      WriteTable(L, lua_gettop(L), script_resp, out);
      break;
    default:
      out.Null();
  }
  lua_settop(L, top);
}

void PushErrorTable(lua_State* L, std::string_view text) {
  std::string code = "ERR";
  std::string_view msg = text;
  if (!text.empty() && text[0] == '-') {
    size_t space = text.find(' ');
    if (space == std::string_view::npos) {
      msg = text.substr(1);
    } else {
      code = std::string(text.substr(1, space - 1));
      msg = text.substr(space + 1);
    }
  }
  std::string final_msg = code + " " + std::string(TrimCrLf(msg));
  lua_newtable(L);
  lua_pushstring(L, "err");
  lua_pushlstring(L, final_msg.data(), final_msg.size());
  lua_settable(L, -3);
}

}  // namespace daxkv::kv
