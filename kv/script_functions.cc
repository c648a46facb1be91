#include "kv/script_functions.h"

#include <cctype>
#include <chrono>
#include <lua.hpp>
#include <string>

#include "kv/command.h"
#include "kv/glob.h"
#include "kv/resp_writer.h"
#include "kv/script_convert.h"
#include "kv/script_engine.h"
#include "kv/script_sandbox.h"
#include "kv/script_text.h"

namespace daxkv::kv {
namespace {

static_assert(FunctionLibraries::kNoRef == LUA_NOREF);
constexpr char kFunctionsKey[] = "__daxkv_functions";
// Redis's limit on running a library's code at FUNCTION LOAD.
constexpr int64_t kLoadTimeoutMs = 500;
// When the library loading now must stop (loads run one at a time, under
// the exclusive exec lock).
int64_t load_deadline_ms = 0;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Only C values live here: lua_error longjmps.
void LoadHook(lua_State* L, lua_Debug*) {
  if (SteadyMs() < load_deadline_ms) return;
  PushErrorTable(L, "FUNCTION LOAD timeout");
  lua_error(L);
}
constexpr std::string_view kBadName =
    "Library names can only contain letters, numbers, or underscores(_) and "
    "must be at least one character long";
// Redis's script flags, in the order FUNCTION LIST reports them.
constexpr std::string_view kFlags[] = {"no-writes", "allow-oom", "allow-stale",
                                       "no-cluster", "allow-cross-slot-keys"};

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// "#!lua name=mylib": the library's name and where its code starts (the
// newline stays, so line numbers are the library's).
bool ParseLibraryMeta(std::string_view code, std::string* name, size_t* skip,
                      std::string* error) {
  if (code.substr(0, 2) != "#!") {
    *error = "ERR Missing library metadata";
    return false;
  }
  size_t end = std::min(code.find('\n'), code.size());
  std::vector<std::string_view> parts = SplitWords(code.substr(0, end));
  std::string_view engine = parts[0].substr(2);
  if (!EqualsIgnoreCase(engine, "lua")) {
    *error = "ERR Engine '" + std::string(engine) + "' not found";
    return false;
  }
  bool named = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].substr(0, 5) != "name=") {
      *error = "ERR Invalid metadata value given: " + std::string(parts[i]);
      return false;
    }
    if (named) {
      *error = "ERR Invalid metadata value, name argument was given multiple "
               "times";
      return false;
    }
    named = true;
    *name = std::string(parts[i].substr(5));
  }
  if (!named) {
    *error = "ERR Library name was not given";
    return false;
  }
  if (!ValidName(*name)) {
    *error = "ERR " + std::string(kBadName);
    return false;
  }
  *skip = end;
  return true;
}

std::string StringAt(lua_State* L, int index) {
  size_t len = 0;
  const char* s = lua_tolstring(L, index, &len);
  return s == nullptr ? std::string() : std::string(s, len);
}

}  // namespace

FunctionLibraries::FunctionLibraries(lua_State* L) : L_(L) {
  lua_newtable(L_);
  lua_setfield(L_, LUA_REGISTRYINDEX, kFunctionsKey);
}

bool FunctionLibraries::Evaluate(std::string_view code, Loading* loading,
                                 std::string* error) {
  std::string meta_name;
  size_t skip = 0;
  if (!ParseLibraryMeta(code, &meta_name, &skip, error)) return false;
  loading->name = meta_name;
  loading->code = std::string(code);
  const int base = lua_gettop(L_);
  lua_getfield(L_, LUA_REGISTRYINDEX, kErrorHandlerKey);  // base + 1
  PushLibraryEnvironment(L_);                               // base + 2
  std::string_view body = code.substr(skip);
  if (LoadTextChunk(L_, body.data(), body.size(), "@user_function") != 0) {
    *error = "ERR Error compiling function: " + StringAt(L_, -1);
    lua_settop(L_, base);
    return false;
  }
  lua_pushvalue(L_, base + 2);
  lua_setfenv(L_, -2);
  lua_newtable(L_);
  loading->stage_ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  loading_ = loading;
  lua_Hook hook = lua_gethook(L_);
  const int mask = lua_gethookmask(L_), count = lua_gethookcount(L_);
  load_deadline_ms = SteadyMs() + kLoadTimeoutMs;
  lua_sethook(L_, LoadHook, LUA_MASKCOUNT, 100000);
  int rc = lua_pcall(L_, 0, 0, base + 1);
  lua_sethook(L_, hook, mask, count);
  loading_ = nullptr;
  if (rc != 0) {
    if (lua_istable(L_, -1)) lua_getfield(L_, -1, "err");
    *error = "ERR Error registering functions: " + StringAt(L_, -1);
  } else if (loading->functions.empty()) {
    *error = "ERR No functions registered";
  } else {
    SwitchToRuntimeEnvironment(L_, base + 2);
  }
  lua_settop(L_, base);
  if (error->empty()) return true;
  luaL_unref(L_, LUA_REGISTRYINDEX, loading->stage_ref);
  return false;
}

