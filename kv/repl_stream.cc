// ReplicaLink's data phases: loading a full sync's RDB and applying the
// master's command stream (the handshake is in kv/replica_link.cc).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <shared_mutex>

#include "kv/block_serve.h"
#include "kv/command.h"
#include "kv/executor.h"
#include "kv/pubsub.h"
#include "kv/repl_load.h"
#include "kv/repl_master.h"
#include "kv/replica_link.h"
#include "kv/replica_resume.h"
#include "kv/resp_parser.h"
#include "kv/server_state.h"
#include "kv/txn_engine_store.h"
#include "rdb/sync_payload.h"

namespace daxkv::kv {
namespace {

// Stream bytes that change nothing: counted in the offset only.
bool IsNoOp(std::span<const std::string_view> argv) {
  return EqualsIgnoreCase(argv[0], "ping") ||
         EqualsIgnoreCase(argv[0], "replconf") ||
         EqualsIgnoreCase(argv[0], "select");
}

// Commands applied alone, outside a group's Txn: they persist outside the
// Txn's record (a Flush, a system batch) or cannot run in one.
bool RunsAlone(std::span<const std::string_view> argv) {
  for (std::string_view name :
       {"flushall", "flushdb", "function", "script", "swapdb", "exec",
        "discard", "watch", "unwatch"}) {
    if (EqualsIgnoreCase(argv[0], name)) return true;
  }
  return false;
}

bool ArityMatches(const CommandSpec& spec, size_t argc) {
  const int n = static_cast<int>(argc);
  return spec.arity >= 0 ? n == spec.arity : n >= -spec.arity;
}

}  // namespace

Status ReplicaLink::LoadFullSync() {
  repl_->SetLoading(true);
  // Durability: the stored resume point goes (durably) before the data set
  // changes: a crash during the load leaves no point claiming data the
  // pool does not hold (the next start syncs fully).
  DAXKV_RETURN_IF_ERROR(ForgetReplicaResumePoint(server_->db()));
  repl_->ForgetMasterReplid();  // in memory too: a retry syncs fully
  // Flush then load, as the normal FLUSHALL (watchers touched, isolated);
  // the master's functions replace ours, as in Redis.
  DAXKV_RETURN_IF_ERROR(Apply(std::vector<std::string_view>{"FLUSHALL"}));
  DAXKV_RETURN_IF_ERROR(
      Apply(std::vector<std::string_view>{"FUNCTION", "FLUSH"}));
  RdbLoader loader(
      server_, &stop_,
      [this](std::span<const std::string_view> argv) { return Apply(argv); });
  rdb::RdbStreamReader rdb(&loader);  // other databases: refused, loudly
  rdb::SyncPayloadReader payload(&rdb);
  int64_t last_io = SteadyMs();
  while (!payload.done()) {
    if (in_pos_ < in_.size()) {
      size_t used = 0;
      DAXKV_RETURN_IF_ERROR(
          payload.Feed(std::string_view(in_).substr(in_pos_), &used));
      in_pos_ += used;
      repl_->NoteSyncProgress(payload.announced_size(), rdb.bytes_consumed());
      continue;
    }
    size_t n = 0;
    DAXKV_RETURN_IF_ERROR(ReadMore(kReplPollMs, &n));
    if (n > 0) {
      last_io = SteadyMs();
    } else if (SteadyMs() - last_io > kReplTimeoutMs) {
      return IOError("timeout receiving the RDB from MASTER");
    }
  }
  // Durability: the loaded data set is made durable before the sync counts
  // as done, so the first ACK (of the FULLRESYNC offset) covers it.
  if (!SyncRound(*server_)) {
    return server_->PersistenceError().WithContext("syncing the loaded RDB");
  }
  // Durability: the resume point only after the loaded keys are durable
  // (unsynced, a crash could keep it and lose keys), then synced itself
  // before the first ACK.
  group_end_ = processed_;
  DAXKV_RETURN_IF_ERROR(CommitRecordOnly());
  if (!SyncRound(*server_)) {
    return server_->PersistenceError().WithContext("syncing the resume point");
  }
  durable_ = processed_;
  repl_->SetMasterReplid(replid_);
  repl_->SetOffsets(processed_, durable_);
  repl_->SetLoading(false);
  std::fprintf(stderr,
               "replication: loaded %llu keys (%llu already expired) from "
               "the MASTER's RDB (%llu bytes, %s)\n",
               static_cast<unsigned long long>(loader.keys_written()),
               static_cast<unsigned long long>(loader.keys_expired()),
               static_cast<unsigned long long>(rdb.bytes_consumed()),
               payload.diskless() ? "diskless" : "disk-based");
  return OkStatus();
}

Status ReplicaLink::Stream() {
  int64_t last_io = SteadyMs();
  while (!stopping()) {
    if (master_.kill_requested.load()) {
      return AbortedError("master client killed by CLIENT KILL");
    }
    bool getack = false;
    // Groups committed before an error are synced (and ACKable) all the
    // same: the error ends the session after that.
    const Status applied = ApplyInput(&getack);
    // Durability: only offsets a Sync covered are ever ACKed; clients a
    // push served hear of their pop only then too. A failed Sync is not
    // fatal here: the offset stays unACKed (the engine latches the error).
    (void)SyncCommitted();
    DAXKV_RETURN_IF_ERROR(applied);
    const int64_t now = SteadyMs();
    if (getack || now - last_ack_ms_ >= kReplAckPeriodMs) {
      DAXKV_RETURN_IF_ERROR(SendAck());
      last_ack_ms_ = now;
    }
    size_t n = 0;
    DAXKV_RETURN_IF_ERROR(ReadMore(kReplPollMs, &n));
    if (n > 0) {
      last_io = now;
      master_.last_interaction_ms.store(server_->NowMs());
    } else if (now - last_io > kReplTimeoutMs) {
      return IOError("timeout: no data nor PING received from MASTER");
    }
  }
  return OkStatus();
}

Status ReplicaLink::SendAck() {
  return SendAll(
      EncodeRespCommand({"REPLCONF", "ACK", std::to_string(durable_)}));
}

Status ReplicaLink::ApplyInput(bool* getack) {
  ParserLimits limits;
  RequestParser parser(limits);
  // A round of the link, as an I/O thread's: shared hold of the exec lock.
  std::shared_lock<std::shared_timed_mutex> round(server_->exec_lock(),
                                                  std::defer_lock);
  if (!LockRoundUnlessStopped(&round, stop_)) return OkStatus();
  master_.round_lock = &round;
  Status status;
  while (in_pos_ < in_.size() && !stopping()) {
    parser.Reset();
    auto r = parser.Parse(in_.data() + in_pos_, in_.size() - in_pos_, true);
    if (r == RequestParser::Result::kIncomplete) break;
    if (r == RequestParser::Result::kError) {
      status = CorruptionError("protocol error from MASTER: " + parser.error());
      break;
    }
    const size_t bytes = parser.consumed();
    unapplied_.append(in_, in_pos_, bytes);
    in_pos_ += bytes;
    const auto& argv = parser.args();
    static const bool trace = std::getenv("DAXKV_REPL_TRACE") != nullptr;
    if (trace) {  // debugging aid: every command of the master's stream
      std::fprintf(stderr, "trace: %lld +%zu %.*s\n",
                   static_cast<long long>(processed_), bytes,
                   argv.empty() ? 0 : static_cast<int>(argv[0].size()),
                   argv.empty() ? "" : argv[0].data());
    }
    if (argv.empty()) {
      AddToGroup({}, bytes);
    } else if (argv.size() >= 2 && EqualsIgnoreCase(argv[0], "replconf") &&
               EqualsIgnoreCase(argv[1], "getack")) {
      AddToGroup({}, bytes);
      *getack = true;
    } else if (argv.size() == 2 && EqualsIgnoreCase(argv[0], "select") &&
               argv[1] != "0") {
      // Applying its writes to database 0 would merge two databases.
      status = NotSupportedError("the master selected database " +
                                 std::string(argv[1]) +
                                 ": daxkv holds database 0 only");
      repl_->NoteStreamError("SELECT " + std::string(argv[1]) + ": " +
                             status.ToString());
      break;
    } else if (IsNoOp(argv)) {
      AddToGroup({}, bytes);
    } else if (EqualsIgnoreCase(argv[0], "multi")) {
      in_block_ = true;
      block_.clear();
      block_bytes_ = bytes;
    } else if (in_block_ && EqualsIgnoreCase(argv[0], "exec")) {
      // The block joins the group whole: a group never ends inside it.
      for (auto& cmd : block_) group_.push_back(std::move(cmd));
      group_end_ += static_cast<int64_t>(block_bytes_ + bytes);
      block_.clear();
      in_block_ = false;
      block_bytes_ = 0;
    } else if (in_block_) {
      block_.emplace_back(argv.begin(), argv.end());
      block_bytes_ += bytes;
    } else if (RunsAlone(argv)) {
      // Durability: the group before it commits and is made durable first
      // (a Flush() persists at once: unsynced, the group could be lost
      // behind it); the command then persists itself. A FUNCTION change
      // writes the resume point past it in its own system batch: both or
      // neither after a crash. FLUSHALL (Flush()) cannot carry it: a
      // crash before the point after it leaves the point before it and
      // the data flushed, and the resume flushes again (the same data).
      status = CommitGroup();
      if (status.ok()) status = SyncCommitted();
      if (!status.ok()) break;
      master_.resume_record = ReplicaResumeRecord(
          replid_, group_end_ + static_cast<int64_t>(bytes));
      (void)Apply(argv);  // logged and counted; the stream goes on
      master_.resume_record.clear();
      group_end_ += static_cast<int64_t>(bytes);
      status = CommitRecordOnly();
      if (!status.ok()) break;
    } else {
      AddToGroup(argv, bytes);
    }
    if (group_.size() >= kMaxGroupCommands) {
      status = CommitGroup();
      if (!status.ok()) break;
    }
  }
  if (status.ok()) status = CommitGroup();
  master_.round_lock = nullptr;
  return status;
}

void ReplicaLink::AddToGroup(std::span<const std::string_view> argv,
                             size_t bytes) {
  if (!argv.empty()) group_.emplace_back(argv.begin(), argv.end());
  group_end_ += static_cast<int64_t>(bytes);
}

Status ReplicaLink::CommitGroup(bool force) {
  if (!force && group_.empty() && group_end_ == processed_) return OkStatus();
  const CommandTable& table = CommandTable::Default();
  std::vector<std::string_view> argv;
  std::vector<std::string> keys;
  std::vector<const CommandSpec*> specs;
  for (const auto& cmd : group_) {
    argv.assign(cmd.begin(), cmd.end());
    const CommandSpec* spec = table.Find(argv[0]);
    if (spec != nullptr && !ArityMatches(*spec, argv.size())) spec = nullptr;
    specs.push_back(spec);
    if (spec == nullptr) continue;
    for (std::string_view k : CommandKeys(*spec, argv)) keys.emplace_back(k);
  }
  const std::string record = ReplicaResumeRecord(replid_, group_end_);
  std::vector<std::string> errors;
  std::string out;
  ReplyWriter writer(&out);
  BlockedServer served(*server_);
  // Durability: ONE engine Txn: the group's commands and the resume record
  // of its end offset are one batch record, so a crash keeps all of them
  // or none (the pool then holds the previous group's offset and data).
  // Unsynced here; Stream()'s Sync makes it durable before any ACK of it.
  Status s = RunStoreTxn(
      server_->db(), &server_->watches(), &served, std::move(keys),
      [&](TxnEngineStore& store) -> Status {
        errors.clear();  // a restart runs the group again
        master_.pubsub.deferred.clear();
        for (size_t i = 0; i < group_.size(); ++i) {
          const auto& cmd = group_[i];
          if (specs[i] == nullptr) {
            errors.push_back(cmd[0] + ": unknown command or wrong arity");
            continue;
          }
          argv.assign(cmd.begin(), cmd.end());
          out.clear();
          CommandContext sub{*server_, master_, store, writer, argv, true};
          RunInBlock(*specs[i], sub);  // a failed command leaves nothing
          if (!out.empty() && out[0] == '-') {
            const size_t eol = out.find('\r');
            errors.push_back(cmd[0] + ": " +
                             out.substr(1, eol == std::string::npos
                                               ? std::string::npos
                                               : eol - 1));
          }
        }
        return store.txn().PutSystem(kReplicaResumeKey, record);
      },
      /*system_writes=*/true);
  if (!s.ok()) {
    master_.pubsub.deferred.clear();
    return s.WithContext("applying the master's commands");
  }
  served.Committed(master_);
  // The master's PUBLISHes reach this replica's subscribers after the
  // link's Sync, as the served pops' replies do.
  DeliverDeferred(server_->pubsub(),
                  server_->settings().pubsub_output_limit.load(), master_);
  for (const std::string& e : errors) repl_->NoteStreamError(e);
  group_.clear();
  MarkApplied(group_end_);
  repl_->SetOffsets(processed_, durable_);
  return OkStatus();
}

void ReplicaLink::MarkApplied(int64_t end) {
  const size_t n = static_cast<size_t>(end - processed_);
  repl_->master().AppendApplied(std::string_view(unapplied_).substr(0, n));
  unapplied_.erase(0, n);
  processed_ = end;
}

Status ReplicaLink::SyncCommitted() {
  if (processed_ == durable_) return OkStatus();
  const bool synced = SyncRound(*server_);
  DeliverServed(synced);
  if (!synced) return server_->PersistenceError().WithContext("replica sync");
  durable_ = processed_;
  repl_->SetOffsets(processed_, durable_);
  return OkStatus();
}

void ReplicaLink::DeliverServed(bool durable) {
  for (auto& deliver : woken_) deliver(durable);
  woken_.clear();
}

Status ReplicaLink::Apply(std::span<const std::string_view> argv) {
  std::string out;
  ReplyWriter writer(&out);
  ExecuteCommand(*server_, master_, argv, writer);
  if (out.empty() || out[0] != '-') return OkStatus();
  std::string what(argv[0]);
  what += ": ";
  const size_t end = out.find('\r');
  what.append(out, 1, end == std::string::npos ? end : end - 1);
  repl_->NoteStreamError(what);
  return FailedPreconditionError(what);
}

}  // namespace daxkv::kv
