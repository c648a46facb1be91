// WriteRun: a run of pipelined collection writes (LPUSH, HSET, SADD, ZADD,
// ... : the commands flagged kCmdPipelined) that a connection read in one
// round, run as ONE engine Txn (issue 14) instead of one Txn each: the
// per-command Begin, key locking, batch record, checksum and commit are
// paid once per run.
//
// Every command still runs through ExecuteCommand (every check, INFO
// stats and commandstats, the access clock, its own reply), on the run's
// Txn as a block command (RunInBlock): one that fails (WRONGTYPE, a bad
// argument) is rolled back alone and replies its error, the others apply.
// So each client sees the replies and the data of the same commands run
// one by one, and other clients see either none of a run's writes or all
// of them (a run is one atomic step, as Redis's single thread makes any
// stretch of one client's commands between two other clients' commands).
//
// Durability: the run's Txn commits with sync = false, like a single
// command's; every reply of the round leaves after the round's Sync()
// (kv/io_thread.h), so each acknowledged write is durable first, and a
// crash keeps the whole run or none of it (never a later command of the
// run without an earlier one).
//
// A run starts only where nothing can come between its commands that they
// would change (WriteRun::MayStart): the client is not in MULTI, not
// blocked, authenticated, not its master's link, not subscribed (no
// messages are delivered between the replies), has no CLIENT REPLY SKIP
// pending (a run that gives way would consume it twice), holds no script's
// exclusive section and runs under its round lock; the master feeds no
// replicas (each command's effects go out under the replication order
// lock, at the command's end, which must not precede the run's commit).
// A run whose keys have blocked clients waiting gives way to the commands
// one by one (checked inside the Txn, whose stripes keep new waiters off
// those keys), since Redis serves waiters after each command, not after a
// run. A run whose Txn fails as a whole (a full pool at commit) also gives way,
// and the connection runs no more runs until its next read; its commands
// counted in commandstats then count again when they run one by one, as a
// restarted EXEC's do.
//
// Thread-safety: one connection's I/O thread. Lifetimes: the requests'
// bytes (the connection's input buffer) stay in place from Collect to Run.
#ifndef DAXKV_KV_WRITE_RUN_H_
#define DAXKV_KV_WRITE_RUN_H_

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "engine/txn.h"
#include "kv/client.h"
#include "kv/command.h"
#include "kv/resp_parser.h"
#include "kv/resp_writer.h"
#include "kv/server_state.h"

namespace daxkv::kv {

class WriteRun {
 public:
  // At most this many commands, and this many request bytes, per run: a
  // run's Txn holds its keys' stripes from the first command to the last.
  static constexpr size_t kMaxCommands = 32;
  static constexpr size_t kMaxRequestBytes = 64 << 10;
  // A run adds no command once its replies reach this size (a pop with a
  // count may reply much): the rest runs after the connection's output
  // limit was checked, as one by one.
  static constexpr size_t kMaxReplyBytes = 64 << 10;

  // Whether a request of `argc` arguments whose command is `spec` (null:
  // unknown) may be part of a run: a kCmdPipelined command with the right
  // number of arguments.
  static bool Joins(const CommandSpec* spec, size_t argc);
  // Whether a run may start for `client` now (see above).
  static bool MayStart(ServerState& server, const Client& client);

  // Collects the run that starts with `argv` (command `spec`), the
  // multibulk request of `size` bytes at `request` (already parsed), and
  // continues with the complete multibulk requests in `rest` (the input
  // after it) that Join, parsed with `scratch` and looked up with
  // `lookup`. Returns whether a run was made (at least two commands).
  // REQUIRES: Joins(spec, argv.size()).
  bool Collect(const CommandSpec* spec, std::span<const std::string_view> argv,
               const char* request, size_t size, std::string_view rest,
               RequestParser& scratch, LastCommand& lookup);

  // Runs the collected commands as one Txn, replying into `out`. Returns
  // the input bytes of the requests it ran, from the first on: 0 when the
  // run gave way (nothing applied, nothing replied, nothing counted but
  // as described above); the caller then runs the first request alone.
  size_t Run(ServerState& server, Client& client, ReplyWriter& out);

 private:
  struct Request {
    const CommandSpec* spec;
    size_t first_arg;  // into args_
    size_t argc;
    size_t bytes;  // of input
  };
  std::span<const std::string_view> Argv(const Request& r) const {
    return std::span(args_).subspan(r.first_arg, r.argc);
  }
  void Add(const CommandSpec* spec, std::span<const std::string_view> argv,
           size_t bytes);
  // Txn::PrefetchElements of the elements the run's commands after the
  // first name (CommandSpec::first_elem), key by key: the first command
  // has looked its key up, which a pipeline mostly repeats.
  void PrefetchElements(engine::Txn& txn);
  // Txn::PrefetchPops of the members the run's pops after the first take
  // (ZPOPMIN, ZPOPMAX), once per key and end.
  void PrefetchPops(engine::Txn& txn);

  std::vector<std::string_view> args_;
  std::vector<std::string_view> elems_;  // PrefetchElements' scratch
  struct Pops {
    std::string_view key;
    PopEnd end;
    uint64_t count;
  };
  std::vector<Pops> pops_;  // PrefetchPops' scratch
  std::vector<Request> requests_;
  size_t bytes_ = 0;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_WRITE_RUN_H_
