// IoThread: one event loop serving a share of the clients. Each round it
// waits for events, runs every complete request read in the round under a
// shared hold of the server's exec lock, calls DB::Sync() once if any of them
// touched the engine (group commit), and only then sends the replies.
//
// The loop is epoll or io_uring (kv/io_loop.h, ServerState::io_engine);
// with io_uring the round's replies are submitted with the next wait.
//
// Listening: one socket per bound address, shared by all threads (no
// SO_REUSEPORT, so a second server on the port fails with "Address already
// in use", as Redis does). Every thread waits on it (EPOLLEXCLUSIVE, or an
// io_uring poll: one stuck thread does not stop accepting); the thread that
// accepts hands the connections out round-robin across the group
// (IoThread::Adopt).
//
// Thread-safety: Start/Stop/Join from the controlling thread; everything
// else runs on the I/O thread itself.
#ifndef DAXKV_KV_IO_THREAD_H_
#define DAXKV_KV_IO_THREAD_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "base/mutex.h"
#include "kv/connection.h"
#include "kv/io_loop.h"
#include "kv/server_state.h"

namespace daxkv::kv {

class IoThread;

// The I/O threads that share the listening sockets. Accepted connections
// go to the first `serving` threads in turn; a thread after them is a
// standby that serves only the clients it accepts while a script is busy
// (with BUSY replies, SCRIPT KILL, SHUTDOWN NOSAVE), which the busy thread,
// inside Lua, cannot. Filled before any thread starts.
struct IoThreadGroup {
  std::vector<IoThread*> threads;
  size_t serving = 0;
  std::atomic<size_t> next{0};
};

// Creates the I/O threads of `server`'s config (EffectiveThreads) into
// *threads and *group, not started. One I/O thread gets a standby beside
// it (IoThreadGroup), so that a busy script never leaves the server without
// a thread to answer.
Status CreateIoThreads(ServerState& server, const std::vector<int>& listen_fds,
                       IoThreadGroup* group,
                       std::vector<std::unique_ptr<IoThread>>* threads);

class IoThread final : public ConnectionOwner {
 public:
  ~IoThread() override;

  // Takes over an accepted connection (from any thread): it is served from
  // this thread's next round.
  void Adopt(int fd, std::string addr, std::string laddr);

  void Start();
  // Asks the thread to drain: stop accepting, finish the round, flush
  // replies, close every client. Join() waits for it.
  void Stop();
  void Join();

  IoLoop& loop() override { return *loop_; }
  void MarkPending(Connection* c) override;
  void MarkClosed(Connection* c) override;
  void MarkResume(Connection* c) override;
  void MailArrived(Connection* c) override;
  void Unblocked(Connection* c) override;
  void MarkBlocked(Connection* c) override;
  void RequestHousekeeping() override;

 private:
  friend Status CreateIoThreads(
      ServerState& server, const std::vector<int>& listen_fds,
      IoThreadGroup* group, std::vector<std::unique_ptr<IoThread>>* threads);
  class Listener;
  // `listen_fds` are the server's listening sockets, shared with the other
  // threads of `group` (which must outlive the thread; never null); the
  // caller closes them after every thread is joined.
  static StatusOr<std::unique_ptr<IoThread>> Create(
      ServerState& server, const std::vector<int>& listen_fds,
      IoThreadGroup* group);
  IoThread(ServerState& server, std::unique_ptr<IoLoop> loop,
           IoThreadGroup* group);
  struct Accepted {
    int fd;
    std::string addr, laddr;
  };

  void Run();
  void Round(int timeout_ms);
  // Ends the round's hold of the exec lock (shared or kept exclusive).
  void UnlockRound();
  // Takes the round lock; see the definition.
  void LockRound(bool* undispatched, bool* woken);
  void FinishRound();
  // A connection one of the listeners accepted.
  void Accept(int fd);
  bool Admit(int fd, const std::string& peer_ip);
  void Serve(int fd, std::string addr, std::string laddr);
  void ServeAdopted();
  void ServeMail();
  void ServeUnblocked();
  // Blocked clients' timeouts: the wait until the next one is due (at most
  // `timeout_ms`), and ending those that are due.
  int BlockWaitMs(int timeout_ms, int64_t now_ms) const;
  void ExpireBlocks(int64_t now_ms);
  // After the round's Sync: replies to the clients this round's commands
  // served (kv/block_serve.h); `durable` false when the Sync failed.
  void DeliverWoken(bool durable);
  void Housekeeping();
  void Drain();

  ServerState& server_;
  std::unique_ptr<IoLoop> loop_;
  IoThreadGroup* group_;
  Mutex adopt_mu_;
  std::vector<Accepted> adopted_ GUARDED_BY(adopt_mu_);
  // Connections with pub/sub mail, queued by publishers on any thread.
  Mutex mail_mu_;
  std::vector<Connection*> mail_ GUARDED_BY(mail_mu_);
  // Blocked connections whose reply was delivered, from any thread.
  Mutex unblocked_mu_;
  std::vector<Connection*> unblocked_ GUARDED_BY(unblocked_mu_);
  // Connections blocked with a timeout (this thread only).
  std::vector<Connection*> blocked_;
  // Deliveries to clients served by this round's commands (Client::
  // round_woken of every connection of this thread).
  std::vector<std::function<void(bool durable)>> woken_;
  std::atomic<bool> housekeeping_requested_{false};
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_set<Connection*> conns_;
  std::vector<Connection*> pending_;
  std::vector<Connection*> closed_;
  std::vector<Connection*> resume_;  // run paused input next round
  std::shared_lock<std::shared_timed_mutex> round_lock_;
  // The exclusive hold a script kept for the round's next script
  // (kv/script_section.h); while it owns the lock round_lock_ does not.
  std::unique_lock<std::shared_timed_mutex> kept_exclusive_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  int64_t last_housekeeping_ms_ = 0;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_IO_THREAD_H_
