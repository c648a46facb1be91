// Three ways to learn which pages of a range were written since the last
// look: the PAGEMAP_SCAN ioctl on /proc/PID/pagemap (which classifies page
// ranges and write-protects them in one call: dirty tracking without
// soft-dirty) next to the two older mechanisms:
//  - kWpAsync: userfaultfd WP with UFFD_FEATURE_WP_ASYNC; the kernel
//    resolves write faults itself and PAGEMAP_SCAN (PAGE_IS_WRITTEN,
//    PM_SCAN_WP_MATCHING) reports and re-protects the written pages in one
//    ioctl.
//  - kSoftDirty: /proc/self/clear_refs "4" then /proc/self/pagemap bit 55.
//    clear_refs acts on the WHOLE process, not just the range.
//  - kMprotect: mprotect(PROT_READ), a SIGSEGV handler records the page and
//    makes it writable again.
//
// Thread-safety: thread-compatible. At most one kMprotect tracker may exist
// per process (it owns the SIGSEGV handler while it lives).
#ifndef DAXKV_PROBE_DIRTY_TRACKING_H_
#define DAXKV_PROBE_DIRTY_TRACKING_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/status.h"
#include "base/statusor.h"

namespace daxkv::probe {

enum class DirtyTrackingMethod { kWpAsync, kSoftDirty, kMprotect };
const char* DirtyTrackingMethodName(DirtyTrackingMethod m);

class DirtyTracker {
 public:
  // Starts tracking [addr, addr+len). REQUIRES: page-aligned, writable
  // private anonymous memory (or shmem for kSoftDirty/kMprotect) that
  // outlives the tracker. NotSupported names the missing kernel feature.
  static StatusOr<std::unique_ptr<DirtyTracker>> Create(
      DirtyTrackingMethod method, void* addr, size_t len);
  virtual ~DirtyTracker() = default;

  virtual DirtyTrackingMethod method() const = 0;
  // Forgets what was written so far; later writes are recorded afresh.
  virtual Status Reset() = 0;
  // Returns the number of 4 KiB pages written since the last Reset() or
  // Collect(), and re-arms tracking (a Collect() implies a Reset()).
  virtual StatusOr<uint64_t> Collect() = 0;
};

}  // namespace daxkv::probe

#endif  // DAXKV_PROBE_DIRTY_TRACKING_H_
