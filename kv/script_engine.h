// ScriptEngine: EVAL's Lua scripts. One sandboxed Lua 5.1 state per server
// (kv/script_sandbox.h), its script cache (SHA-1 -> compiled function), and
// redis.call / redis.pcall running the server's real command handlers.
//
// One state, not one per I/O thread: a script runs in isolation (Redis's
// atomicity: no other command runs meanwhile), which daxkv gets from the
// server's exec lock held exclusively, so a state per thread would win no
// concurrency and would make SCRIPT LOAD/FLUSH and the cache per-thread
// problems. A script's commands run against the Store its caller gives
// (a TxnEngineStore: all of its writes are one engine Txn).
//
// A script running past busy-reply-threshold is busy(): the I/O threads
// then serve their clients without the exec lock, with BUSY replies, and
// SCRIPT KILL stops it (unless it wrote: UNKILLABLE, as Redis) while a
// shutdown stops it whatever it did, its writes discarded.
//
// Thread-safety: Exists(), Has(), busy() and Kill() may be called from any
// thread. Every other method REQUIRES that the caller runs exclusively
// (holds the server's exec lock exclusively, e.g. in an ExclusiveSection
// or EXEC).
#ifndef DAXKV_KV_SCRIPT_ENGINE_H_
#define DAXKV_KV_SCRIPT_ENGINE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "kv/client.h"
#include "kv/command.h"
#include "kv/script_functions.h"
#include "kv/script_text.h"

struct lua_State;
struct lua_Debug;

namespace daxkv::kv {

// One run of a cached script (EVAL) or a function (FCALL).
struct ScriptRun {
  CommandContext& ctx;    // the caller: server, store to run against, reply
  std::string_view name;  // the script's SHA-1 or the function's name
  std::span<const std::string_view> keys;
  std::span<const std::string_view> args;
  bool read_only = false;  // EVAL_RO, EVALSHA_RO or the no-writes flag
};

// Runs a script (or, when `function`, a function) for EVAL/FCALL: its own
// engine Txn committed before the reply, or EXEC's inside MULTI. REQUIRES: the
// caller runs exclusively.
void RunScript(CommandContext& ctx, const ScriptRun& request, bool function);
// Redis's scriptPrepareForRun: a script with a shebang (every function)
// without no-writes is refused up front under a persistence error
// (MISCONF), on a read-only replica (READONLY), or from EVAL_RO/FCALL_RO;
// one without allow-stale on a stale replica (MASTERDOWN). Replies and
// returns true when it is. The executor refuses most of these before a
// script command runs or is queued (ScriptCommandFlags); this check catches
// a script queued in MULTI when things changed before EXEC.
bool RefusedUpFront(CommandContext& ctx, const ScriptFlags& flags,
                    bool ro_command);

// Redis's getCommandFlags for EVAL, EVALSHA, FCALL and their _RO forms
// (`argv` is the whole command): a script that declares flags (a shebang;
// every function) is judged by them instead of its command's: it writes
// unless no-writes (kCmdWrite), and serves a stale replica only with
// allow-stale (kCmdStale). Any other command, or a script without declared
// flags or not found, keeps `spec_flags`. REQUIRES: the caller holds the
// exec lock (the function libraries do not change under it).
uint32_t ScriptCommandFlags(ScriptEngine& engine, std::string_view command,
                            std::span<const std::string_view> argv,
                            uint32_t spec_flags);

// SCRIPT KILL and FUNCTION KILL: they run while the script is busy, without
// the exec lock (kv/executor.cc).
void ReplyScriptKill(CommandContext& ctx, bool function);

class ScriptEngine {
 public:
  ScriptEngine();
  ~ScriptEngine();
  ScriptEngine(const ScriptEngine&) = delete;
  ScriptEngine& operator=(const ScriptEngine&) = delete;

  // Whether `sha` (40 hex digits, any case) is cached. Any thread.
  bool Exists(std::string_view sha) const;
  // The flags of a cached script; false when not cached. Any thread.
  bool Has(std::string_view sha, ScriptFlags* flags) const;

  // Compiles `body` unless it is cached; *sha is its SHA-1. On failure
  // returns false with the Redis error text in *error.
  bool Load(std::string_view body, std::string* sha, std::string* error);
  // Forgets every script (SCRIPT FLUSH); function libraries stay.
  void Flush();
  // Runs the cached script run.name (its SHA-1 in lower case, as Has()
  // and Load() take and give it) and writes its reply to run.ctx.out.
  // Returns false when the script was stopped by a shutdown: nothing may
  // be replied, and its writes must be discarded. REQUIRES: Has(run.sha).
  [[nodiscard]] bool Run(const ScriptRun& run);
  // Runs the function run.name (FCALL), as Run. REQUIRES:
  // functions().Find(run.name).
  [[nodiscard]] bool RunFunction(const ScriptRun& run);

