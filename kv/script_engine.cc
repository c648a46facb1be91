#include "kv/script_engine.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <lua.hpp>
#include <string>
#include <vector>

#include "kv/executor.h"
#include "kv/numbers.h"
#include "kv/pubsub.h"
#include "kv/repl_effects.h"
#include "kv/replication.h"
#include "kv/script_api.h"
#include "kv/script_convert.h"
#include "kv/script_sandbox.h"
#include "kv/sha1.h"

namespace daxkv::kv {
namespace {

// Registry key of the engine: the address of this (a light userdata key
// costs no string hashing, and every redis.call looks it up).
constexpr char kEngineKey = 0;
// Redis steps the collector every 50 runs.
constexpr int kGcPeriod = 50;
// Redis's hook period: the clock is looked at every 100000 instructions.
constexpr int kHookInstructions = 100000;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Redis 7.0's CMD_NOSCRIPT commands (and subcommands: every CLIENT,
// CONFIG, SCRIPT, FUNCTION, ACL, LATENCY and MODULE one but HELP).
bool NotAllowedFromScript(const CommandSpec& spec,
                          std::span<const std::string_view> argv) {
  // By table entry, looked up once: every redis.call asks.
  enum class Rule { kRefused, kContainer };
  static const auto* const rules = [] {
    static constexpr std::string_view kNoScript[] = {
        "auth",         "bgrewriteaof", "bgsave",     "blmove",
        "blpop",        "brpop",        "brpoplpush", "bzpopmax",
        "bzpopmin",     "debug",        "discard",    "eval",
        "eval_ro",      "evalsha",      "evalsha_ro", "exec",
        "failover",     "fcall",        "fcall_ro",   "hello",
        "monitor",      "multi",        "psubscribe", "psync",
        "punsubscribe", "quit",         "replconf",   "replicaof",
        "reset",        "role",         "save",       "shutdown",
        "slaveof",      "ssubscribe",   "subscribe",  "sunsubscribe",
        "sync",         "unsubscribe",  "unwatch",    "wait",
        "watch"};
    static constexpr std::string_view kNoScriptContainers[] = {
        "client", "config", "script", "function", "acl", "latency", "module"};
    auto* map = new std::unordered_map<const CommandSpec*, Rule>;
    const CommandTable& table = CommandTable::Default();
    for (auto name : kNoScript) (*map)[table.Find(name)] = Rule::kRefused;
    for (auto name : kNoScriptContainers) {
      (*map)[table.Find(name)] = Rule::kContainer;
    }
    map->erase(nullptr);  // a name daxkv does not implement
    return map;
  }();
  auto it = rules->find(&spec);
  if (it == rules->end()) return false;
  return it->second == Rule::kRefused || argv.size() < 2 ||
         !EqualsIgnoreCase(argv[1], "help");
}

// A Lua number as redis.call passes it on: "%.17g", as Redis's
// luaArgsToRedisArgv. Integral values below 2^53 print their digits, as
// "%.17g" does for them, without snprintf.
std::string FormatLuaNumber(double d) {
  constexpr double kExact = 9007199254740992.0;  // 2^53
  if (d > -kExact && d < kExact &&
      d == static_cast<double>(static_cast<int64_t>(d)) &&
      !(d == 0 && std::signbit(d))) {
    return std::to_string(static_cast<int64_t>(d));
  }
  return FormatG17(d);
}

// Lua arguments to command arguments, as Redis's luaArgsToRedisArgv:
// numbers as "%.17g" (kept in *numbers), strings as they are (views of
// the Lua strings, valid while they stay on the stack), anything else
// refused.
bool ToArgs(lua_State* L, int argc, std::vector<std::string_view>* argv,
            std::vector<std::string>* numbers) {
  argv->reserve(static_cast<size_t>(argc));
  int count = 0;
  for (int i = 1; i <= argc; ++i) {
    int type = lua_type(L, i);
    if (type == LUA_TNUMBER) {
      ++count;
    } else if (type != LUA_TSTRING) {
      return false;
    }
  }
  numbers->reserve(static_cast<size_t>(count));  // no reallocation below
  for (int i = 1; i <= argc; ++i) {
    if (lua_type(L, i) == LUA_TNUMBER) {
      numbers->push_back(
          FormatLuaNumber(static_cast<double>(lua_tonumber(L, i))));
      argv->push_back(numbers->back());
    } else {
      size_t len = 0;
      const char* s = lua_tolstring(L, i, &len);
      argv->emplace_back(s, len);
    }
  }
  return true;
}

}  // namespace

ScriptEngine::ScriptEngine() {
  script_client_.authenticated = true;
  script_client_.script_client = true;
  // As Redis's Lua client shows in the slow log: no address, no name.
  script_client_.addr = "?:0";
  Open();
}

ScriptEngine::~ScriptEngine() { Close(); }

void ScriptEngine::Open() {
  L_ = NewSandboxedState(RegisterRedisApi, PushLibraryApi);
  functions_ = std::make_unique<FunctionLibraries>(L_);
  lua_pushlightuserdata(L_, const_cast<char*>(&kEngineKey));
  lua_pushlightuserdata(L_, this);
  lua_rawset(L_, LUA_REGISTRYINDEX);
  // What each run looks up, by registry reference (an array slot).
  lua_newtable(L_);
  scripts_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  lua_getfield(L_, LUA_REGISTRYINDEX, kGlobalsKey);
  globals_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  lua_getfield(L_, LUA_REGISTRYINDEX, kErrorHandlerKey);
  handler_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  lua_sethook(L_, Hook, LUA_MASKCOUNT, kHookInstructions);
  NoteLuaMemory();
}

// Only C values live here: lua_error longjmps.
void ScriptEngine::Hook(lua_State* L, lua_Debug*) {
  ScriptEngine* self = FromLua(L);
  const ScriptRun* run = self->current_;
  if (run == nullptr) return;
  ServerState& server = run->ctx.server;
  const int64_t elapsed = SteadyMs() - self->started_ms_;
  if (!self->busy() &&
      elapsed >= server.settings().busy_reply_threshold_ms.load()) {
    std::fprintf(stderr,
                 "daxkv-server: slow script detected: still in execution "
                 "after %lld milliseconds. You can try killing the script "
                 "using the SCRIPT KILL command. Script name is: %.*s.\n",
                 static_cast<long long>(elapsed),
                 static_cast<int>(run->name.size()), run->name.data());
    self->busy_.store(true, std::memory_order_release);
  }
  if (server.shutting_down()) self->stopped_by_shutdown_ = true;
  if (self->kill_.load() || self->stopped_by_shutdown_) {
    PushErrorTable(L, "Script killed by user with SCRIPT KILL...");
    lua_error(L);
  }
}

ScriptEngine::KillResult ScriptEngine::Kill(bool function) {
  if (!running_.load() || !busy()) return KillResult::kNotBusy;
  if (wrote_.load()) return KillResult::kUnkillable;
  if (function != function_.load()) return KillResult::kOtherKind;
  kill_.store(true);
  return KillResult::kKilled;
}

std::string_view ScriptEngine::BusyError() const {
  return function_.load()
             ? "BUSY Redis is busy running a script. You can only call "
               "FUNCTION KILL or SHUTDOWN NOSAVE."
             : "BUSY Redis is busy running a script. You can only call "
               "SCRIPT KILL or SHUTDOWN NOSAVE.";
}

void ScriptEngine::Close() {
  functions_.reset();
  if (L_ != nullptr) lua_close(L_);
  L_ = nullptr;
}

ScriptEngine* ScriptEngine::FromLua(lua_State* L) {
  lua_pushlightuserdata(L, const_cast<char*>(&kEngineKey));
  lua_rawget(L, LUA_REGISTRYINDEX);
  auto* engine = static_cast<ScriptEngine*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return engine;
}

bool ScriptEngine::Exists(std::string_view sha) const {
  ScriptFlags unused;
  return Has(sha, &unused);
}

bool ScriptEngine::Has(std::string_view sha, ScriptFlags* flags) const {
  char buf[kShaHexLen];
  // The map's key type: a thread's buffer, reused, so that EVALSHA's
  // lookup does not allocate.
  thread_local std::string key;
  key.assign(LowerSha(sha, buf));
  MutexLock l(&mu_);
  auto it = scripts_.find(key);
  if (it == scripts_.end()) return false;
  *flags = it->second.flags;
  return true;
}

bool ScriptEngine::Load(std::string_view body, std::string* sha,
                        std::string* error) {
  *sha = Sha1Hex(body);
  if (Exists(*sha)) return true;
  ScriptFlags flags;
  size_t skip = 0;
  if (!ParseShebang(body, &flags, &skip, error)) return false;
  std::string_view code = body.substr(skip);
  if (LoadTextChunk(L_, code.data(), code.size(), "@user_script") != 0) {
    *error = "ERR Error compiling script (new function): " +
             std::string(lua_tostring(L_, -1));
    lua_pop(L_, 1);
    return false;
  }
  lua_rawgeti(L_, LUA_REGISTRYINDEX, scripts_ref_);
  lua_insert(L_, -2);
  lua_setfield(L_, -2, sha->c_str());
  lua_pop(L_, 1);
  NoteLuaMemory();
  MutexLock l(&mu_);
  scripts_[*sha] = Script{std::string(body), flags};
  return true;
}

size_t ScriptEngine::CachedScripts() const {
  MutexLock l(&mu_);
  return scripts_.size();
}

void ScriptEngine::NoteLuaMemory() {
  const uint64_t bytes =
      static_cast<uint64_t>(lua_gc(L_, LUA_GCCOUNT, 0)) * 1024 +
      static_cast<uint64_t>(lua_gc(L_, LUA_GCCOUNTB, 0));
  lua_memory_.store(bytes, std::memory_order_relaxed);
}

void ScriptEngine::Flush() {
  {
    MutexLock l(&mu_);
    scripts_.clear();
  }
  lua_newtable(L_);
  lua_rawseti(L_, LUA_REGISTRYINDEX, scripts_ref_);
  lua_gc(L_, LUA_GCCOLLECT, 0);
}

void ScriptEngine::PushArray(std::span<const std::string_view> values) {
  lua_createtable(L_, static_cast<int>(values.size()), 0);
  for (size_t i = 0; i < values.size(); ++i) {
    lua_pushlstring(L_, values[i].data(), values[i].size());
    lua_rawseti(L_, -2, static_cast<int>(i + 1));
  }
}

bool ScriptEngine::Run(const ScriptRun& run) {
  lua_settop(L_, 0);
  lua_rawgeti(L_, LUA_REGISTRYINDEX, handler_ref_);
  lua_rawgeti(L_, LUA_REGISTRYINDEX, scripts_ref_);
  lua_pushlstring(L_, run.name.data(), run.name.size());  // lower case
  lua_rawget(L_, -2);
  lua_remove(L_, -2);
  // KEYS and ARGV are globals for scripts only: functions (which get them
  // as arguments) never see a script's (RunFunction clears them; the next
  // script overwrites them).
  lua_rawgeti(L_, LUA_REGISTRYINDEX, globals_ref_);
  PushArray(run.keys);
  lua_setfield(L_, -2, "KEYS");
  PushArray(run.args);
  lua_setfield(L_, -2, "ARGV");
  lua_pop(L_, 1);
  script_globals_set_ = true;
  bool done = Execute(run, 0, /*function=*/false);
  lua_settop(L_, 0);
  return done;
}

bool ScriptEngine::Running(RunningScript* out) const {
  MutexLock l(&running_mu_);
  if (reported_run_ == nullptr) return false;
  // The caller's argv and the run outlive reported_run_ (Execute clears it
  // before returning).
  out->name = std::string(reported_run_->name);
  const auto argv = reported_run_->ctx.argv;
  out->command.assign(argv.begin(), argv.end());
  out->duration_ms = SteadyMs() - reported_start_ms_;
  out->function = function_.load();
  return true;
}

bool ScriptEngine::RunFunction(const ScriptRun& run) {
  lua_settop(L_, 0);
  if (script_globals_set_) {
    lua_rawgeti(L_, LUA_REGISTRYINDEX, globals_ref_);
    lua_pushnil(L_);
    lua_setfield(L_, -2, "KEYS");
    lua_pushnil(L_);
    lua_setfield(L_, -2, "ARGV");
    lua_pop(L_, 1);
    script_globals_set_ = false;
  }
  lua_rawgeti(L_, LUA_REGISTRYINDEX, handler_ref_);
  functions_->PushCallback(run.name);
  PushArray(run.keys);
  PushArray(run.args);
  return Execute(run, 2, /*function=*/true);
}

bool ScriptEngine::Execute(const ScriptRun& run, int nargs, bool function) {
  current_ = &run;
  function_.store(function);
  resp_ = 2;
  started_ms_ = SteadyMs();
  stopped_by_shutdown_ = false;
  wrote_.store(false);
  kill_.store(false);
  running_.store(true);
  {
    MutexLock l(&running_mu_);
    reported_run_ = &run;
    reported_start_ms_ = started_ms_;
  }
  int rc = lua_pcall(L_, nargs, 1, 1);
  {
    MutexLock l(&running_mu_);
    reported_run_ = nullptr;
  }
  running_.store(false);
  busy_.store(false, std::memory_order_release);
  current_ = nullptr;
  if (stopped_by_shutdown_) {
    lua_settop(L_, 0);
    return false;
  }
  if (rc != 0) {
    WriteError(run);
  } else {
    WriteLuaValue(L_, lua_gettop(L_), resp_, run.ctx.out);
  }
  lua_settop(L_, 0);
  if (++runs_since_gc_ >= kGcPeriod) {
    lua_gc(L_, LUA_GCSTEP, kGcPeriod);
    runs_since_gc_ = 0;
  }
  NoteLuaMemory();
  return true;
}

// Redis's luaCallFunction error reply: the error table's text, then where
// the script failed.
void ScriptEngine::WriteError(const ScriptRun& run) {
  if (!lua_istable(L_, -1)) {
    const char* msg = lua_tostring(L_, -1);
    run.ctx.out.Error(
        "ERR Error running script " + std::string(run.name) + ", " +
        std::string(msg != nullptr ? msg : "execution failure").substr(0, 100));
    return;
  }
  lua_getfield(L_, -1, "err");
  lua_getfield(L_, -2, "source");
  lua_getfield(L_, -3, "line");
  const char* err = lua_tostring(L_, -3);
  const char* source = lua_tostring(L_, -2);
  const char* line = lua_tostring(L_, -1);
  std::string text = err != nullptr ? err : "ERR unknown error";
  if (source != nullptr && line != nullptr) {
    text += " script: " + std::string(run.name) + ", on " + source + ":" +
            line + ".";
  }
  run.ctx.out.Error(text);
  lua_pop(L_, 3);
}

int ScriptEngine::Call(lua_State* L, bool raise) {
  // C++ objects live only inside CallCommand: lua_error longjmps.
  bool error = CallCommand(L);
  if (error && raise) return lua_error(L);
  return 1;
}

bool ScriptEngine::CallCommand(lua_State* L) {
  const int argc = lua_gettop(L);
  // Calls never nest (no script command runs from a script): the buffers
  // are reused call to call, without allocating.
  call_argv_.clear();
  call_numbers_.clear();
  std::string error;
  if (current_ == nullptr) {
    error = "redis.call is only available while a script runs";
  } else if (argc == 0) {
    error = "Please specify at least one argument for this redis lib call";
  } else if (!ToArgs(L, argc, &call_argv_, &call_numbers_)) {
    error = "Lua redis lib command arguments must be strings or integers";
  } else {
    call_reply_.clear();
    error = Dispatch(call_argv_, &call_reply_);
    if (error.empty()) {
      lua_settop(L, 0);
      return PushReplyAsLua(L, call_reply_);
    }
  }
  lua_settop(L, 0);
  PushErrorTable(L, error);
  return true;
}

const CommandSpec* ScriptEngine::FindCommand(std::string_view name) {
  if (name.empty()) return nullptr;
  CachedSpec& slot =
      spec_cache_[(name.size() ^ static_cast<unsigned char>(name[0])) %
                  spec_cache_.size()];
  if (slot.spec != nullptr && slot.name == name) return slot.spec;
  const CommandSpec* spec = CommandTable::Default().Find(name);
  if (spec != nullptr) {
    slot.name.assign(name);
    slot.spec = spec;
  }
  return spec;
}

std::string ScriptEngine::Dispatch(std::span<const std::string_view> argv,
                                   std::string* reply) {
  const CommandSpec* spec = FindCommand(argv[0]);
  if (spec == nullptr) return "Unknown Redis command called from script";
  if (!ArityOk(*spec, argv.size())) {
    return "Wrong number of args calling Redis command from script";
  }
  if (NotAllowedFromScript(*spec, argv)) {
    return "This Redis command is not allowed from script";
  }
  CommandContext& caller = current_->ctx;
  if (!(spec->flags & kCmdStale) && !caller.client.is_master &&
      caller.server.replication().refuses_stale()) {
    return "Can not execute the command on a stale replica";
  }
  if (spec->flags & kCmdWrite) {
    if (current_->read_only) {
      return "Write commands are not allowed from read-only scripts.";
    }
    if (!caller.server.PersistenceError().ok()) {
      return "-" + std::string(kErrMisconf);
    }
  }
  if (spec->flags & kCmdWrite) wrote_.store(true);
  script_client_.resp.store(resp_, std::memory_order_relaxed);
  ReplyWriter out(reply, resp_);
  CommandContext sub{caller.server, script_client_, caller.store,
                     out,           argv,           true};
  script_client_.repl_recording = caller.client.repl_recording;
  RunInBlock(*spec, sub);                       // the script's Txn (or EXEC's)
  MoveEffects(script_client_, caller.client);   // replicated as the caller's
  MoveDeferred(script_client_, caller.client);  // published as the caller's
  script_client_.touched_db = false;
  return "";
}

}  // namespace daxkv::kv
