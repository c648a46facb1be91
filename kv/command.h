// The command table: one CommandSpec per Redis command daxkv implements,
// registered by one file per command family (cmd_*.cc), and the context a
// handler runs in.
//
// A handler writes exactly one reply through ctx.out. It reads and writes
// keys only through ctx.store, so the same handler runs directly against the
// engine or inside a MULTI/EXEC block.
#ifndef DAXKV_KV_COMMAND_H_
#define DAXKV_KV_COMMAND_H_

#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "kv/client.h"
#include "kv/repl_effects.h"
#include "kv/resp_parser.h"
#include "kv/resp_writer.h"
#include "kv/server_state.h"
#include "kv/store.h"

namespace daxkv::kv {

struct CommandSpec;

struct CommandContext {
  ServerState& server;
  Client& client;
  Store& store;
  ReplyWriter& out;
  std::span<const std::string_view> argv;
  bool in_exec = false;
  // The running command's table entry (set by RunCommand): its key spec
  // names the keys a collection command's Txn declares.
  const CommandSpec* spec = nullptr;
};

// Runs a command in isolation, as Redis's single thread does: holds the
// server's exec lock exclusively (no other I/O thread is inside a round),
// trading in this thread's shared round hold. EXEC blocks and multi-key
// writes (MSET) use it so that no reader sees part of them.
// REQUIRES: not already inside a section (ctx.in_exec is false).
class ExclusiveSection {
 public:
  // The replication order mutex (kv/repl_effects.h) is released for the
  // section: the section's effects are appended at its end, while no other
  // command runs.
  explicit ExclusiveSection(CommandContext& ctx) : ctx_(ctx) {
    std::unique_lock<Mutex>* order = ctx_.client.repl_order;
    relock_order_ = order != nullptr && order->owns_lock();
    if (relock_order_) order->unlock();
    if (ctx_.client.round_lock != nullptr) ctx_.client.round_lock->unlock();
    lock_ = std::unique_lock<std::shared_timed_mutex>(ctx_.server.exec_lock());
  }
  ~ExclusiveSection() {
    PublishEffects(ctx_.server, ctx_.client);
    lock_.unlock();
    if (ctx_.client.round_lock != nullptr) ctx_.client.round_lock->lock();
    if (relock_order_) ctx_.client.repl_order->lock();
  }
  ExclusiveSection(const ExclusiveSection&) = delete;
  ExclusiveSection& operator=(const ExclusiveSection&) = delete;

