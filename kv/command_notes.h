// CommandNotes: what RunCommand tells the server about each command it ran
// (Redis's call() bookkeeping: commands_processed, INFO commandstats and
// errorstats, MONITOR, the slow log, the latency monitor), held back while
// the command runs in an engine Txn body (RunStoreTxn: a pipelined write
// run, an EXEC block, a script) that the engine may run again from the
// start (a restart) or whose effects may never exist (a failed commit, a
// run that gives way to one-by-one execution). The body's caller forgets
// the notes of a run that starts again, and applies them once the Txn
// committed, so each command counts once, as it ran in the final run.
//
// Lifetime: installed on the client for the scope of one RunStoreTxn call;
// a body nested in another's (a script inside EXEC) uses the outer notes.
// Thread-safety: the client's I/O thread only.
#ifndef DAXKV_KV_COMMAND_NOTES_H_
#define DAXKV_KV_COMMAND_NOTES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kv/command.h"

namespace daxkv::kv {

class CommandNotes {
 public:
  // Held back from here on, unless `client` holds notes already.
  CommandNotes(ServerState& server, Client& client, ReplyWriter& out);
  ~CommandNotes();
  CommandNotes(const CommandNotes&) = delete;
  CommandNotes& operator=(const CommandNotes&) = delete;

  // The body starts (again): the notes of an earlier run are void.
  void Restart();
  // The Txn committed: the notes apply, in order.
  void Flush();

  // RunCommand's side. `error`: the error reply's first line without its
  // '-' ("" unless failed). `monitor_only`: a script's own MONITOR line,
  // fed before the commands it runs.
  void Add(const CommandSpec& spec, CommandContext& ctx, uint64_t ticks,
           bool failed, std::string_view error, bool monitor_only);

 private:
  struct Note {
    const CommandSpec* spec;
    uint64_t ticks;
    bool failed;
    bool monitor_only;
    std::string error;
    // Kept only when a monitor listens or the slow log takes the command.
    bool has_args;
    std::vector<std::string> args;
  };

  ServerState& server_;
  Client& client_;
  ReplyWriter& out_;
  bool owner_;  // installed these notes (not nested in another body's)
  std::vector<Note> notes_;
  // The thread's buffer between bodies: a pipelined run of writes holds
  // notes on every command, and should not grow a vector from empty each
  // time.
  static thread_local std::vector<Note> spare_;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_COMMAND_NOTES_H_