  FunctionLibraries& functions() { return *functions_; }

  // INFO memory: cached EVAL scripts, and the Lua heap as of the last
  // script run or load (read without touching the Lua state, which a
  // running script owns). Any thread.
  size_t CachedScripts() const;
  uint64_t lua_memory_bytes() const {
    return lua_memory_.load(std::memory_order_relaxed);
  }

  // A script has run past busy-reply-threshold and is still running.
  bool busy() const { return busy_.load(std::memory_order_acquire); }
  // The BUSY error other clients get meanwhile: it names SCRIPT KILL for
  // a script, FUNCTION KILL for a function.
  std::string_view BusyError() const;
  enum class KillResult { kNotBusy, kUnkillable, kOtherKind, kKilled };
  // SCRIPT KILL (function = false) or FUNCTION KILL: asks the busy script
  // to stop (it fails with an error). kOtherKind: the wrong KILL for it.
  KillResult Kill(bool function);
  // FUNCTION STATS: what runs now (false: nothing). Any thread.
  bool Running(RunningScript* out) const EXCLUDES(running_mu_);

  // The engine that owns `L` (for the redis.* functions).
  static ScriptEngine* FromLua(lua_State* L);
  // redis.call (raise = true) and redis.pcall.
  int Call(lua_State* L, bool raise);
  // redis.setresp(2|3): the protocol redis.call's commands reply in.
  void set_resp(int resp) { resp_ = resp; }

 private:
  struct Script {
    std::string body;
    ScriptFlags flags;
  };

  void Open();
  void Close();
  void NoteLuaMemory();
  // Runs one redis.call: pushes its reply (true when it is an error table).
  bool CallCommand(lua_State* L);
  // The command redis.call names (as CommandTable::Find), from a small
  // cache by name as the script spells it: scripts call a few commands
  // many times.
  const CommandSpec* FindCommand(std::string_view name);
  // The command's reply in *reply, or the error text to raise.
  std::string Dispatch(std::span<const std::string_view> argv,
                       std::string* reply);
  // Pushes a table of `values`.
  void PushArray(std::span<const std::string_view> values);
  // Runs the function under the error handler at stack index 1 with
  // `nargs` arguments above it, and replies.
  bool Execute(const ScriptRun& run, int nargs, bool function);
  void WriteError(const ScriptRun& run);
  // The Lua count hook: marks the script busy, stops it when killed.
  static void Hook(lua_State* L, lua_Debug* ar);

  lua_State* L_ = nullptr;
  // Registry references: the script cache (SHA-1 -> function), the table
  // behind the globals, the error handler.
  int scripts_ref_ = 0;
  int globals_ref_ = 0;
  int handler_ref_ = 0;
  // redis.call's arguments, number texts and reply, reused call to call.
  std::vector<std::string_view> call_argv_;
  std::vector<std::string> call_numbers_;
  std::string call_reply_;
  struct CachedSpec {
    std::string name;
    const CommandSpec* spec = nullptr;
  };
  std::array<CachedSpec, 8> spec_cache_;
  bool script_globals_set_ = false;  // KEYS and ARGV of the last script
  std::unique_ptr<FunctionLibraries> functions_;
  mutable Mutex mu_;
  std::unordered_map<std::string, Script> scripts_ GUARDED_BY(mu_);
  const ScriptRun* current_ = nullptr;
  Client script_client_;  // Redis's Lua client: the caller of redis.call
  int resp_ = 2;
  int runs_since_gc_ = 0;
  int64_t started_ms_ = 0;
  std::atomic<bool> running_{false};
  std::atomic<bool> busy_{false};
  std::atomic<bool> wrote_{false};  // a write command ran: unkillable
  std::atomic<bool> kill_{false};
  std::atomic<bool> function_{false};  // the running one is a function
  bool stopped_by_shutdown_ = false;
  // The run Running() reports: set and cleared by Execute around the Lua
  // call, read by other threads (FUNCTION STATS while busy).
  mutable Mutex running_mu_;
  const ScriptRun* reported_run_ GUARDED_BY(running_mu_) = nullptr;
  int64_t reported_start_ms_ GUARDED_BY(running_mu_) = 0;
  std::atomic<uint64_t> lua_memory_{0};
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_SCRIPT_ENGINE_H_
