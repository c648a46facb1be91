// MonitorFeed: the clients in MONITOR mode and the feed of every command
// to them, as Redis 7.0 feeds it: one "+<unix s>.<us> [0 <client>] "arg"
// ..." line per command, arguments quoted and escaped as Redis's
// sdscatrepr, passwords redacted as in the slow log, "lua" for the Lua
// client. The line goes to each monitor's mailbox (kv/pubsub_client.h),
// which its own I/O thread moves to its output, bounded like a replica's
// output in Redis (kMonitorOutputLimit; over it the monitor is closed).
//
// Thread-safety: every method may be called from any thread; Add and
// Remove REQUIRE the monitor's own thread. A monitor is removed before it
// is destroyed (ServerState::Unregister).
#ifndef DAXKV_KV_MONITOR_H_
#define DAXKV_KV_MONITOR_H_

#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kv/client.h"

namespace daxkv::kv {

// One feed line: `unix_us` the time, `who` the client ("127.0.0.1:5000",
// "lua").
std::string MonitorLine(int64_t unix_us, std::string_view who,
                        std::span<const std::string_view> args);

class MonitorFeed {
 public:
  // Redis's default hard limit for replica-class output, monitors' class.
  static constexpr uint64_t kMonitorOutputLimit = uint64_t{256} << 20;

  // Whether any client monitors (one relaxed load: every command asks).
  bool active() const { return count_.load(std::memory_order_relaxed) > 0; }
  // Makes `c` a monitor; false when it already was.
  bool Add(Client* c);
  // Makes `c` stop monitoring, if it did.
  void Remove(Client* c);
  // Feeds a command `from` ran (its arguments already redacted).
  void Feed(const Client& from, std::span<const std::string_view> args);

 private:
  mutable std::shared_mutex mu_;
  std::vector<Client*> monitors_;  // guarded by mu_
  std::atomic<int> count_{0};
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_MONITOR_H_
