// FunctionLibraries: Redis 7's function libraries (FUNCTION LOAD, DELETE,
// FLUSH, LIST, DUMP, RESTORE, STATS) in the script engine's Lua state.
//
// A library is code with a shebang ("#!lua name=mylib") that, run once in
// a load-time environment where only `redis.register_function`,
// `redis.log` and the constants exist, registers functions; each function
// then runs (FCALL) with what EVAL scripts see, its keys and arguments as
// its two parameters. The callbacks live in the Lua registry; the metadata
// (code, names, flags, descriptions) here.
//
// Durability: this class is the libraries in memory; kv/function_store.h
// writes their code to the pool's system namespace before each change is
// acknowledged and loads them back at server start.
//
// Thread-safety: every method REQUIRES the caller to run exclusively (the
// server's exec lock held exclusively), as ScriptEngine's.
#ifndef DAXKV_KV_SCRIPT_FUNCTIONS_H_
#define DAXKV_KV_SCRIPT_FUNCTIONS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

struct lua_State;

namespace daxkv::kv {

class ReplyWriter;

// FUNCTION STATS' running_script: the script or function running now.
struct RunningScript {
  std::string name;  // the function's name, or the EVAL script's SHA-1
  std::vector<std::string> command;  // the caller's command, as sent
  int64_t duration_ms = 0;
  bool function = false;  // FCALL (else EVAL: Redis answers BUSY instead)
};

struct FunctionInfo {
  std::string name;
  std::string description;  // "" with has_description false: null
  bool has_description = false;
  bool no_writes = false;
  bool allow_stale = false;
  std::vector<std::string> flags;  // as given, for FUNCTION LIST
};

class FunctionLibraries {
 public:
  // REQUIRES: L outlives this object.
  explicit FunctionLibraries(lua_State* L);

  // FUNCTION LOAD [REPLACE]: false with Redis's error text in *error.
  bool Load(std::string_view code, bool replace, std::string* name,
            std::string* error);
  bool Delete(std::string_view name);
  void Flush();
  // FUNCTION RESTORE: `policy` is "flush", "append" or "replace".
  bool Restore(std::string_view payload, std::string_view policy,
               std::string* error);
  std::string Dump() const;
  // Every library's code, by library name.
  std::map<std::string, std::string> Codes() const;
  // FUNCTION LIST [WITHCODE] [LIBRARYNAME pattern].
  void List(bool with_code, const std::string* pattern,
            ReplyWriter& out) const;
  // FUNCTION STATS; `running` (null: none) is reported as running_script.
  // Reads only counters, so it may run on any thread while a script runs.
  void Stats(const RunningScript* running, ReplyWriter& out) const;

  // The function `name`, or null.
  const FunctionInfo* Find(std::string_view name) const;
  // Pushes the function's callback. REQUIRES: Find(name).
  void PushCallback(std::string_view name) const;

  // redis.register_function while a library loads (else an error).
  int Register(lua_State* L);

  static constexpr int kNoRef = -2;  // LUA_NOREF (checked in the .cc)

 private:
  struct Library {
    std::string code;
    std::vector<FunctionInfo> functions;
  };
  // One library being loaded: its functions, their callbacks in a
  // registry table (stage_ref) until Commit.
  struct Loading {
    std::string name;
    std::string code;
    std::vector<FunctionInfo> functions;
    int stage_ref = kNoRef;
  };

  // Compiles and runs `code` in a load-time environment, staging what it
  // registers; false with *error.
  bool Evaluate(std::string_view code, Loading* loading, std::string* error);
  // Adds a staged library (replacing `name`'s functions).
  void Commit(const std::string& name, std::string_view code,
              Loading* loading);
  bool RegisterFrom(lua_State* L, FunctionInfo* info, std::string* error);
  void DropFunctions(const Library& lib);
  // Publishes the counts Stats() reports (after every change).
  void Recount();

  lua_State* L_;
  std::map<std::string, Library, std::less<>> libraries_;
  std::map<std::string, std::string, std::less<>> owner_;  // fn -> library
  Loading* loading_ = nullptr;
  std::atomic<int64_t> library_count_{0};
  std::atomic<int64_t> function_count_{0};
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_SCRIPT_FUNCTIONS_H_
