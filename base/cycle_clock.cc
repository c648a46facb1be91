#include "base/cycle_clock.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace daxkv {
namespace {

#if defined(__x86_64__)
// CPUID 0x80000007 EDX bit 8: the TSC runs at a constant rate in every
// P-, C- and T-state (Linux's constant_tsc and nonstop_tsc).
bool InvariantTsc() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (static_cast<unsigned>(__get_cpuid_max(0x80000000, nullptr)) <
      0x80000007u) {
    return false;
  }
  if (!__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx)) return false;
  return (edx & (1u << 8)) != 0;
}

struct Pair {
  uint64_t tsc;
  uint64_t ns;
};

// A (TSC, steady ns) pair read back to back; retried while a preemption
// or an interrupt between the reads makes them far apart.
Pair ReadPair() {
  Pair best{0, 0};
  uint64_t best_gap = UINT64_MAX;
  for (int i = 0; i < 5; ++i) {
    const uint64_t before = __rdtsc();
    const uint64_t ns = CycleClock::SteadyNanos();
    const uint64_t after = __rdtsc();
    if (after - before < best_gap) {
      best_gap = after - before;
      best = {before + (after - before) / 2, ns};
    }
  }
  return best;
}
#endif

}  // namespace

CycleClock::Rate CycleClock::Calibrate() {
  Rate rate;
#if defined(__x86_64__)
  if (!InvariantTsc()) return rate;
  constexpr uint64_t kWindowNs = 1'000'000;
  const Pair start = ReadPair();
  Pair end = ReadPair();
  while (end.ns - start.ns < kWindowNs) end = ReadPair();
  if (end.tsc <= start.tsc) return rate;  // a TSC that went back: not used
  rate.tsc = true;
  rate.ticks_per_us = static_cast<double>(end.tsc - start.tsc) * 1000.0 /
                      static_cast<double>(end.ns - start.ns);
#endif
  return rate;
}

}  // namespace daxkv
