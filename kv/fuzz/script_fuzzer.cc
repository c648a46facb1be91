// libFuzzer target for what a script can hand the Lua-facing C code:
// cmsgpack.unpack, struct.unpack and struct.pack with fuzzed formats,
// cjson.decode, and script bodies themselves (compiled text-only, run in
// the sandbox with an instruction and memory budget); every result goes
// through the Lua -> RESP conversion (RESP2 and RESP3) and back through
// RESP -> Lua. Errors are fine; a crash, an out-of-bounds access or a
// hang is not.
#include <lua.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "kv/resp_writer.h"
#include "kv/script_convert.h"
#include "kv/script_sandbox.h"

namespace {

using daxkv::kv::ReplyWriter;

constexpr size_t kMemoryBudget = 64 << 20;
size_t allocated = 0;

void* BudgetAlloc(void*, void* ptr, size_t old_size, size_t new_size) {
  if (new_size == 0) {
    allocated -= old_size;
    std::free(ptr);
    return nullptr;
  }
  if (new_size > old_size && allocated + (new_size - old_size) > kMemoryBudget) {
    return nullptr;  // Lua raises a memory error
  }
  void* p = std::realloc(ptr, new_size);
  if (p != nullptr) allocated = allocated + new_size - old_size;
  return p;
}

void StopRunaway(lua_State* L, lua_Debug*) { luaL_error(L, "budget"); }

lua_State* NewState() {
  lua_State* L = daxkv::kv::NewSandboxedState(
      [](lua_State* s) {
        lua_newtable(s);
        lua_setglobal(s, "redis");
      },
      [](lua_State* s) { lua_newtable(s); });
  allocated = 0;
  lua_setallocf(L, BudgetAlloc, nullptr);
  lua_sethook(L, StopRunaway, LUA_MASKCOUNT, 200000);
  return L;
}

// Converts every result on the stack above `base` both ways.
void Convert(lua_State* L, int base) {
  for (int i = base + 1; i <= lua_gettop(L); ++i) {
    for (int resp : {2, 3}) {
      std::string out;
      ReplyWriter writer(&out, resp);
      daxkv::kv::WriteLuaValue(L, i, resp, writer);
      const int top = lua_gettop(L);
      (void)daxkv::kv::PushReplyAsLua(L, out);
      lua_settop(L, top);
    }
  }
}

// Calls lib.fn with the arguments pushed by `push`, under pcall.
template <typename Push>
void CallLibrary(lua_State* L, const char* lib, const char* fn, Push push) {
  const int base = lua_gettop(L);
  lua_getglobal(L, lib);
  lua_getfield(L, -1, fn);
  lua_remove(L, -2);
  int nargs = push();
  if (lua_pcall(L, nargs, LUA_MULTRET, 0) == 0) Convert(L, base);
  lua_settop(L, base);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int mode = data[0] % 5;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string_view fmt = in.substr(0, std::min<size_t>(in.find('\0'), 64));
  std::string_view rest = in.substr(std::min(in.size(), fmt.size() + 1));
  lua_State* L = NewState();
  auto push = [L](std::string_view s) {
    lua_pushlstring(L, s.data(), s.size());
  };
  switch (mode) {
    case 0:
      CallLibrary(L, "cmsgpack", "unpack", [&] { push(in); return 1; });
      break;
    case 1:
      CallLibrary(L, "struct", "unpack", [&] {
        push(fmt);
        push(rest);
        return 2;
      });
      break;
    case 2:
      CallLibrary(L, "struct", "pack", [&] {
        push(fmt);
        for (size_t i = 0; i < rest.size() && i < 16; ++i) {
          if (rest[i] & 1) {
            lua_pushnumber(L, static_cast<int8_t>(rest[i]) * 1e3);
          } else {
            push(rest.substr(i));
          }
        }
        return 1 + static_cast<int>(std::min<size_t>(rest.size(), 16));
      });
      break;
    case 3:
      CallLibrary(L, "cjson", "decode", [&] { push(in); return 1; });
      break;
    default:
      if (daxkv::kv::LoadTextChunk(L, in.data(), in.size(), "@user_script") ==
              0 &&
          lua_pcall(L, 0, LUA_MULTRET, 0) == 0) {
        Convert(L, 0);
      }
  }
  lua_close(L);
  return 0;
}
