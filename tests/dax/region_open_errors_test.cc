// OpenRegion() refuses bad input with a clear error: the right code and a
// message that names the path.
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <string>

#include "dax/pmem2_region.h"
#include "dax/region.h"
#include "tests/dax/region_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::dax {
namespace {

using ::testing::HasSubstr;

using testing::CreateOptions;
using testing::ScopedForceGranularity;
using testing::TempPaths;

void ExpectError(const StatusOr<std::unique_ptr<Region>>& result,
                 StatusCode code, const std::string& path) {
  EXPECT_THAT(result, StatusIs(code, HasSubstr(path)))
      << path << " opened unexpectedly";
}

bool Exists(const std::string& path) {
  struct stat st = {};
  return stat(path.c_str(), &st) == 0;
}

TEST(RegionOpenErrors, MissingPathWithoutCreateIsNotFound) {
  TempPaths paths;
  const std::string path = paths.Make("/dev/shm");
  ExpectError(OpenRegion(path, OpenOptions()), StatusCode::kNotFound, path);
  EXPECT_FALSE(Exists(path));
}

TEST(RegionOpenErrors, MissingDirectoryOnCreateIsNotFound) {
  const std::string path = "/dev/shm/daxkv-no-such-dir/pool";
  ExpectError(OpenRegion(path, CreateOptions(1 << 20)), StatusCode::kNotFound,
              path);
}

TEST(RegionOpenErrors, ReadOnlyNeverCreates) {
  TempPaths paths;
  const std::string path = paths.Make("/dev/shm");
  OpenOptions o = CreateOptions(1 << 20);
  o.read_only = true;
  ExpectError(OpenRegion(path, o), StatusCode::kNotFound, path);
  EXPECT_FALSE(Exists(path));
}

TEST(RegionOpenErrors, TooSmallCreateSizeIsInvalidArgument) {
  TempPaths paths;
  for (size_t size : {size_t{0}, size_t{4096}, kMinRegionSize - 4096}) {
    const std::string path = paths.Make("/dev/shm");
    ExpectError(OpenRegion(path, CreateOptions(size)),
                StatusCode::kInvalidArgument, path);
    EXPECT_FALSE(Exists(path)) << "size " << size;
  }
}

TEST(RegionOpenErrors, UnalignedCreateSizeIsInvalidArgument) {
  TempPaths paths;
  const std::string path = paths.Make("/dev/shm");
  ExpectError(OpenRegion(path, CreateOptions(kMinRegionSize + 100)),
              StatusCode::kInvalidArgument, path);
  EXPECT_FALSE(Exists(path));
}

TEST(RegionOpenErrors, ExistingTooSmallFileIsInvalidArgument) {
  TempPaths paths;
  const std::string path = paths.Make("/dev/shm");
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("tiny", f);
  fclose(f);
  ExpectError(OpenRegion(path, OpenOptions()), StatusCode::kInvalidArgument,
              path);
  EXPECT_TRUE(Exists(path)) << "an existing file must never be removed";
}

TEST(RegionOpenErrors, DirectoryIsInvalidArgument) {
  ExpectError(OpenRegion("/dev/shm", OpenOptions()),
              StatusCode::kInvalidArgument, "/dev/shm");
}

TEST(RegionOpenErrors, NonDaxCharDeviceIsInvalidArgument) {
  ExpectError(OpenRegion("/dev/null", OpenOptions()),
              StatusCode::kInvalidArgument, "/dev/null");
  const auto result = OpenRegion("/dev/null", OpenOptions());
  EXPECT_NE(result.status().message().find("device-dax"), std::string::npos);
}

TEST(RegionOpenErrors, NoSpaceOnCreateNamesPathAndSize) {
  // A size no filesystem here can hold; posix_fallocate reports ENOSPC or
  // EFBIG, both of which mean "does not fit".
  TempPaths paths;
  const std::string path = paths.Make("/dev/shm");
  const size_t huge = size_t{1} << 50;
  ExpectError(OpenRegion(path, CreateOptions(huge)), StatusCode::kNoSpace,
              path);
  const auto result = OpenRegion(path, CreateOptions(huge));
  EXPECT_NE(result.status().message().find(std::to_string(huge)),
            std::string::npos)
      << result.status().ToString();
  EXPECT_FALSE(Exists(path)) << "a failed create must not leave a file";
}

TEST(RegionOpenErrors, RequireDaxRefusesOrdinaryFile) {
  ScopedForceGranularity force(nullptr);
  TempPaths paths;
  const char* dir = nullptr;
  for (const char* candidate : {"/var/tmp", "/tmp"}) {
    struct statfs sfs = {};
    if (statfs(candidate, &sfs) == 0 && sfs.f_type != TMPFS_MAGIC &&
        sfs.f_type != RAMFS_MAGIC) {
      dir = candidate;
      break;
    }
  }
  if (dir == nullptr) {
    GTEST_SKIP() << "neither /var/tmp nor /tmp is on a block filesystem here";
  }
  const std::string path = paths.Make(dir);
  OpenOptions o = CreateOptions(1 << 20);
  o.require_dax = true;
  const auto result = OpenRegion(path, o);
  ExpectError(result, StatusCode::kNotSupported, path);
  EXPECT_NE(result.status().message().find("without DAX"), std::string::npos);
  EXPECT_NE(result.status().message().find("msync"), std::string::npos);
  EXPECT_NE(result.status().message().find("-o dax"), std::string::npos);
  // The same file is fine when page-cache persistence is acceptable.
  o.require_dax = false;
  const auto ok = OpenRegion(path, o);
  ASSERT_OK(ok);
  EXPECT_EQ((*ok)->info().kind, BackingKind::kFile);
  EXPECT_EQ((*ok)->info().granularity, Granularity::kPage);
}

TEST(RegionOpenErrors, RequireDaxRefusesTmpfsUnlessForced) {
  TempPaths paths;
  const std::string path = paths.Make("/dev/shm");
  OpenOptions o = CreateOptions(1 << 20);
  o.require_dax = true;
  {
    ScopedForceGranularity force(nullptr);
    const auto result = OpenRegion(path, o);
    ExpectError(result, StatusCode::kNotSupported, path);
    EXPECT_NE(result.status().message().find("PMEM2_FORCE_GRANULARITY"),
              std::string::npos);
  }
  ScopedForceGranularity force("CACHE_LINE");
  const auto result = OpenRegion(path, o);
  ASSERT_OK(result);
  EXPECT_EQ((*result)->info().granularity, Granularity::kCacheLine);
  EXPECT_EQ((*result)->info().kind, BackingKind::kTmpfs);
}

}  // namespace
}  // namespace daxkv::dax
