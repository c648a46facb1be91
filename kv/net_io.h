// Blocking I/O with time limits over non-blocking TCP sockets: the
// server's own connections to other servers (the replica link to its
// master, the master's feeds to its replicas, MIGRATE's connections to its
// targets) share these instead of each keeping a copy.
//
// Thread-safety: free functions; a socket is used by one thread at a time.
#ifndef DAXKV_KV_NET_IO_H_
#define DAXKV_KV_NET_IO_H_

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace daxkv::kv {

// Milliseconds of a monotonic clock (timeouts; never stored).
int64_t SteadyMs();

// A command as a RESP multibulk request.
std::string EncodeRespCommand(std::initializer_list<std::string_view> argv);
void AppendRespCommand(std::span<const std::string_view> argv,
                       std::string* out);

// Waits for `events` on fd; false on timeout.
bool WaitFd(int fd, short events, int timeout_ms);

// How long a send or a read may wait. A wait ends with IoTimeoutError()
// once no byte moved for `idle_timeout_ms` (-1: never), and with an
// IOError("stopping") as soon as `*stop` is set (checked every 100 ms).
struct IoLimits {
  int idle_timeout_ms = -1;
  const std::atomic<bool>* stop = nullptr;
};

// What a wait that ran out of time returns (an IOError), and the test.
Status IoTimeoutError();
bool IsIoTimeout(const Status& s);

// Starts a non-blocking TCP connect to host:port (each address the name
// resolves to in turn, as Redis's anetTcpNonBlockConnect) and waits up to
// timeout_ms for it to complete. Fails with *fd = -1 when no connect could
// even start (the name does not resolve, every address failed at once).
// Otherwise *fd is the socket, also when the connect then failed or timed
// out (the status says so): the caller closes it, or uses it as Redis's
// MIGRATE does and lets its first write fail.
Status ConnectTcp(const std::string& host, const std::string& port,
                  int timeout_ms, int* fd);

// Sends all of data. IOError with strerror(errno) when the socket fails.
Status SendAll(int fd, std::string_view data, const IoLimits& limits);

// Receives what is available on fd (at most 64 KiB) into buf after *pos,
// the unread part of buf, compacting buf when more than half of it was
// read; waits at most timeout_ms, and *n is 0 when nothing came. IOError
// when the peer closed the connection ("connection closed") or the socket
// failed.
Status RecvSome(int fd, int timeout_ms, std::string* buf, size_t* pos,
                size_t* n);

// Takes one line ("\n"-terminated, a trailing "\r" dropped) from buf at
// *pos; false when no complete line is there yet.
bool TakeLine(const std::string& buf, size_t* pos, std::string* line);

// Reads one line from fd, buffered in buf/pos (RecvSome).
Status ReadLine(int fd, const IoLimits& limits, std::string* buf, size_t* pos,
                std::string* line);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_NET_IO_H_