 private:
  CommandContext& ctx_;
  std::unique_lock<std::shared_timed_mutex> lock_;
  bool relock_order_ = false;
};

using CommandFn = void (*)(CommandContext&);

enum CommandFlag : uint32_t {
  kCmdWrite = 1u << 0,
  kCmdReadOnly = 1u << 1,
  kCmdAdmin = 1u << 2,
  kCmdNoAuth = 1u << 3,  // allowed before AUTH
  kCmdFast = 1u << 4,
  kCmdNoQueue = 1u << 5,   // runs at once even inside MULTI (EXEC, ...)
  kCmdKeyspace = 1u << 6,  // reads or writes the engine: Sync before reply
  kCmdLoading = 1u << 7,
  kCmdStale = 1u << 8,
  kCmdContainer = 1u << 9,  // has subcommands: CLIENT LIST is "client|list"
  // Reads a key without counting as an access (Redis's LOOKUP_NOTOUCH):
  // OBJECT IDLETIME is not reset by TYPE, EXISTS, TTL, ...
  kCmdNoTouch = 1u << 10,
  // Refused unless enable-debug-command allows it (Redis's CMD_PROTECTED).
  kCmdProtected = 1u << 11,
  // Refused inside MULTI (Redis's CMD_NO_MULTI): SHUTDOWN.
  kCmdNoMulti = 1u << 12,
  // Runs the client's MULTI queue (EXEC): a rejection discards the
  // transaction (EXECABORT), and it is refused on a persistence error only
  // when the queue holds a write.
  kCmdRunsQueue = 1u << 13,
  // Refused while the pool cannot be persisted though it writes nothing
  // (PING, as Redis refuses it on a failed save).
  kCmdRefusedOnMisconf = 1u << 14,
  // A collection command: runs as an engine Txn or read view of its own
  // (kv/coll_run.h), or on the block's Txn inside MULTI/EXEC or a script.
  kCmdCollection = 1u << 15,
  // Runs a script (EVAL, FCALL, ...): inside a block an error reply does
  // not undo the writes the script made before it (Redis never rolls a
  // script back), unlike any other command's (kv/executor.h, RunInBlock).
  kCmdScript = 1u << 16,
  // Keeps, inside a block, the writes it made before an error reply, as
  // a script does (MIGRATE: the keys the target took before its error are
  // deleted, as in Redis).
  kCmdKeepsWritesOnError = 1u << 17,
  // Not a write, yet sent to replicas as it ran (Redis's may_replicate:
  // PUBLISH, whose subscribers may be on a replica).
  kCmdMayReplicate = 1u << 18,
  // A collection write of fixed keys that touches no client state and
  // never blocks: pipelined, it may share one engine Txn with the
  // pipelined writes next to it (kv/write_run.h).
  kCmdPipelined = 1u << 19,
  // Never in the slow log (Redis's skip_slowlog: EXEC, whose commands are
  // logged one by one).
  kCmdSkipSlowlog = 1u << 20,
  // Replies only pub/sub confirmations when it succeeds, which Redis sends
  // even to a client whose replies are off (CLIENT REPLY OFF; Redis's
  // CLIENT_PUSHING): SUBSCRIBE, UNSUBSCRIBE and their P and S forms.
  kCmdRepliesPushes = 1u << 21,
};

// A Redis 7 key specification (COMMAND INFO's key specs): where a
// command's keys begin (argument `index`, or after `keyword` searched from
// `startfrom`) and the keys that follow: a range (`lastkey`, `keystep`,
// `limit`), or `keynum` (the count at keynumidx past the beginning, the
// first key at `firstkey` past it, every `keystep`). `unknown`: Redis
// cannot say (SORT's STORE): both parts are of type "unknown".
struct KeySpecDoc {
  std::string_view flags;  // "RW access delete"
  int index = 0;
  std::string_view keyword = "";
  int startfrom = 0;
  int lastkey = 0;
  int keystep = 1;
  int limit = 0;
  bool keynum = false;
  int keynumidx = 0;
  int firstkey = 1;
  bool unknown = false;
  std::string_view notes = "";
};

// COMMAND INFO's details, for a command whose Redis 7 flags, tips or key
// specs are more than its CommandFlags derive (its ACL categories are
// Redis's, kv/acl_categories.h).
struct CommandDoc {
  std::string_view flags;  // space-separated, as COMMAND INFO lists them
  std::string_view tips;
  std::span<const KeySpecDoc> key_specs;
};

// The keys of a command whose keys move with its options (Redis's
// movablekeys getkeys_proc); empty when the arguments name none.
using GetKeysFn =
    std::vector<std::string_view> (*)(std::span<const std::string_view> argv);

enum class PopEnd : uint8_t { kNone, kMin, kMax };

struct CommandSpec {
  std::string_view name;  // lower case
  int arity;              // Redis convention: -N means at least N
  uint32_t flags;
  CommandFn fn;
  int first_key = 0;
  int last_key = 0;
  int step = 0;
  // Arguments naming elements of the first key's hash, set or sorted set
  // (fields, members): from first_elem (0: none) to the end, every
  // elem_step. A pipelined run of writes prefetches what finding them
  // reads.
  int first_elem = 0;
  int elem_step = 1;
  // Pops from one end of the first key's sorted set (ZPOPMIN: kMin): a
  // pipelined run prefetches what removing the next members reads.
  PopEnd pops = PopEnd::kNone;
  std::string_view group = "generic";
  std::string_view summary = "";
  std::string_view since = "1.0.0";
  const CommandDoc* doc = nullptr;  // overrides what COMMAND INFO derives
  GetKeysFn get_keys = nullptr;     // COMMAND GETKEYS of movable keys
};

class CommandTable {
 public:
  // The process-wide table with every family registered.
  static const CommandTable& Default();

  void Add(const CommandSpec& spec);
  // No command's name is this long.
  static constexpr size_t kMaxNameSize = 32;
  // Case-insensitive; null when unknown.
  const CommandSpec* Find(std::string_view name) const;
  const std::vector<CommandSpec>& all() const { return specs_; }

 private:
  std::vector<CommandSpec> specs_;
  std::unordered_map<std::string, size_t> index_;
};

// CommandTable::Default().Find that keeps the last name's answer: a
// connection's pipeline mostly repeats one command, and each request it
// reads is looked up. Thread-safety: one connection's thread.
class LastCommand {
 public:
  const CommandSpec* Find(std::string_view name) {
    if (name.size() >= CommandTable::kMaxNameSize) return nullptr;
    if (name != name_) {
      name_.assign(name);
      spec_ = CommandTable::Default().Find(name);
    }
    return spec_;
  }

