// Server: daxkv-server's process-level wiring: opens the pool (recovering
// it), binds the listening sockets, runs the I/O threads until SIGTERM,
// SIGINT or SHUTDOWN, then drains them and closes the engine cleanly.
//
// Thread-safety: Open and Run are called from the main thread.
#ifndef DAXKV_KV_SERVER_H_
#define DAXKV_KV_SERVER_H_

#include <memory>
#include <vector>

#include "base/status.h"
#include "base/statusor.h"
#include "engine/db.h"
#include "kv/io_thread.h"
#include "kv/server_config.h"
#include "kv/server_state.h"

namespace daxkv::kv {

class Server {
 public:
  // Prints the backing, its durability mode and the recovery time.
  // REQUIRES: SIGTERM and SIGINT are blocked in the calling thread (so
  // every thread created inherits the mask) and SIGPIPE is ignored.
  static StatusOr<std::unique_ptr<Server>> Open(const ServerConfig& config);
  ~Server();

  // Serves until a shutdown signal or SHUTDOWN, then drains. Returns OK on a
  // clean shutdown.
  Status Run();

 private:
  Server() = default;
  Status Bind();
  Status CreateThreads();
  void StopThreads();

  ServerConfig config_;
  std::unique_ptr<engine::DB> db_;
  std::unique_ptr<ServerState> state_;
  std::vector<int> listen_fds_;  // shared by every I/O thread
  IoThreadGroup group_;
  std::vector<std::unique_ptr<IoThread>> threads_;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_SERVER_H_
