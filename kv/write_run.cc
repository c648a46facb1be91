#include "kv/write_run.h"

#include <algorithm>
#include <string>
#include <utility>

#include "base/int_text.h"
#include "kv/block_serve.h"
#include "kv/command_notes.h"
#include "kv/executor.h"
#include "kv/repl_master.h"
#include "kv/replication.h"
#include "kv/script_section.h"
#include "kv/txn_engine_store.h"

namespace daxkv::kv {

bool WriteRun::Joins(const CommandSpec* spec, size_t argc) {
  return spec != nullptr && (spec->flags & kCmdPipelined) &&
         ArityOk(*spec, argc);
}

bool WriteRun::MayStart(ServerState& server, const Client& client) {
  const bool round_held =
      client.round_lock == nullptr || client.round_lock->owns_lock();
  return !client.in_multi && client.blocked == nullptr && !client.is_master &&
         (client.authenticated || !server.settings().auth_required()) &&
         !client.pubsub.subscribed() && !client.pubsub.mailbox.has_mail() &&
         round_held && !HoldsKeptExclusive() &&
         !server.replication().master().active() &&
         !client.reply_skip_next;  // CLIENT REPLY SKIP: consumed once
}

void WriteRun::Add(const CommandSpec* spec,
                   std::span<const std::string_view> argv, size_t bytes) {
  requests_.push_back({spec, args_.size(), argv.size(), bytes});
  args_.insert(args_.end(), argv.begin(), argv.end());
  bytes_ += bytes;
}

bool WriteRun::Collect(const CommandSpec* spec,
                       std::span<const std::string_view> argv,
                       const char* request, size_t size, std::string_view rest,
                       RequestParser& scratch, LastCommand& lookup) {
  args_.clear();
  requests_.clear();
  bytes_ = 0;
  // An inline request's arguments live in its parser, not in the input:
  // only multibulk requests, whose arguments stay put in the buffer, run.
  if (request[0] != '*' || size > kMaxRequestBytes) return false;
  Add(spec, argv, size);
  while (requests_.size() < kMaxCommands && !rest.empty() && rest[0] == '*') {
    scratch.Reset();
    // Only complete requests that fit the run; the parser's tighter
    // pre-AUTH caps do not apply (MayStart: authenticated).
    if (scratch.Parse(rest.data(), rest.size(), true) !=
            RequestParser::Result::kComplete ||
        bytes_ + scratch.consumed() > kMaxRequestBytes ||
        scratch.args().empty()) {
      break;
    }
    const CommandSpec* next = lookup.Find(scratch.args()[0]);
    if (!Joins(next, scratch.args().size())) break;
    Add(next, scratch.args(), scratch.consumed());
    rest.remove_prefix(scratch.consumed());
  }
  scratch.Reset();
  return requests_.size() >= 2;
}

void WriteRun::PrefetchElements(engine::Txn& txn) {
  std::string_view key;
  elems_.clear();
  for (size_t i = 1; i < requests_.size(); ++i) {
    const CommandSpec& spec = *requests_[i].spec;
    if (spec.first_elem <= 0) continue;
    const std::span<const std::string_view> argv = Argv(requests_[i]);
    const std::string_view k = argv[static_cast<size_t>(spec.first_key)];
    if (k != key && !elems_.empty()) {
      txn.PrefetchElements(key, elems_);
      elems_.clear();
    }
    key = k;
    for (auto j = static_cast<size_t>(spec.first_elem); j < argv.size();
         j += static_cast<size_t>(spec.elem_step)) {
      elems_.push_back(argv[j]);
    }
  }
  if (!elems_.empty()) txn.PrefetchElements(key, elems_);
}

void WriteRun::PrefetchPops(engine::Txn& txn) {
  // Every hint is given now, before the second command runs, so the pops
  // of one key and end add up across the run (a hint per stretch would
  // load the same first members again for each).
  pops_.clear();
  for (size_t i = 1; i < requests_.size(); ++i) {
    const CommandSpec& spec = *requests_[i].spec;
    if (spec.pops == PopEnd::kNone) continue;
    const std::span<const std::string_view> argv = Argv(requests_[i]);
    const std::string_view key = argv[static_cast<size_t>(spec.first_key)];
    // ZPOPMIN key [count]: a bad count pops nothing, but 1 is a fine guess.
    int64_t count = 1;
    if (argv.size() > 2 && (!ParseInt64(argv[2], &count) || count < 1)) {
      count = 1;
    }
    auto it = std::find_if(pops_.begin(), pops_.end(), [&](const Pops& p) {
      return p.key == key && p.end == spec.pops;
    });
    if (it == pops_.end()) it = pops_.insert(it, {key, spec.pops, 0});
    it->count = std::min<uint64_t>(it->count + static_cast<uint64_t>(count),
                                   uint64_t{1} << 20);
  }
  for (const Pops& p : pops_) {
    txn.PrefetchPops(p.key, p.end == PopEnd::kMax, p.count);
  }
}

size_t WriteRun::Run(ServerState& server, Client& client, ReplyWriter& out) {
  // A pipeline mostly repeats its key: a repeat of the key before is
  // declared (prefetched, checked for waiters) once.
  std::vector<std::string> keys;
  for (const Request& r : requests_) {
    ForEachCommandKey(*r.spec, Argv(r), [&](std::string_view k) {
      if (keys.empty() || keys.back() != k) keys.emplace_back(k);
    });
  }
  for (size_t i = 0; i < keys.size() && i < kMaxPrefetchedKeys; ++i) {
    PrefetchCommandKey(server, keys[i], /*write=*/true);
  }
  std::string* buf = out.buffer();
  const size_t mark = buf->size();
  size_t ran = 0;
  BlockedServer served(server);
  CommandNotes notes(server, client, out);
  Status s = RunStoreTxn(
      server.db(), &server.watches(), &served, keys,
      [&](TxnEngineStore& store) {
        buf->resize(mark);  // a restart runs the commands again
        notes.Restart();
        ran = 0;
        for (const std::string& key : keys) {
          if (server.blocked().HasWaiters(key)) {
            return AbortedError("a client waits on a key of the run");
          }
        }
        for (const Request& r : requests_) {
          if (ran > 0 && buf->size() - mark >= kMaxReplyBytes) break;
          if (ran == 1) {
            PrefetchElements(store.txn());
            PrefetchPops(store.txn());
          }
          ExecuteLookedUp(server, client, r.spec, Argv(r), out, &store);
          ++ran;
        }
        return OkStatus();
      });
  if (!s.ok()) {
    buf->resize(mark);
    return 0;  // the commands run one by one, and count then
  }
  notes.Flush();
  served.Committed(client);
  server.stats().write_runs.fetch_add(1);
  server.stats().write_run_commands.fetch_add(ran);
  size_t bytes = 0;
  for (size_t i = 0; i < ran; ++i) bytes += requests_[i].bytes;
  return bytes;
}

}  // namespace daxkv::kv
