// IoLoop: the network loop of one I/O thread. The connection and command
// code run on it unaware of the kernel interface underneath, which the
// server picks at start-up (ServerConfig::io_engine):
//   epoll    (kv/event_loop.h): readiness events, then read/write/accept4
//            system calls, one per socket and direction;
//   io_uring (kv/uring_loop.h): multishot accept, multishot receive into a
//            ring of provided buffers, sends queued during the round and
//            submitted together with the next wait: one io_uring_enter per
//            round for every ready client.
// Waiting and dispatching are separate steps so the owner can take locks
// around the dispatch of one round; a reply handed to Send() after the
// round's group commit is the first byte of it that can leave.
//
// Thread-safety: everything but Wake() from the thread running the loop
// (BindThread's caller). Wake() from any thread.
#ifndef DAXKV_KV_IO_LOOP_H_
#define DAXKV_KV_IO_LOOP_H_

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/statusor.h"

namespace daxkv::kv {

class IoLoop {
 public:
  // A listening socket's side: told of each accepted connection.
  class Listener {
   public:
    virtual ~Listener() = default;
    // `fd` is non-blocking, close-on-exec and owned by the callee.
    virtual void OnAccept(int fd) = 0;
  };

  // A connected socket's side. Callbacks come from Dispatch() only.
  class Stream {
   public:
    virtual ~Stream() = default;
    // Where received bytes go next (never empty).
    virtual std::span<char> InputSpace() = 0;
    // `n` bytes were stored at the start of the last InputSpace().
    virtual void OnInput(size_t n) = 0;
    // `n` more bytes of those passed to Send() left.
    virtual void OnSent(size_t n) = 0;
    // The peer closed (err 0) or the socket failed (errno): the callee
    // closes the stream (CloseStream).
    virtual void OnError(int err) = 0;
  };

  virtual ~IoLoop() = default;

  // "epoll" or "io_uring" (INFO server's io_engine).
  virtual std::string_view name() const = 0;
  // On the thread that runs the loop, before its first Wait().
  [[nodiscard]] virtual Status BindThread() { return OkStatus(); }

  // REQUIRES: the handler stays valid until its fd is removed or closed.
  [[nodiscard]] virtual Status AddListener(int fd, Listener* l) = 0;
  // Stops accepting on fd (the caller closes it).
  virtual void RemoveListener(int fd) = 0;
  // Starts receiving on fd.
  [[nodiscard]] virtual Status AddStream(int fd, Stream* s) = 0;
  // Unregisters and closes fd: unsent bytes are dropped, no callback for
  // it comes after.
  virtual void CloseStream(int fd) = 0;
  // Off: read nothing more from fd (backpressure); bytes already received
  // may still arrive through OnInput.
  virtual void SetReceiving(int fd, bool on) = 0;
  // Sends *data after the bytes passed before, taking them (*data is left
  // empty, keeping spare capacity when it can). Returns how many left at
  // once (OnSent reports the rest), or -1 with errno when the socket
  // failed (the caller closes the stream).
  virtual ssize_t Send(int fd, std::string* data) = 0;

  // Submits what the round queued and waits up to `timeout_ms` (-1 =
  // forever) for events; returns how many are ready.
  virtual int Wait(int timeout_ms) = 0;
  // Runs the callbacks of the ready events. Returns true when a Wake()
  // arrived among them.
  virtual bool Dispatch() = 0;
  // Makes a concurrent or the next Wait() return.
  virtual void Wake() = 0;
};

enum class IoEngine { kEpoll, kUring };

// The loop of `engine`. `shared_listeners`: other threads' loops listen on
// the same sockets (io_uring then accepts on readiness, kv/uring_loop.h).
StatusOr<std::unique_ptr<IoLoop>> CreateIoLoop(IoEngine engine,
                                               bool shared_listeners);

// The engine for the io-engine setting ("auto", "epoll", "io_uring") on
// this kernel, probed by setting up an io_uring as the loop does. "auto"
// falls back to epoll, with the reason in *note; "io_uring" fails when the
// probe does.
StatusOr<IoEngine> ResolveIoEngine(std::string_view setting, std::string* note);

std::string_view IoEngineName(IoEngine engine);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_IO_LOOP_H_
