// Feature probes must agree with what the kernel really does: each test
// exercises the feature for real and compares with the probe's answer.
#include "probe/features.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "probe/linux_compat.h"
#include "probe/page_state.h"
#include "tests/support/env.h"
#include "tests/support/status_matchers.h"

namespace daxkv::probe {
namespace {

const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));

using ::daxkv::testing::Env;

// Runs PAGEMAP_SCAN over [addr, addr+len) returning the categories of the
// first region, or -errno.
long ScanFirst(void* addr, size_t len, uint64_t* categories, uint64_t* end) {
  int fd = open("/proc/self/pagemap", O_RDONLY);
  if (fd < 0) return -errno;
  struct page_region region = {};
  struct pm_scan_arg arg = {};
  arg.size = sizeof(arg);
  arg.start = reinterpret_cast<uintptr_t>(addr);
  arg.end = arg.start + len;
  arg.vec = reinterpret_cast<uintptr_t>(&region);
  arg.vec_len = 1;
  arg.return_mask = PAGE_IS_PRESENT | PAGE_IS_WRITTEN | PAGE_IS_FILE;
  long n = ioctl(fd, PAGEMAP_SCAN, &arg);
  long result = n < 0 ? -errno : n;
  close(fd);
  *categories = region.categories;
  *end = region.end;
  return result;
}

