// Per-thread fault counters and the fault-path tunables that decide how
// many faults a touch of N pages should take. Kernel release, CPU and THP
// settings live in probe/features.h.
//
// Thread-safety: every function is safe to call from any thread.
#ifndef DAXKV_PROBE_SYSTEM_INFO_H_
#define DAXKV_PROBE_SYSTEM_INFO_H_

#include <cstddef>
#include <cstdint>

namespace daxkv::probe {

// Page faults the CALLING thread has taken so far (getrusage RUSAGE_THREAD).
// A fault resolved through a userfaultfd handler is retried and the kernel
// counts the retry as major (FAULT_FLAG_TRIED), so callers that count
// faults add both.
struct FaultCounts {
  uint64_t minor = 0;
  uint64_t major = 0;
  uint64_t total() const { return minor + major; }
};
FaultCounts ThreadFaultCounts();

// CPU time the calling thread has used, in ns (CLOCK_THREAD_CPUTIME_ID):
// unlike wall time it excludes time the thread spent preempted, which on a
// shared machine dominates the tail of fault timings.
uint64_t ThreadCpuNs();

struct FaultAround {
  size_t bytes = 65536;       // the kernel default
  bool from_debugfs = false;  // false: debugfs unreadable, default assumed
};
// How many bytes a read fault on a cached file page maps around the faulting
// address (/sys/kernel/debug/fault_around_bytes).
FaultAround FaultAroundBytes();

}  // namespace daxkv::probe

#endif  // DAXKV_PROBE_SYSTEM_INFO_H_
