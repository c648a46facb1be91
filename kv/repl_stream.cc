// ReplicaLink's data phases: loading a full sync's RDB and applying the
// master's command stream (the handshake is in kv/replica_link.cc).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <shared_mutex>

#include "kv/command.h"
#include "kv/executor.h"
#include "kv/repl_load.h"
#include "kv/replica_link.h"
#include "kv/resp_parser.h"
#include "kv/server_state.h"
#include "rdb/sync_payload.h"

namespace daxkv::kv {
Status ReplicaLink::LoadFullSync() {
  repl_->SetLoading(true);
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
    DAXKV_RETURN_IF_ERROR(ApplyInput(&getack));
    if (processed_ != durable_) {
      // Durability: only offsets a Sync covered are ever ACKed.
      if (SyncRound(*server_)) durable_ = processed_;
      repl_->SetOffsets(processed_, durable_);
    }
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
      AddProcessed(bytes);
    } else if (argv.size() >= 2 && EqualsIgnoreCase(argv[0], "replconf") &&
               EqualsIgnoreCase(argv[1], "getack")) {
      AddProcessed(bytes);
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
    } else if (EqualsIgnoreCase(argv[0], "multi")) {
      in_block_ = true;
      block_.clear();
      block_bytes_ = bytes;
    } else if (in_block_ && EqualsIgnoreCase(argv[0], "exec")) {
      // The block counts as processed only once applied whole.
      AddProcessed(block_bytes_ + bytes);
      ApplyBlock();
    } else if (in_block_) {
      block_.emplace_back(argv.begin(), argv.end());
      block_bytes_ += bytes;
    } else {
      (void)Apply(argv);  // logged and counted; the stream goes on
      AddProcessed(bytes);
    }
  }
  master_.round_lock = nullptr;
  return status;
}

void ReplicaLink::AddProcessed(size_t bytes) {
  processed_ += static_cast<int64_t>(bytes);
}

void ReplicaLink::ApplyBlock() {
  // Commands of the block run back to back on this thread; a crash inside
  // the block is covered by the ACK rule (its offset is ACKed only after
  // the Sync that follows the whole block).
  for (const auto& cmd : block_) {
    std::vector<std::string_view> argv(cmd.begin(), cmd.end());
    (void)Apply(argv);  // logged and counted; the stream goes on
  }
  block_.clear();
  in_block_ = false;
  block_bytes_ = 0;
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