void FunctionLibraries::DropFunctions(const Library& lib) {
  lua_getfield(L_, LUA_REGISTRYINDEX, kFunctionsKey);
  for (const FunctionInfo& f : lib.functions) {
    lua_pushnil(L_);
    lua_setfield(L_, -2, f.name.c_str());
    owner_.erase(f.name);
  }
  lua_pop(L_, 1);
}

void FunctionLibraries::Commit(const std::string& name, std::string_view code,
                               Loading* loading) {
  auto old = libraries_.find(name);
  if (old != libraries_.end()) DropFunctions(old->second);
  lua_getfield(L_, LUA_REGISTRYINDEX, kFunctionsKey);
  lua_rawgeti(L_, LUA_REGISTRYINDEX, loading->stage_ref);
  for (const FunctionInfo& f : loading->functions) {
    lua_getfield(L_, -1, f.name.c_str());
    lua_setfield(L_, -3, f.name.c_str());
    owner_[f.name] = name;
  }
  lua_pop(L_, 2);
  luaL_unref(L_, LUA_REGISTRYINDEX, loading->stage_ref);
  loading->stage_ref = LUA_NOREF;
  libraries_[name] = Library{std::string(code), std::move(loading->functions)};
  Recount();
}

bool FunctionLibraries::Load(std::string_view code, bool replace,
                             std::string* name, std::string* error) {
  size_t skip = 0;
  if (!ParseLibraryMeta(code, name, &skip, error)) return false;
  if (!replace && libraries_.count(*name) != 0) {
    *error = "ERR Library '" + *name + "' already exists";
    return false;
  }
  Loading loading;
  if (!Evaluate(code, &loading, error)) return false;
  for (const FunctionInfo& f : loading.functions) {
    auto it = owner_.find(f.name);
    if (it != owner_.end() && it->second != *name) {
      *error = "ERR Function " + f.name + " already exists";
      luaL_unref(L_, LUA_REGISTRYINDEX, loading.stage_ref);
      return false;
    }
  }
  Commit(*name, code, &loading);
  return true;
}

std::map<std::string, std::string> FunctionLibraries::Codes() const {
  std::map<std::string, std::string> codes;
  for (const auto& [name, lib] : libraries_) codes.emplace(name, lib.code);
  return codes;
}

bool FunctionLibraries::Delete(std::string_view name) {
  auto it = libraries_.find(name);
  if (it == libraries_.end()) return false;
  DropFunctions(it->second);
  libraries_.erase(it);
  Recount();
  return true;
}

void FunctionLibraries::Flush() {
  libraries_.clear();
  owner_.clear();
  Recount();
  lua_newtable(L_);
  lua_setfield(L_, LUA_REGISTRYINDEX, kFunctionsKey);
  lua_gc(L_, LUA_GCCOLLECT, 0);
}

const FunctionInfo* FunctionLibraries::Find(std::string_view name) const {
  auto it = owner_.find(name);
  if (it == owner_.end()) return nullptr;
  for (const FunctionInfo& f : libraries_.find(it->second)->second.functions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void FunctionLibraries::PushCallback(std::string_view name) const {
  lua_getfield(L_, LUA_REGISTRYINDEX, kFunctionsKey);
  lua_getfield(L_, -1, std::string(name).c_str());
  lua_remove(L_, -2);
}

int FunctionLibraries::Register(lua_State* L) {
  bool ok;
  {
    std::string error;
    FunctionInfo info;
    ok = RegisterFrom(L, &info, &error);
    if (ok) {
      loading_->functions.push_back(std::move(info));
    } else {
      PushErrorTable(L, error);
    }
  }
  // Only Lua values are live here: lua_error longjmps.
  return ok ? 0 : lua_error(L);
}

namespace {

// redis.register_function{...}'s flags table into info.
bool ReadFlags(lua_State* L, int table, FunctionInfo* info,
               std::string* error) {
  bool seen[std::size(kFlags)] = {};
  lua_pushnil(L);
  while (lua_next(L, table) != 0) {
    const bool is_string = lua_type(L, -1) == LUA_TSTRING;
    std::string flag = StringAt(L, -1);
    lua_pop(L, 1);
    size_t i = 0;
    while (i < std::size(kFlags) && kFlags[i] != flag) ++i;
    if (!is_string || i == std::size(kFlags)) {
      lua_pop(L, 1);
      *error = "unknown flag given";
      return false;
    }
    seen[i] = true;
  }
  for (size_t i = 0; i < std::size(kFlags); ++i) {
    if (seen[i]) info->flags.emplace_back(kFlags[i]);
  }
  info->no_writes = seen[0];
  info->allow_stale = seen[2];
  return true;
}

// The named form: function_name, callback, flags, description. Leaves the
// callback on the stack.
bool ReadNamedArguments(lua_State* L, FunctionInfo* info, std::string* error) {
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    lua_pop(L, 1);
    // lua_tolstring would turn a number key into a string under lua_next.
    std::string key =
        lua_type(L, -1) == LUA_TSTRING ? StringAt(L, -1) : std::string();
    if (key != "function_name" && key != "callback" && key != "flags" &&
        key != "description") {
      lua_pop(L, 1);
      *error = "unknown argument given to redis.register_function";
      return false;
    }
  }
  lua_getfield(L, 1, "description");
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) {
      *error = "description argument given to redis.register_function must "
               "be a string";
      return false;
    }
    info->description = StringAt(L, -1);
    info->has_description = true;
  }
  lua_getfield(L, 1, "flags");
  if (!lua_isnil(L, -1)) {
    if (!lua_istable(L, -1)) {
      *error = "flags argument to redis.register_function must be a table "
               "representing function flags";
      return false;
    }
    if (!ReadFlags(L, lua_gettop(L), info, error)) return false;
  }
  lua_getfield(L, 1, "function_name");
  if (lua_type(L, -1) != LUA_TSTRING) {
    *error = "redis.register_function must get a function name argument";
    return false;
  }
  info->name = StringAt(L, -1);
  lua_getfield(L, 1, "callback");
  if (!lua_isfunction(L, -1)) {
    *error = "redis.register_function must get a callback argument";
    return false;
  }
  return true;
}

}  // namespace

