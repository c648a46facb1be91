#include "probe/features.h"

#include <fcntl.h>
#include <linux/io_uring.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "dax/scoped_fd.h"
#include "probe/linux_compat.h"
#include "probe/page_state.h"

namespace daxkv::probe {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

// One written anonymous page, unmapped on scope exit: the subject of the
// pagemap probes.
class ProbePage {
 public:
  ProbePage()
      : len_(static_cast<size_t>(sysconf(_SC_PAGESIZE))),
        addr_(mmap(nullptr, len_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) {
    if (addr_ == MAP_FAILED) {
      error_ = "cannot map a probe page: " + ErrnoText(errno);
    } else {
      static_cast<volatile char*>(addr_)[0] = 1;
    }
  }
  ~ProbePage() {
    if (addr_ != MAP_FAILED) munmap(addr_, len_);
  }
  ProbePage(const ProbePage&) = delete;
  ProbePage& operator=(const ProbePage&) = delete;
  bool ok() const { return addr_ != MAP_FAILED; }
  const std::string& error() const { return error_; }
  uint64_t start() const { return reinterpret_cast<uintptr_t>(addr_); }
  uint64_t end() const { return start() + len_; }

 private:
  size_t len_;
  void* addr_;
  std::string error_;
};

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// UAPI order (include/uapi/linux/userfaultfd.h); RWP and RWP_ASYNC
// (read-write protection tracking) came after MOVE.
constexpr std::array<const char*, 19> kUffdFeatureNames = {
    "PAGEFAULT_FLAG_WP",
    "EVENT_FORK",
    "EVENT_REMAP",
    "EVENT_REMOVE",
    "MISSING_HUGETLBFS",
    "MISSING_SHMEM",
    "EVENT_UNMAP",
    "SIGBUS",
    "THREAD_ID",
    "MINOR_HUGETLBFS",
    "MINOR_SHMEM",
    "EXACT_ADDRESS",
    "WP_HUGETLBFS_SHMEM",
    "WP_UNPOPULATED",
    "POISON",
    "WP_ASYNC",
    "MOVE",
    "RWP",
    "RWP_ASYNC",
};

// Returns a userfaultfd descriptor, or -errno; records how it was opened.
int OpenUserfaultfd(std::string* via) {
  int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
  if (dev >= 0) {
    int fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
    close(dev);
    if (fd >= 0) {
      *via = "/dev/userfaultfd";
      return fd;
    }
  }
  int fd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  if (fd >= 0) {
    *via = "syscall";
    return fd;
  }
  if (errno != EPERM) return -errno;
  // vm.unprivileged_userfaultfd=0 still allows faults from user mode only.
  fd = static_cast<int>(
      syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY));
  if (fd < 0) return -errno;
  *via = "syscall (user-mode only)";
  return fd;
}

std::string CpuInfoField(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

bool HasCpuFlag(const std::string& flags, const std::string& flag) {
  std::stringstream ss(flags);
  std::string word;
  while (ss >> word) {
    if (word == flag) return true;
  }
  return false;
}

int64_t HugepageSizeKb() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t value = 0;
  std::string unit;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "Hugepagesize:") return value;
  }
  return 0;
}

// Maps `len` bytes of `fd` MAP_SHARED_VALIDATE|MAP_SYNC; returns 0 or errno.
int TryMapSync(int fd, size_t len, int prot) {
  void* p = mmap(nullptr, len, prot, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
  if (p == MAP_FAILED) return errno;
  munmap(p, len);
  return 0;
}

// Opens an unnamed scratch file in `dir`; -errno on failure.
int OpenScratchFile(const std::string& dir) {
  int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string templ = dir + "/.daxkv-mapsync-XXXXXX";
  fd = mkostemp(templ.data(), O_CLOEXEC);
  if (fd < 0) return -errno;
  unlink(templ.c_str());
  return fd;
}

StatusOr<bool> MapSyncResult(const std::string& path, int err) {
  if (err == 0) return true;
  if (err == EOPNOTSUPP) return false;
  return IOError("MAP_SYNC probe on " + path +
                 ": mmap failed: " + ErrnoText(err));
}

}  // namespace

