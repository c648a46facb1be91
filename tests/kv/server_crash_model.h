// The server crash test's model (tests/kv/server_crash_test.cc): what each
// client was told, and the knobs of its workload.
//
// Thread-safety: Model is guarded by its mu; Snapshot is a copy.
#ifndef DAXKV_TESTS_KV_SERVER_CRASH_MODEL_H_
#define DAXKV_TESTS_KV_SERVER_CRASH_MODEL_H_

#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace daxkv::kv::server_crash {

using Value = std::optional<std::string>;  // nullopt: absent
using KeyModel = std::map<std::string, Value>;

inline constexpr int kClients = 4;
inline constexpr int kCounters = 3;

struct CrashEnv {
  int ops_per_client = 600;
  int images_per_point = 2;
  uint64_t seed = 1;
  bool compaction = true;  // DAXKV_SERVER_CRASH_NO_COMPACTION=1 turns off
  bool flushall = true;    // DAXKV_SERVER_CRASH_NO_FLUSHALL=1 turns off
  static CrashEnv Get() {
    CrashEnv e;
    e.compaction = std::getenv("DAXKV_SERVER_CRASH_NO_COMPACTION") == nullptr;
    e.flushall = std::getenv("DAXKV_SERVER_CRASH_NO_FLUSHALL") == nullptr;
    const char* lm = std::getenv("DAXKV_CRASH_LONG");
    bool long_mode = lm != nullptr && std::string(lm) == "1";
    double scale = 1.0;
    if (const char* s = std::getenv("DAXKV_CRASH_SCALE")) scale = std::atof(s);
    if (scale <= 0) scale = 1.0;
    e.ops_per_client =
        static_cast<int>(e.ops_per_client * scale * (long_mode ? 4 : 1));
    if (e.ops_per_client < 10) e.ops_per_client = 10;
    if (long_mode) e.images_per_point = 4;
    if (const char* s = std::getenv("DAXKV_CRASH_SEED")) {
      e.seed = std::strtoull(s, nullptr, 10);
    }
    return e;
  }
};

// One client request (MULTI..EXEC are sent together) and what it writes.
struct Op {
  std::string what;
  std::vector<std::vector<std::string>> requests;
  KeyModel writes;      // the client's own keys after the op
  bool atomic = true;   // all of `writes` or none after a crash
  std::string counter;  // a shared counter it INCRs ("" = none)
  // SET ... PX ttl_ms (0: no TTL). deadline_ms: the send time (wall clock)
  // plus ttl_ms, which the server's expiry time cannot precede: before it
  // the key must be readable.
  int64_t ttl_ms = 0;
  int64_t deadline_ms = 0;
};

struct Counter {
  int64_t sent = 0;   // INCRs sent (an upper bound)
  int64_t acked = 0;  // the highest INCR reply received
};

// What the clients have been told, as of one instant.
struct Snapshot {
  std::string history[kClients];
  KeyModel acked[kClients];
  // The deadline_ms of each key's acknowledged SET ... PX (keys set with a
  // TTL only): from then on the key may have expired.
  std::map<std::string, int64_t> deadline[kClients];
  std::optional<Op> inflight[kClients];
  std::map<std::string, Counter> counters;
  bool flush_inflight = false;
};

// The live model the clients update. Its fields are guarded by mu.
struct Model : Snapshot {
  std::mutex mu;
};

inline std::string Show(const Value& v) {
  return v ? "'" + v->substr(0, 32) + "'(" + std::to_string(v->size()) + ")"
           : "absent";
}

}  // namespace daxkv::kv::server_crash

#endif  // DAXKV_TESTS_KV_SERVER_CRASH_MODEL_H_
