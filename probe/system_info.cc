#include "probe/system_info.h"

#include <sys/resource.h>
#include <time.h>

#include <cstdio>

namespace daxkv::probe {

FaultCounts ThreadFaultCounts() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return {static_cast<uint64_t>(ru.ru_minflt),
          static_cast<uint64_t>(ru.ru_majflt)};
}

uint64_t ThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u +
         static_cast<uint64_t>(ts.tv_nsec);
}

FaultAround FaultAroundBytes() {
  FaultAround out;
  std::FILE* f = std::fopen("/sys/kernel/debug/fault_around_bytes", "r");
  if (f == nullptr) return out;
  unsigned long long v = 0;
  if (std::fscanf(f, "%llu", &v) == 1 && v > 0) {
    out.bytes = static_cast<size_t>(v);
    out.from_debugfs = true;
  }
  std::fclose(f);
  return out;
}

}  // namespace daxkv::probe