bool UffdSupport::minor_shmem() const { return Has(UFFD_FEATURE_MINOR_SHMEM); }
bool UffdSupport::wp_async() const { return Has(UFFD_FEATURE_WP_ASYNC); }
bool UffdSupport::move() const { return Has(UFFD_FEATURE_MOVE); }
bool UffdSupport::wp_unpopulated() const {
  return Has(UFFD_FEATURE_WP_UNPOPULATED);
}

std::vector<std::string> UffdFeatureNames(uint64_t features) {
  std::vector<std::string> names;
  for (int bit = 0; bit < 64; ++bit) {
    if ((features & (uint64_t{1} << bit)) == 0) continue;
    if (bit < static_cast<int>(kUffdFeatureNames.size())) {
      names.emplace_back(kUffdFeatureNames[bit]);
    } else {
      names.push_back("bit" + std::to_string(bit));
    }
  }
  return names;
}

UffdSupport ProbeUserfaultfd() {
  UffdSupport s;
  int fd = OpenUserfaultfd(&s.opened_via);
  if (fd < 0) {
    s.error = "cannot open a userfaultfd: " + ErrnoText(-fd);
    return s;
  }
  dax::ScopedFd guard(fd);
  struct uffdio_api api = {};
  api.api = UFFD_API;
  api.features = 0;  // asks for nothing; the kernel reports what it offers
  if (ioctl(fd, UFFDIO_API, &api) != 0) {
    s.error = "UFFDIO_API failed: " + ErrnoText(errno);
    return s;
  }
  s.available = true;
  s.features = api.features;
  s.ioctls = api.ioctls;
  return s;
}

ProbeResult ProbePagemapScan() {
  ProbeResult r;
  ProbePage page;
  if (!page.ok()) {
    r.detail = page.error();
    return r;
  }
  dax::ScopedFd fd(open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    r.detail = "cannot open /proc/self/pagemap: " + ErrnoText(errno);
    return r;
  }
  struct page_region region = {};
  struct pm_scan_arg arg = {};
  arg.size = sizeof(arg);
  arg.start = page.start();
  arg.end = page.end();
  arg.vec = reinterpret_cast<uintptr_t>(&region);
  arg.vec_len = 1;
  // Ask for every category ScanPages asks for, so "available" means the
  // scans daxkv runs work; PAGE_IS_GUARD is the one a 6.7-6.13 kernel
  // lacks (ScanPages then scans without it).
  arg.return_mask = kAllPageCategories;
  long n = ioctl(fd.get(), PAGEMAP_SCAN, &arg);
  bool guard = true;
  if (n < 0 && errno == EINVAL) {
    arg.return_mask &= ~kPageIsGuard;
    n = ioctl(fd.get(), PAGEMAP_SCAN, &arg);
    guard = false;
  }
  if (n < 0) {
    int err = errno;
    r.detail = (err == EINVAL || err == ENOTTY)
                   ? "PAGEMAP_SCAN not supported by this kernel (" +
                         ErrnoText(err) + ")"
                   : "PAGEMAP_SCAN failed: " + ErrnoText(err);
    return r;
  }
  r.available = true;
  r.detail = guard ? "ioctl on /proc/self/pagemap"
                   : "ioctl on /proc/self/pagemap (no PAGE_IS_GUARD: Linux "
                     "< 6.14)";
  return r;
}

ProbeResult ProbeIoUring() {
  ProbeResult r;
  struct io_uring_params params = {};
  int fd = static_cast<int>(syscall(__NR_io_uring_setup, 1, &params));
  if (fd < 0) {
    r.detail = "io_uring_setup: " + ErrnoText(errno);
    return r;
  }
  close(fd);
  r.available = true;
  r.detail = "io_uring_setup";
  return r;
}

ProbeResult ProbeKpageflags() {
  ProbeResult r;
  dax::ScopedFd fd(open("/proc/kpageflags", O_RDONLY | O_CLOEXEC));
  uint64_t flags = 0;
  if (fd.get() < 0 || pread(fd.get(), &flags, sizeof(flags), 0) < 0) {
    r.detail = "/proc/kpageflags: " + ErrnoText(errno) + " (needs root)";
    return r;
  }
  r.available = true;
  r.detail = "/proc/kpageflags and /proc/kpagecount (not for ZONE_DEVICE)";
  return r;
}