TEST(FeaturesTest, PagemapScanProbeMatchesARealScan) {
  ProbeResult probe = ProbePagemapScan();
  void* p = mmap(nullptr, 2 * kPage, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  static_cast<volatile char*>(p)[0] = 7;  // page 0 touched, page 1 not
  uint64_t categories = 0;
  uint64_t end = 0;
  long n = ScanFirst(p, 2 * kPage, &categories, &end);
  munmap(p, 2 * kPage);
  if (!probe.available) {
    EXPECT_TRUE(n == -EINVAL || n == -ENOTTY)
        << "probe said absent (" << probe.detail << "), scan " << n;
    return;
  }
  ASSERT_EQ(n, 1) << std::strerror(static_cast<int>(-n));
  EXPECT_TRUE(categories & PAGE_IS_PRESENT);
  EXPECT_FALSE(categories & PAGE_IS_FILE);
  // Only the touched page is in the run: the untouched one is not present.
  EXPECT_EQ(end, reinterpret_cast<uintptr_t>(p) + kPage);
}

int NewUffd(uint64_t features) {
  int fd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  if (fd < 0 && errno == EPERM) {
    fd = static_cast<int>(
        syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY));
  }
  if (fd < 0) return -errno;
  struct uffdio_api api = {};
  api.api = UFFD_API;
  api.features = features;
  if (ioctl(fd, UFFDIO_API, &api) != 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

TEST(FeaturesTest, UffdProbeReportsUsableFeatures) {
  UffdSupport uffd = ProbeUserfaultfd();
  if (!uffd.available) {
    EXPECT_LT(NewUffd(0), 0) << "probe said no userfaultfd: " << uffd.error;
    return;
  }
  EXPECT_FALSE(uffd.opened_via.empty());
  // Each advertised feature must be accepted when asked for on its own.
  for (uint64_t bit :
       {uint64_t{UFFD_FEATURE_MINOR_SHMEM}, uint64_t{UFFD_FEATURE_WP_ASYNC},
        uint64_t{UFFD_FEATURE_MOVE}, uint64_t{UFFD_FEATURE_WP_UNPOPULATED}}) {
    if (!uffd.Has(bit)) continue;
    int fd = NewUffd(bit);
    EXPECT_GE(fd, 0) << UffdFeatureNames(bit)[0] << ": " << std::strerror(-fd);
    if (fd >= 0) close(fd);
  }
}

TEST(FeaturesTest, UffdMoveReallyMovesAPage) {
  UffdSupport uffd = ProbeUserfaultfd();
  if (!uffd.move()) GTEST_SKIP() << "probe: no UFFD_FEATURE_MOVE";
  int fd = NewUffd(UFFD_FEATURE_MOVE);
  ASSERT_GE(fd, 0) << std::strerror(-fd);
  char* src = static_cast<char*>(mmap(nullptr, kPage, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  char* dst = static_cast<char*>(mmap(nullptr, kPage, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(src, MAP_FAILED);
  ASSERT_NE(dst, MAP_FAILED);
  std::memset(src, 0x5a, kPage);
  struct uffdio_register reg = {};
  reg.range.start = reinterpret_cast<uintptr_t>(dst);
  reg.range.len = kPage;
  reg.mode = UFFDIO_REGISTER_MODE_MISSING;
  ASSERT_EQ(ioctl(fd, UFFDIO_REGISTER, &reg), 0) << std::strerror(errno);
  struct uffdio_move mv = {};
  mv.dst = reinterpret_cast<uintptr_t>(dst);
  mv.src = reinterpret_cast<uintptr_t>(src);
  mv.len = kPage;
  ASSERT_EQ(ioctl(fd, UFFDIO_MOVE, &mv), 0) << std::strerror(errno);
  EXPECT_EQ(mv.move, static_cast<int64_t>(kPage));
  EXPECT_EQ(dst[0], 0x5a);
  EXPECT_EQ(dst[kPage - 1], 0x5a);
  EXPECT_EQ(src[0], 0);  // the source is a fresh zero page now
  close(fd);
  munmap(src, kPage);
  munmap(dst, kPage);
}

TEST(FeaturesTest, UffdMinorShmemRegistersOnMemfd) {
  UffdSupport uffd = ProbeUserfaultfd();
  if (!uffd.minor_shmem()) GTEST_SKIP() << "probe: no UFFD_FEATURE_MINOR_SHMEM";
  int fd = NewUffd(UFFD_FEATURE_MINOR_SHMEM);
  ASSERT_GE(fd, 0) << std::strerror(-fd);
  int mfd = memfd_create("daxkv-minor", MFD_CLOEXEC);
  ASSERT_GE(mfd, 0);
  ASSERT_EQ(ftruncate(mfd, static_cast<off_t>(kPage)), 0);
  void* p = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
  ASSERT_NE(p, MAP_FAILED);
  struct uffdio_register reg = {};
  reg.range.start = reinterpret_cast<uintptr_t>(p);
  reg.range.len = kPage;
  reg.mode = UFFDIO_REGISTER_MODE_MINOR;
  EXPECT_EQ(ioctl(fd, UFFDIO_REGISTER, &reg), 0) << std::strerror(errno);
  EXPECT_TRUE(reg.ioctls & (uint64_t{1} << _UFFDIO_CONTINUE));
  munmap(p, kPage);
  close(mfd);
  close(fd);
}

TEST(FeaturesTest, UffdFeatureNamesDecodeBits) {
  std::vector<std::string> names = UffdFeatureNames(
      UFFD_FEATURE_MINOR_SHMEM | UFFD_FEATURE_MOVE | (uint64_t{1} << 40));
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0], "MINOR_SHMEM");
  EXPECT_EQ(names[1], "MOVE");
  EXPECT_EQ(names[2], "bit40");
}

// 7.x kernels report 0x7ffff: bits 17 and 18 are RWP and RWP_ASYNC.
TEST(FeaturesTest, UffdFeatureNamesKnowTheSevenXBits) {
  std::vector<std::string> names = UffdFeatureNames(0x7ffff);
  ASSERT_EQ(names.size(), 19u);
  EXPECT_EQ(names[16], "MOVE");
  EXPECT_EQ(names[17], "RWP");
  EXPECT_EQ(names[18], "RWP_ASYNC");
}

TEST(FeaturesTest, MapSyncIsRefusedOnTmpfs) {
  StatusOr<bool> shm = ProbeMapSync("/dev/shm");
  ASSERT_OK(shm);
  EXPECT_FALSE(*shm);
  // An actual MAP_SYNC mapping on /dev/shm fails the same way.
  int fd = open("/dev/shm", O_TMPFILE | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, static_cast<off_t>(kPage)), 0);
  void* p =
      mmap(nullptr, kPage, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
  EXPECT_EQ(p, MAP_FAILED);
  EXPECT_EQ(errno, EOPNOTSUPP);
  close(fd);
}

TEST(FeaturesTest, MapSyncProbeOnMissingPathIsAnError) {
  StatusOr<bool> r = ProbeMapSync("/nonexistent/daxkv");
  ASSERT_THAT(r, StatusIs(StatusCode::kNotFound));
  EXPECT_NE(r.status().ToString().find("/nonexistent/daxkv"),
            std::string::npos);
}

TEST(FeaturesTest, MapSyncWorksOnRealFsDax) {
  const char* dir = Env("DAXKV_TEST_FSDAX_DIR");
  if (dir == nullptr) GTEST_SKIP() << "DAXKV_TEST_FSDAX_DIR is not set";
  StatusOr<bool> r = ProbeMapSync(dir);
  ASSERT_OK(r);
  EXPECT_TRUE(*r);
}

TEST(FeaturesTest, MapSyncWorksOnRealDevDax) {
  const char* dev = Env("DAXKV_TEST_DEVDAX");
  if (dev == nullptr) GTEST_SKIP() << "DAXKV_TEST_DEVDAX is not set";
  StatusOr<bool> r = ProbeMapSync(dev);
  ASSERT_OK(r);
  EXPECT_TRUE(*r);
}

TEST(FeaturesTest, IoUringProbeMatchesSetup) {
  ProbeResult probe = ProbeIoUring();
  struct io_uring_params params = {};
  int fd = static_cast<int>(syscall(__NR_io_uring_setup, 4, &params));
  EXPECT_EQ(probe.available, fd >= 0) << probe.detail;
  if (fd >= 0) close(fd);
}

TEST(FeaturesTest, ThpSettingsAreASelectedChoice) {
  ThpSettings t = ReadThpSettings();
  if (t.enabled.empty()) GTEST_SKIP() << "no transparent_hugepage in sysfs";
  EXPECT_TRUE(t.enabled == "always" || t.enabled == "madvise" ||
              t.enabled == "never")
      << t.enabled;
  EXPECT_EQ(t.enabled.find('['), std::string::npos);
  EXPECT_GT(t.hugepage_size_kb, 0);
  EXPECT_GE(t.nr_hugepages, 0);
}

TEST(FeaturesTest, SelectedChoiceAndVersionParsing) {
  EXPECT_EQ(SelectedChoice("always [madvise] never"), "madvise");
  EXPECT_EQ(SelectedChoice("[never]"), "never");
  EXPECT_EQ(ParseKernelVersion("6.18.0-daxkv"), std::make_pair(6, 18));
  EXPECT_EQ(ParseKernelVersion("6.1.0-27-amd64"), std::make_pair(6, 1));
  EXPECT_EQ(ParseKernelVersion("garbage"), std::make_pair(0, 0));
}

TEST(FeaturesTest, SoftDirtyProbeMatchesClearRefs) {
  ProbeResult probe = ProbeSoftDirty();
  void* p = mmap(nullptr, kPage, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  static_cast<volatile char*>(p)[0] = 1;
  const uint64_t a = reinterpret_cast<uintptr_t>(p);
  ASSERT_OK(ClearSoftDirty());
  StatusOr<std::vector<PagemapEntry>> cleared = ReadPagemap(a, a + kPage);
  static_cast<volatile char*>(p)[0] = 2;
  StatusOr<std::vector<PagemapEntry>> written = ReadPagemap(a, a + kPage);
  munmap(p, kPage);
  ASSERT_OK(cleared);
  ASSERT_OK(written);
  EXPECT_FALSE((*cleared)[0].soft_dirty);
  EXPECT_EQ((*written)[0].soft_dirty, probe.available) << probe.detail;
}

TEST(FeaturesTest, KernelFeaturesAreFilledIn) {
  KernelFeatures f = ProbeKernelFeatures();
  EXPECT_FALSE(f.kernel_release.empty());
  EXPECT_EQ(f.kernel_release, KernelRelease());
  EXPECT_NE(ParseKernelVersion(f.kernel_release).first, 0);
}

}  // namespace
}  // namespace daxkv::probe