 private:
  std::string name_;
  const CommandSpec* spec_ = nullptr;
};

void RegisterStringCommands(CommandTable* table);
void RegisterAclCommands(CommandTable* table);
void RegisterStringEditCommands(CommandTable* table);
void RegisterKeyCommands(CommandTable* table);
void RegisterExpireCommands(CommandTable* table);
void RegisterKeyspaceCommands(CommandTable* table);
void RegisterConnectionCommands(CommandTable* table);
void RegisterClientCommands(CommandTable* table);
void RegisterServerCommands(CommandTable* table);
void RegisterReplicationCommands(CommandTable* table);
void RegisterConfigCommands(CommandTable* table);
void RegisterInfoCommands(CommandTable* table);
void RegisterIntrospectionCommands(CommandTable* table);
void RegisterTxnCommands(CommandTable* table);
void RegisterPubSubCommands(CommandTable* table);
void RegisterBitmapCommands(CommandTable* table);
void RegisterHyperLogLogCommands(CommandTable* table);
// REQUIRES: after RegisterStringEditCommands (SUBSTR reuses GETRANGE).
void RegisterLcsCommands(CommandTable* table);
void RegisterDumpCommands(CommandTable* table);
void RegisterMigrateCommands(CommandTable* table);
void RegisterScriptCommands(CommandTable* table);
void RegisterFunctionCommands(CommandTable* table);
void RegisterHashCommands(CommandTable* table);
void RegisterSetCommands(CommandTable* table);
// Also registers LPOS, LMOVE, RPOPLPUSH, LMPOP (RegisterListMoveCommands).
void RegisterListCommands(CommandTable* table);
void RegisterListMoveCommands(CommandTable* table);
// Also registers the ranges and the algebra (ZUNION..., ZMPOP).
void RegisterZsetCommands(CommandTable* table);
void RegisterSortCommands(CommandTable* table);
void RegisterZsetRangeCommands(CommandTable* table);
// XADD XTRIM XLEN XRANGE XREVRANGE XDEL XSETID (kv/cmd_stream.cc), XREAD
// [BLOCK] (kv/cmd_stream_read.cc).
void RegisterStreamCommands(CommandTable* table);
void RegisterStreamReadCommands(CommandTable* table);
void RegisterZsetAlgebraCommands(CommandTable* table);
// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP.
void RegisterBlockingCommands(CommandTable* table);
// GEOADD GEOPOS GEOHASH GEODIST (kv/cmd_geo.cc) and the searches
// (kv/cmd_geo_search.cc).
void RegisterGeoCommands(CommandTable* table);
// MEMORY USAGE STATS DOCTOR MALLOC-STATS PURGE HELP (kv/cmd_memory.cc).
void RegisterMemoryCommands(CommandTable* table);
// LATENCY LATEST HISTORY RESET GRAPH DOCTOR HISTOGRAM HELP
// (kv/cmd_latency.cc).
void RegisterLatencyCommands(CommandTable* table);
void RegisterClusterCommands(CommandTable* table);
void RegisterDatabaseCommands(CommandTable* table);
void RegisterStreamInfoCommands(CommandTable* table);
void RegisterStreamGroupCommands(CommandTable* table);
void RegisterStreamClaimCommands(CommandTable* table);
void RegisterSlowLogCommands(CommandTable* table);
void RegisterMonitorCommands(CommandTable* table);

// CONFIG SET of one runtime setting (kRuntimeSettingNames, by Redis name)
// at start-up: "" when applied, else CONFIG SET's error detail.
std::string ApplyRuntimeSetting(ServerState& server, const std::string& name,
                                std::string_view value);

// Shared helpers for handlers.
// The key arguments named by spec's first_key/last_key/step.
std::vector<std::string_view> CommandKeys(
    const CommandSpec& spec, std::span<const std::string_view> argv);
// Calls fn(key) for each of CommandKeys(spec, argv), without the vector;
// an fn returning bool stops the walk by returning false.
template <typename Fn>
void ForEachCommandKey(const CommandSpec& spec,
                       std::span<const std::string_view> argv, Fn&& fn) {
  if (spec.first_key <= 0) return;
  const int argc = static_cast<int>(argv.size());
  const int last = spec.last_key < 0 ? argc + spec.last_key : spec.last_key;
  const int step = spec.step > 0 ? spec.step : 1;
  for (int i = spec.first_key; i <= last && i < argc; i += step) {
    if constexpr (std::is_same_v<std::invoke_result_t<Fn&, std::string_view>,
                                 bool>) {
      if (!fn(argv[i])) return;
    } else {
      fn(argv[i]);
    }
  }
}
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// Whether `argc` arguments (the name included) fit spec's arity (Redis's
// convention: -N means at least N).
bool ArityOk(const CommandSpec& spec, size_t argc);
std::string ToLower(std::string_view s);
void ReplyWrongArity(CommandContext& ctx, std::string_view full_name);
// A command's arguments with its passwords redacted, as the slow log and
// MONITOR show them (kv/redacted_args.cc).
std::vector<std::string_view> RedactedArgs(
    const CommandSpec& spec, std::span<const std::string_view> argv);
// Adds the command ctx ran, which took `micros`, to the slow log
// (kv/slowlog.h), its secrets redacted (kv/cmd_slowlog.cc).
void RecordSlowCommand(const CommandSpec& spec, CommandContext& ctx,
                       uint64_t micros);
// The same for a command that blocked its client: kept in the client
// until the wait ends, then logged by EndBlockForSlowLog() if it was
// served (as Redis logs a blocked command once unblocked, never one that
// timed out).
void NoteBlockedCommand(const CommandSpec& spec, CommandContext& ctx,
                        uint64_t micros);
void EndBlockForSlowLog(ServerState& server, Client& client, bool served);
// MONITOR's feed (kv/monitor.h) of the command ctx runs, unless it is one
// Redis never shows (an admin command or subcommand).
void FeedMonitors(const CommandSpec& spec, CommandContext& ctx);
void ReplySyntaxError(CommandContext& ctx);
void ReplyNotInteger(CommandContext& ctx);
// An engine failure the command cannot express in Redis terms (WRONGTYPE
// is replied in Redis's words).
void ReplyEngineError(CommandContext& ctx, const Status& s);
// "ERR unknown subcommand 'x'. Try CONFIG HELP."
void ReplyUnknownSubcommand(CommandContext& ctx);
// A container's subcommand and its arity (Redis's convention: every
// argument counted, the container's name too).
struct SubcommandArity {
  std::string_view name;  // lower case
  int arity;
};
// The entry of argv[1] in `table`, its arity checked: null (and the
// error replied) when unknown or given the wrong number of arguments.
const SubcommandArity* FindSubcommand(CommandContext& ctx,
                                      std::span<const SubcommandArity> table);
// A known subcommand with arguments it cannot take (Redis's
// addReplySubcommandSyntaxError).
void ReplySubcommandSyntaxError(CommandContext& ctx);
// Its text, for a body that fails with CommandError.
std::string SubcommandSyntaxError(const CommandContext& ctx);
bool ParseIntArg(CommandContext& ctx, std::string_view s, int64_t* out);
// HRANDFIELD / ZRANDMEMBER key count [<with_word>]: argv[2] as Redis
// checks it (an integer in -LONG_MAX..LONG_MAX, then the syntax, then
// |count| <= LONG_MAX/2 with values); replies the error and returns false.
bool ParseRandomCount(CommandContext& ctx, std::string_view with_word,
                      int64_t* count);
// CLIENT SETNAME / HELLO SETNAME: printable, no spaces.
bool IsValidClientName(std::string_view name);
// One CLIENT LIST line of `c`, in Redis 7.0's field order.
std::string DescribeClient(const Client& c, int64_t now_ms);
// A HELP subcommand's reply: one simple string per line.
void ReplyHelp(CommandContext& ctx, std::span<const std::string_view> lines);
// Appends one INFO line "name:value\r\n".
void InfoField(std::string* s, std::string_view name, std::string_view value);
// Counts a keyspace hit or miss for INFO stats.
void CountLookup(CommandContext& ctx, bool hit);
// Leaves MULTI and forgets the WATCHed keys (Redis's discardTransaction).
void DiscardTransaction(ServerState& server, Client& client);
// Moves the pub/sub messages delivered to the client (from any thread) to
// its output, ahead of the reply about to be written; a client whose
// messages overflowed the pub/sub output limit is marked close_asap.
void DrainMailbox(ServerState& server, Client& client, ReplyWriter& out);

inline constexpr std::string_view kErrSyntax = "ERR syntax error";
inline constexpr std::string_view kErrNotInteger =
    "ERR value is not an integer or out of range";
// Redis's MISCONF, for a pool that cannot be persisted.
inline constexpr std::string_view kErrMisconf =
    "MISCONF daxkv is unable to persist to its pool, so it could lose writes "
    "it acknowledges. Commands that may modify the data set are disabled "
    "until the server is restarted. Please check the daxkv-server log and "
    "INFO persistence for details about the error.";
// A write on a replica with replica-read-only yes.
inline constexpr std::string_view kErrReadOnly =
    "READONLY You can't write against a read only replica.";
// A replica with replica-serve-stale-data no, its master link down.
inline constexpr std::string_view kErrMasterDown =
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set "
    "to 'no'.";

}  // namespace daxkv::kv

#endif  // DAXKV_KV_COMMAND_H_
