// Connection: one client socket on an I/O thread: takes the bytes its loop
// (kv/io_loop.h: epoll or io_uring, it does not know which) received, runs
// the requests through the executor, and holds their replies until the
// round's DB::Sync() has made the writes durable (FlushReplies hands them to
// the loop).
//
// Memory a client can make the server hold is bounded at every command, not
// only between reads: the query buffer by client_query_buffer_limit, the
// unsent replies by --client_output_limit (checked after each reply; over
// it the client is closed and its replies dropped, as Redis does; a
// subscribed client by the pubsub class limit, also when messages arrive) and,
// with no limit, by backpressure: once kOutputBackpressure bytes of replies are
// unsent the connection stops running commands and reading, and resumes as
// the client reads its replies.
//
// Thread-safety: used only by the owning I/O thread.
#ifndef DAXKV_KV_CONNECTION_H_
#define DAXKV_KV_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "kv/client.h"
#include "kv/get_batch.h"
#include "kv/io_loop.h"
#include "kv/resp_parser.h"
#include "kv/resp_writer.h"
#include "kv/server_state.h"
#include "kv/write_run.h"

namespace daxkv::kv {

class Connection;

// What a connection needs from the thread that owns it.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  virtual IoLoop& loop() = 0;
  // The connection has replies waiting for the end of the round.
  virtual void MarkPending(Connection* c) = 0;
  // The connection is finished; the owner deletes it after the round.
  virtual void MarkClosed(Connection* c) = 0;
  // The connection holds unprocessed input it paused on and can run it now
  // (its replies drained): call ResumeInput() in the next round.
  virtual void MarkResume(Connection* c) = 0;
  // Thread-safe: a publisher on any thread left mail for c (its mailbox
  // went from empty to non-empty); call DeliverMail() in the next round.
  virtual void MailArrived(Connection* c) = 0;
  // Thread-safe: the reply of the command c is blocked in was delivered
  // (kv/block_registry.h): call Unblock() in the next round.
  virtual void Unblocked(Connection* c) = 0;
  // c blocked in a command with a timeout: call ExpireBlock() once it is
  // due (Client::blocked's deadline).
  virtual void MarkBlocked(Connection* c) = 0;
  // Thread-safe: another thread asked for c to be looked at (CLIENT KILL):
  // run the housekeeping pass in the next round.
  virtual void RequestHousekeeping() = 0;
};

class Connection final : public IoLoop::Stream {
 public:
  Connection(ServerState& server, ConnectionOwner& owner, int fd,
             std::string addr, std::string laddr);
  ~Connection() override;

  // Registers with the owner's loop and the server's client registry.
  [[nodiscard]] Status Start();
  // IoLoop::Stream.
  std::span<char> InputSpace() override;
  void OnInput(size_t n) override;
  void OnSent(size_t n) override;
  void OnError(int err) override;

  // Durability: REQUIRES that every write of the round is durable (the
  // owner called DB::Sync()); only then are the round's replies released.
  void FlushReplies();
  // Closes now (unregisters; the owner frees the object after the round).
  void Close();
  // Runs the input the connection paused on (see MarkResume). REQUIRES: the
  // owner's round lock is held, as for events.
  void ResumeInput();
  // Moves the client's pub/sub mail to its output (see MailArrived).
  void DeliverMail();
  // Blocking pops. Unblock: takes the delivered reply of the command the
  // client is blocked in and runs the input that waited behind it.
  // ExpireBlock: at the deadline, cancels the wait and replies the timeout
  // reply; returns whether the connection still waits for a deadline.
  // REQUIRES: the owner's round lock is held, as for events.
  void Unblock();
  bool ExpireBlock(int64_t now_ms);
  int64_t block_deadline_ms() const;

  bool closed() const { return closed_; }
  Client& client() { return client_; }
  int64_t idle_ms(int64_t now_ms) const;

 private:
  void ProcessInput();
  // Hands the released replies to the loop; false when it closed.
  bool SendReady();
  // Bookkeeping after `n` bytes left; false when it closed.
  bool AfterSent(size_t n);
  void UpdateReceiving();
  // The batch that serves the GET `argv` (the request at in_start_): the
  // pending one, or one begun here; null for any other request, or a GET
  // left to run alone.
  GetBatch* BatchGets(std::span<const std::string_view> argv,
                      std::optional<GetBatch>* gets);
  // Runs the run of pipelined collection writes that starts with the
  // write `argv` (command `spec`; the request at in_start_) as one Txn
  // (kv/write_run.h); returns the input bytes of the requests it ran (0: `argv`
  // runs alone). *runs_off: a run gave way, so none is tried again in this
  // read.
  size_t RunWrites(const CommandSpec* spec,
                   std::span<const std::string_view> argv, bool* runs_off);
  // Before the write `argv` (the request at in_start_, authenticated) runs
  // alone, prefetches its keys' window (kv/key_prefetch.h) unless an
  // earlier window covers it; *prefetched_to: the input offset the last
  // window reached.
  void PrefetchKeyWindow(const CommandSpec* spec,
                         std::span<const std::string_view> argv,
                         size_t* prefetched_to);
  void EnsureReadSpace();
  size_t unsent() const { return out_.size() + in_flight_; }
  // Too many unsent replies to run more commands (backpressure).
  bool OutputFull() const;
  // Closes the client if a reply took it over its output limit, or a
  // command asked for it (close_asap); returns true when closed.
  bool CloseIfOverLimits();
  bool OverOutputLimit();
  // The reply that ends a block, then the input that waited.
  void EndBlock(const std::string& reply);

  ServerState& server_;
  ConnectionOwner& owner_;
  Client client_;
  ParserLimits limits_;
  RequestParser parser_;
  RequestParser lookahead_;  // GetBatch's and WriteRun's Collect, reused
  WriteRun writes_;          // reused for its vectors' capacity
  LastCommand last_command_;
  std::string out_;
  ReplyWriter writer_;
  size_t out_ready_ = 0;  // bytes of out_ covered by a completed Sync
  size_t in_flight_ = 0;  // bytes handed to the loop, not yet sent
  std::unique_ptr<char[]> in_;
  size_t in_cap_ = 0, in_start_ = 0, in_end_ = 0;
  bool receiving_ = true;
  bool pending_ = false;
  bool paused_ = false;  // stopped on backpressure with input left
  bool resume_marked_ = false;
  bool closed_ = false;
  bool registered_ = false;
  // When the unsent output first reached the soft output limit (0 = it is
  // below it).
  int64_t soft_limit_since_ms_ = 0;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_CONNECTION_H_