ProbeResult ProbeSoftDirty() {
  ProbeResult r;
  ProbePage page;
  if (!page.ok()) {
    r.detail = page.error();
    return r;
  }
  StatusOr<std::vector<PagemapEntry>> e = ReadPagemap(page.start(), page.end());
  if (!e.ok() || e->empty()) {
    r.detail = e.ok() ? "empty pagemap read" : e.status().ToString();
    return r;
  }
  r.available = (*e)[0].soft_dirty;
  r.detail = r.available ? "pagemap bit 55 after clear_refs 4"
                         : "a freshly written page is not soft-dirty: "
                           "kernel built without CONFIG_MEM_SOFT_DIRTY";
  return r;
}

std::string SelectedChoice(const std::string& text) {
  size_t open_br = text.find('[');
  size_t close_br = text.find(']', open_br == std::string::npos ? 0 : open_br);
  if (open_br == std::string::npos || close_br == std::string::npos) {
    return text;
  }
  return text.substr(open_br + 1, close_br - open_br - 1);
}

ThpSettings ReadThpSettings() {
  const std::string base = "/sys/kernel/mm/transparent_hugepage/";
  ThpSettings t;
  t.enabled = SelectedChoice(ReadFirstLine(base + "enabled"));
  t.shmem_enabled = SelectedChoice(ReadFirstLine(base + "shmem_enabled"));
  t.defrag = SelectedChoice(ReadFirstLine(base + "defrag"));
  std::string nr = ReadFirstLine("/proc/sys/vm/nr_hugepages");
  if (!nr.empty()) t.nr_hugepages = std::strtoll(nr.c_str(), nullptr, 10);
  t.hugepage_size_kb = HugepageSizeKb();
  return t;
}

std::string KernelRelease() {
  struct utsname u;
  if (uname(&u) != 0) return "";
  return u.release;
}

std::string CpuModel() { return CpuInfoField("model name"); }

std::pair<int, int> ParseKernelVersion(const std::string& release) {
  int major = 0;
  int minor = 0;
  if (std::sscanf(release.c_str(), "%d.%d", &major, &minor) != 2) {
    return {0, 0};
  }
  return {major, minor};
}

KernelFeatures ProbeKernelFeatures() {
  KernelFeatures f;
  f.kernel_release = KernelRelease();
  f.cpu_model = CpuModel();
  std::string flags = CpuInfoField("flags");
  f.cpu_clwb = HasCpuFlag(flags, "clwb");
  f.cpu_clflushopt = HasCpuFlag(flags, "clflushopt");
  f.userfaultfd = ProbeUserfaultfd();
  f.pagemap_scan = ProbePagemapScan();
  f.io_uring = ProbeIoUring();
  f.kpageflags = ProbeKpageflags();
  f.soft_dirty = ProbeSoftDirty();
  f.thp = ReadThpSettings();
  return f;
}

StatusOr<bool> ProbeMapSync(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return NotFoundError("MAP_SYNC probe: cannot stat " + path + ": " +
                         ErrnoText(errno));
  }
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (S_ISDIR(st.st_mode)) {
    int fd = OpenScratchFile(path);
    if (fd < 0) {
      return IOError("MAP_SYNC probe: cannot create a scratch file in " + path +
                     ": " + ErrnoText(-fd));
    }
    dax::ScopedFd guard(fd);
    if (ftruncate(fd, static_cast<off_t>(page)) != 0) {
      return IOError("MAP_SYNC probe: cannot size a scratch file in " + path +
                     ": " + ErrnoText(errno));
    }
    return MapSyncResult(path, TryMapSync(fd, page, PROT_READ | PROT_WRITE));
  }
  dax::ScopedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return IOError("MAP_SYNC probe: cannot open " + path + ": " +
                   ErrnoText(errno));
  }
  if (!S_ISCHR(st.st_mode)) {
    return MapSyncResult(path, TryMapSync(fd.get(), page, PROT_READ));
  }
  // Device-dax refuses mappings smaller than its alignment (EINVAL), so
  // grow through the alignments it may have.
  int err = EINVAL;
  for (size_t len : {page, size_t{2} << 20, size_t{1} << 30}) {
    err = TryMapSync(fd.get(), len, PROT_READ);
    if (err != EINVAL) break;
  }
  return MapSyncResult(path, err);
}

}  // namespace daxkv::probe
