#include "kv/io_loop.h"

#include "kv/event_loop.h"
#include "kv/uring_loop.h"

namespace daxkv::kv {

std::string_view IoEngineName(IoEngine engine) {
  return engine == IoEngine::kUring ? "io_uring" : "epoll";
}

StatusOr<std::unique_ptr<IoLoop>> CreateIoLoop(IoEngine engine,
                                               bool shared_listeners) {
  if (engine == IoEngine::kUring) {
    UringOptions options;
    options.multishot_accept = !shared_listeners;
    DAXKV_ASSIGN_OR_RETURN(auto loop, UringLoop::Create(options));
    return std::unique_ptr<IoLoop>(std::move(loop));
  }
  DAXKV_ASSIGN_OR_RETURN(auto loop, EpollLoop::Create());
  return std::unique_ptr<IoLoop>(std::move(loop));
}

StatusOr<IoEngine> ResolveIoEngine(std::string_view setting,
                                   std::string* note) {
  note->clear();
  if (setting == "epoll") return IoEngine::kEpoll;
  if (setting != "auto" && setting != "io_uring") {
    return InvalidArgumentError("io-engine must be auto, epoll or io_uring");
  }
  // The probe is the loop's own set-up: the ring with its flags, the
  // opcodes and the provided buffer ring.
  auto probe = UringLoop::Create();
  if (probe.ok()) return IoEngine::kUring;
  if (setting == "io_uring") {
    return probe.status().WithContext("io-engine io_uring");
  }
  *note =
      "io_uring unavailable (" + probe.status().ToString() + "): using epoll";
  return IoEngine::kEpoll;
}

}  // namespace daxkv::kv
