// Kernel features daxkv depends on, probed at run time.
//
// Every answer comes from asking the running kernel (open, ioctl, mmap,
// syscall) and never from its version number: distribution kernels
// backport, and configs switch things off. Where a probe cannot run (no
// permission), the result says so rather than guessing.
//
// Thread-safety: every function is safe to call concurrently; none caches.
// Probes create and release their own short-lived resources (a userfaultfd,
// an io_uring, a one-page mapping) and touch no caller state.
#ifndef DAXKV_PROBE_FEATURES_H_
#define DAXKV_PROBE_FEATURES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/statusor.h"

namespace daxkv::probe {

struct UffdSupport {
  bool available = false;
  // How a descriptor was obtained: "/dev/userfaultfd", "syscall",
  // "syscall (user-mode only)", or empty when none could be.
  std::string opened_via;
  std::string error;      // why unavailable (errno text), else empty
  uint64_t features = 0;  // UFFDIO_API's reported feature bits
  uint64_t ioctls = 0;    // UFFDIO_API's reported ioctl bits

  bool Has(uint64_t feature_bit) const {
    return (features & feature_bit) == feature_bit;
  }
  bool minor_shmem() const;
  bool wp_async() const;
  bool move() const;
  bool wp_unpopulated() const;
};

// Names of the set UFFD_FEATURE_* bits ("MINOR_SHMEM", "MOVE", ...), in bit
// order; unknown bits come out as "bit17".
std::vector<std::string> UffdFeatureNames(uint64_t features);

struct ProbeResult {
  bool available = false;
  std::string detail;  // errno text on failure, a hint on success
};

struct ThpSettings {
  std::string enabled;        // the bracketed choice: "always", "madvise"...
  std::string shmem_enabled;  // "never", "within_size", ...
  std::string defrag;
  int64_t nr_hugepages = -1;     // default-size hugetlb pool; -1 unreadable
  int64_t hugepage_size_kb = 0;  // Hugepagesize from /proc/meminfo
};

struct KernelFeatures {
  std::string kernel_release;  // uname -r
  std::string cpu_model;       // /proc/cpuinfo "model name"
  bool cpu_clwb = false;
  bool cpu_clflushopt = false;
  UffdSupport userfaultfd;
  ProbeResult pagemap_scan;
  ProbeResult io_uring;
  ProbeResult kpageflags;  // /proc/kpageflags readable (root)
  ProbeResult soft_dirty;  // CONFIG_MEM_SOFT_DIRTY: pagemap bit 55 works
  ThpSettings thp;
};

// Runs every probe below. Takes a few milliseconds.
KernelFeatures ProbeKernelFeatures();

UffdSupport ProbeUserfaultfd();
// Issues PAGEMAP_SCAN on /proc/self/pagemap over a page this probe maps.
// EINVAL/ENOTTY (older kernel) -> unavailable.
ProbeResult ProbePagemapScan();
ProbeResult ProbeIoUring();
ProbeResult ProbeKpageflags();
// Writes a fresh anonymous page and checks that pagemap reports it
// soft-dirty (bit 55); kernels without CONFIG_MEM_SOFT_DIRTY never do.
ProbeResult ProbeSoftDirty();
ThpSettings ReadThpSettings();
std::string KernelRelease();
std::string CpuModel();

// Returns "[a] b c" -> "a": the selected word of a sysfs choice list.
std::string SelectedChoice(const std::string& sysfs_text);

// Whether MAP_SHARED_VALIDATE|MAP_SYNC mappings work for `path`: a
// directory (a temporary file is created in it and removed), a regular file
// (mapped read-only), or a device-dax character device. EOPNOTSUPP ->
// false. Errors only when the probe itself cannot run (missing path, no
// permission), naming the path and the cause.
StatusOr<bool> ProbeMapSync(const std::string& path);

// The kernel release's (major, minor), e.g. "6.18.0-foo" -> (6, 18);
// (0, 0) when it does not parse. Only for reporting and the one documented
// version fallback (fault_path.h); feature decisions use the probes above.
std::pair<int, int> ParseKernelVersion(const std::string& release);

}  // namespace daxkv::probe

#endif  // DAXKV_PROBE_FEATURES_H_
