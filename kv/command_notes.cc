#include "kv/command_notes.h"

#include "kv/executor.h"
#include "kv/store.h"

namespace daxkv::kv {

CommandNotes::CommandNotes(ServerState& server, Client& client,
                           ReplyWriter& out)
    : server_(server),
      client_(client),
      out_(out),
      owner_(client.notes == nullptr) {
  if (!owner_) return;
  client_.notes = this;
  notes_.swap(spare_);  // empty, with the capacity earlier bodies grew
}

CommandNotes::~CommandNotes() {
  if (!owner_) return;
  client_.notes = nullptr;
  notes_.clear();
  spare_.swap(notes_);
}

thread_local std::vector<CommandNotes::Note> CommandNotes::spare_;

void CommandNotes::Restart() {
  if (owner_) notes_.clear();
}

void CommandNotes::Add(const CommandSpec& spec, CommandContext& ctx,
                       uint64_t ticks, bool failed, std::string_view error,
                       bool monitor_only) {
  Note& n = notes_.emplace_back();
  n.spec = &spec;
  n.ticks = ticks;
  n.failed = failed;
  n.monitor_only = monitor_only;
  n.error.assign(error);
  // Most commands need no copy of their arguments: the counters take the
  // spec and the time only.
  n.has_args = ctx.server.monitors().active() ||
               (!monitor_only && SlowLogTakes(spec, ctx.server, ticks));
  if (n.has_args) n.args.assign(ctx.argv.begin(), ctx.argv.end());
}

void CommandNotes::Flush() {
  if (!owner_) return;  // the outer body's caller flushes
  DirectStore direct(&server_.db(), &server_.watches());  // unused by notes
  std::vector<std::string_view> argv;
  for (const Note& n : notes_) {
    argv.assign(n.args.begin(), n.args.end());
    CommandContext c{server_, client_, direct, out_, argv, true, n.spec};
    if (n.monitor_only) {
      FeedMonitors(*n.spec, c);
      continue;
    }
    server_.stats().commands_processed.fetch_add(1, std::memory_order_relaxed);
    // Without its arguments (no monitor listened, the slow log did not
    // take it, when it ran) a command feeds neither.
    NoteCommand(*n.spec, c, n.ticks, n.failed, n.error, n.has_args);
  }
  notes_.clear();
}

}  // namespace daxkv::kv