bool FunctionLibraries::RegisterFrom(lua_State* L, FunctionInfo* info,
                                     std::string* error) {
  if (loading_ == nullptr) {
    *error = "redis.register_function can only be called on FUNCTION LOAD "
             "command";
    return false;
  }
  const int argc = lua_gettop(L);
  if (argc == 1) {
    if (!lua_istable(L, 1)) {
      *error = "calling redis.register_function with a single argument is "
               "only applicable to Lua table (representing named arguments).";
      return false;
    }
    if (!ReadNamedArguments(L, info, error)) return false;
  } else if (argc == 2) {
    if (lua_type(L, 1) != LUA_TSTRING || !lua_isfunction(L, 2)) {
      *error = "wrong arguments given to redis.register_function";
      return false;
    }
    info->name = StringAt(L, 1);
  } else {
    *error = "wrong number of arguments to redis.register_function";
    return false;
  }
  if (!ValidName(info->name)) {
    *error = std::string(kBadName);
    return false;
  }
  for (const FunctionInfo& f : loading_->functions) {
    if (f.name == info->name) {
      *error = "Function already exists in the library";
      return false;
    }
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, loading_->stage_ref);
  lua_pushvalue(L, -2);  // the callback
  lua_setfield(L, -2, info->name.c_str());
  return true;
}

void FunctionLibraries::List(bool with_code, const std::string* pattern,
                             ReplyWriter& out) const {
  std::vector<const std::pair<const std::string, Library>*> hits;
  for (const auto& entry : libraries_) {
    if (pattern == nullptr || GlobMatch(*pattern, entry.first)) {
      hits.push_back(&entry);
    }
  }
  out.ArrayHeader(hits.size());
  for (const auto* entry : hits) {
    out.MapHeader(with_code ? 4 : 3);
    out.Bulk("library_name");
    out.Bulk(entry->first);
    out.Bulk("engine");
    out.Bulk("LUA");
    out.Bulk("functions");
    out.ArrayHeader(entry->second.functions.size());
    for (const FunctionInfo& f : entry->second.functions) {
      out.MapHeader(3);
      out.Bulk("name");
      out.Bulk(f.name);
      out.Bulk("description");
      if (f.has_description) {
        out.Bulk(f.description);
      } else {
        out.Null();
      }
      out.Bulk("flags");
      out.SetHeader(f.flags.size());
      for (const std::string& flag : f.flags) out.Simple(flag);
    }
    if (with_code) {
      out.Bulk("library_code");
      out.Bulk(entry->second.code);
    }
  }
}

void FunctionLibraries::Recount() {
  library_count_.store(static_cast<int64_t>(libraries_.size()));
  function_count_.store(static_cast<int64_t>(owner_.size()));
}

void FunctionLibraries::Stats(const RunningScript* running,
                              ReplyWriter& out) const {
  out.MapHeader(2);
  out.Bulk("running_script");
  if (running == nullptr) {
    out.Null();
  } else {
    out.MapHeader(3);
    out.Bulk("name");
    out.Bulk(running->name);
    out.Bulk("command");
    out.ArrayHeader(running->command.size());
    for (const std::string& arg : running->command) out.Bulk(arg);
    out.Bulk("duration_ms");
    out.Integer(running->duration_ms);
  }
  out.Bulk("engines");
  out.MapHeader(1);
  out.Bulk("LUA");
  out.MapHeader(2);
  out.Bulk("libraries_count");
  out.Integer(library_count_.load());
  out.Bulk("functions_count");
  out.Integer(function_count_.load());
}

}  // namespace daxkv::kv
