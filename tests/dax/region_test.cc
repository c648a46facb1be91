// Region over libpmem2 on ordinary and tmpfs files, at page granularity and
// at cache-line granularity forced through PMEM2_FORCE_GRANULARITY.
#include "dax/region.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "dax/pmem2_region.h"
#include "dax/smaps.h"
#include "tests/dax/region_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::dax {
namespace {

using ::testing::HasSubstr;

using testing::ScopedForceGranularity;
using testing::TempPaths;

constexpr size_t kSize = 1 << 20;

OpenOptions CreateOptions(size_t size = kSize) {
  return testing::CreateOptions(size);
}

bool IsTmpfs(const std::string& dir) {
  struct statfs sfs = {};
  return statfs(dir.c_str(), &sfs) == 0 && sfs.f_type == TMPFS_MAGIC;
}

off_t FileSize(const std::string& path) {
  struct stat st = {};
  return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

// (directory, force cache-line granularity)
class RegionFileTest
    : public ::testing::TestWithParam<std::tuple<const char*, bool>> {
 protected:
  RegionFileTest() : force_(std::get<1>(GetParam()) ? "CACHE_LINE" : nullptr) {}

  std::string dir() const { return std::get<0>(GetParam()); }
  bool forced() const { return std::get<1>(GetParam()); }

  ScopedForceGranularity force_;
  TempPaths paths_;
};

TEST_P(RegionFileTest, CreateReportsEveryInfoField) {
  const std::string path = paths_.Make(dir());
  auto region = OpenRegion(path, CreateOptions());
  ASSERT_OK(region);
  const RegionInfo& info = (*region)->info();
  EXPECT_EQ(info.path, path);
  EXPECT_EQ(info.kind,
            IsTmpfs(dir()) ? BackingKind::kTmpfs : BackingKind::kFile);
  EXPECT_EQ(info.size, kSize);
  EXPECT_EQ((*region)->size(), kSize);
  EXPECT_EQ(info.alignment, static_cast<size_t>(sysconf(_SC_PAGESIZE)));
  EXPECT_EQ(info.granularity,
            forced() ? Granularity::kCacheLine : Granularity::kPage);
  EXPECT_FALSE(info.map_sync);
  EXPECT_FALSE(info.read_only);
  EXPECT_FALSE(info.in_use_elsewhere);
  EXPECT_EQ(info.numa_node, -1);  // not a pmem device
  EXPECT_NE(info.persistence.find(forced() ? "cache-line" : "msync"),
            std::string::npos)
      << info.persistence;
  EXPECT_NE((*region)->data(), nullptr);
  EXPECT_EQ(FileSize(path), static_cast<off_t>(kSize));
  struct stat st = {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_P(RegionFileTest, ReopenKeepsPersistedBytes) {
  const std::string path = paths_.Make(dir());
  std::vector<char> pattern(kSize);
  for (size_t i = 0; i < pattern.size(); ++i)
    pattern[i] = static_cast<char>(i * 7 + 3);
  {
    auto region = OpenRegion(path, CreateOptions());
    ASSERT_OK(region);
    std::memcpy((*region)->data(), pattern.data(), pattern.size());
    // Durability: after Persist the whole pattern is on the medium.
    (*region)->Persist((*region)->data(), pattern.size());
  }
  auto region = OpenRegion(path, OpenOptions());
  ASSERT_OK(region);
  ASSERT_EQ((*region)->size(), kSize);
  EXPECT_EQ(std::memcmp((*region)->data(), pattern.data(), kSize), 0);
}

TEST_P(RegionFileTest, CopyAndSetWithEachFlag) {
  const std::string path = paths_.Make(dir());
  const unsigned kFlags[] = {kMemDefault,
                             kMemNoDrain,
                             kMemNoFlush,
                             kMemNonTemporal,
                             kMemTemporal,
                             kMemNoDrain | kMemNonTemporal,
                             kMemNoFlush | kMemTemporal};
  std::string src(10000, 'x');
  for (size_t i = 0; i < src.size(); ++i)
    src[i] = static_cast<char>('a' + i % 26);
  {
    auto region = OpenRegion(path, CreateOptions());
    ASSERT_OK(region);
    Region& r = **region;
    size_t off = 0;
    for (unsigned flags : kFlags) {
      r.Copy(r.data() + off, src.data(), src.size(), flags);
      r.Set(r.data() + off + src.size(), 0x5a, 3000, flags);
      if (flags & (kMemNoFlush | kMemNoDrain)) {
        // Durability: the caller finishes what the flags skipped.
        r.Persist(r.data() + off, src.size() + 3000);
      }
      EXPECT_EQ(std::memcmp(r.data() + off, src.data(), src.size()), 0)
          << "flags " << flags;
      off += 16384;
    }
  }
  auto region = OpenRegion(path, OpenOptions());
  ASSERT_OK(region);
  size_t off = 0;
  for (unsigned flags : kFlags) {
    const char* p = (*region)->data() + off;
    EXPECT_EQ(std::memcmp(p, src.data(), src.size()), 0) << "flags " << flags;
    EXPECT_EQ(std::string(p + src.size(), 3000), std::string(3000, '\x5a'))
        << "flags " << flags;
    off += 16384;
  }
}

TEST_P(RegionFileTest, FlushDrainAndDeepFlush) {
  const std::string path = paths_.Make(dir());
  auto region = OpenRegion(path, CreateOptions());
  ASSERT_OK(region);
  Region& r = **region;
  std::memset(r.data() + 100, 0x11, 5000);
  // Durability: Flush + Drain of the range makes it durable.
  r.Flush(r.data() + 100, 5000);
  r.Drain();
  Status s = r.DeepFlush(r.data(), r.size());
  EXPECT_OK(s);
  // Page granularity persists with msync(2) in the region (not libpmem2's
  // abort-on-failure persist): unaligned, page-crossing ranges and
  // Copy/Set all work, and report no error.
  r.Persist(r.data() + 4000, 300);
  r.Copy(r.data() + 8190, r.data() + 100, 5000, kMemDefault);
  r.Set(r.data() + 12000, 0x22, 9000, kMemNoDrain);
  r.Drain();
  EXPECT_EQ(static_cast<unsigned char>(r.data()[8190]), 0x11);
  EXPECT_OK(r.PersistError());
}

TEST_P(RegionFileTest, GrowKeepsDataPointerAndBytes) {
  const std::string path = paths_.Make(dir());
  auto region = OpenRegion(path, CreateOptions());
  ASSERT_OK(region);
  Region& r = **region;
  char* const base = r.data();
  std::memset(base, 0x42, kSize);
  r.Persist(base, kSize);
  ASSERT_OK(r.Grow(4 * kSize));
  EXPECT_EQ(r.data(), base);
  EXPECT_EQ(r.size(), 4 * kSize);
  EXPECT_EQ(r.info().size, 4 * kSize);
  EXPECT_EQ(FileSize(path), static_cast<off_t>(4 * kSize));
  EXPECT_EQ(std::string(base, kSize), std::string(kSize, '\x42'));
  EXPECT_EQ(std::string(base + kSize, 3 * kSize), std::string(3 * kSize, '\0'));
  // The grown part is a live, persistent mapping too, across the seam.
  r.Copy(base + kSize - 8, "0123456789abcdef", 16);
  r.Set(base + 4 * kSize - 100, 0x33, 100);
  ASSERT_OK(r.DeepFlush(base, r.size()));
  // Growing to a smaller or equal size is a no-op.
  ASSERT_OK(r.Grow(kSize));
  EXPECT_EQ(r.size(), 4 * kSize);
  region->reset();
  auto again = OpenRegion(path, OpenOptions());
  ASSERT_OK(again);
  EXPECT_EQ((*again)->size(), 4 * kSize);
  EXPECT_EQ(std::string((*again)->data() + kSize - 8, 16), "0123456789abcdef");
  EXPECT_EQ((*again)->data()[4 * kSize - 1], '\x33');
}

TEST_P(RegionFileTest, PrefaultMapsPagesAndChangesNoByte) {
  const std::string path = paths_.Make(dir());
  auto region = OpenRegion(path, CreateOptions(4 * kSize));
  ASSERT_OK(region);
  Region& r = **region;
  char* const base = r.data();
  r.Copy(base + 2 * kSize + 5, "abc", 3);
  const uint64_t addr = reinterpret_cast<uint64_t>(base);
  auto before = ReadSmapsVma(addr);
  ASSERT_OK(before);
  // An unaligned start, over bytes already written.
  Status s = r.Prefault(base + 2 * kSize + 1, kSize);
  if (s.code() == StatusCode::kNotSupported) GTEST_SKIP() << s.ToString();
  ASSERT_OK(s);
  auto after = ReadSmapsVma(addr);
  ASSERT_OK(after);
  // The range's pages are resident (less the one written before).
  EXPECT_GE(after->rss_kb, before->rss_kb + kSize / 1024 - 4);
  EXPECT_EQ(std::string(base + 2 * kSize + 5, 3), "abc");
  EXPECT_EQ(std::string(base + 2 * kSize + 8, kSize - 8),
            std::string(kSize - 8, '\0'));
}

TEST_P(RegionFileTest, GrowRoundsUpToAlignment) {
  const std::string path = paths_.Make(dir());
  auto region = OpenRegion(path, CreateOptions());
  ASSERT_OK(region);
  ASSERT_OK((*region)->Grow(kSize + 1));
  EXPECT_EQ((*region)->size(), kSize + (*region)->info().alignment);
}

TEST_P(RegionFileTest, GrowBeyondReservationIsNoSpaceAndKeepsMapping) {
  const std::string path = paths_.Make(dir());
  OpenOptions o = CreateOptions();
  o.reserve_size = 2 * kSize;
  auto region = OpenRegion(path, o);
  ASSERT_OK(region);
  char* const base = (*region)->data();
  ASSERT_OK((*region)->Grow(2 * kSize));
  Status s = (*region)->Grow(3 * kSize);
  EXPECT_THAT(s, StatusIs(StatusCode::kNoSpace));
  EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("reserve_size"), std::string::npos);
  EXPECT_EQ((*region)->data(), base);
  EXPECT_EQ((*region)->size(), 2 * kSize);
  EXPECT_EQ(FileSize(path), static_cast<off_t>(2 * kSize));
}

TEST_P(RegionFileTest, DefaultReservationCoversGrowth) {
  const std::string path = paths_.Make(dir());
  auto region = OpenRegion(path, CreateOptions());
  ASSERT_OK(region);
  auto* p2 = dynamic_cast<Pmem2Region*>(region->get());
  ASSERT_NE(p2, nullptr);
  EXPECT_GE(p2->reserved_size(), kDefaultReserveSize);
  // Huge-page friendly base (DAX filesystems can then use PMD faults).
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p2->data()) % (2 << 20), 0u);
}

TEST_P(RegionFileTest, SecondReadWriteOpenIsBusy) {
  const std::string path = paths_.Make(dir());
  auto first = OpenRegion(path, CreateOptions());
  ASSERT_OK(first);
  // flock conflicts between open file descriptions even in one process.
  auto second = OpenRegion(path, OpenOptions());
  ASSERT_THAT(second, StatusIs(StatusCode::kBusy, HasSubstr(path)));
  // The holder is this very process (another open file description).
  EXPECT_NE(second.status().message().find("pid " + std::to_string(getpid())),
            std::string::npos)
      << second.status().ToString();
  first->reset();
  auto third = OpenRegion(path, OpenOptions());
  EXPECT_OK(third);
}

TEST_P(RegionFileTest, ReadOnlyAlongsideReadWriteReportsInUse) {
  const std::string path = paths_.Make(dir());
  auto rw = OpenRegion(path, CreateOptions());
  ASSERT_OK(rw);
  (*rw)->Copy((*rw)->data(), "server", 6);
  const OpenOptions ro_options = testing::ReadOnlyOptions();
  auto ro = OpenRegion(path, ro_options);
  ASSERT_OK(ro);
  EXPECT_TRUE((*ro)->info().read_only);
  EXPECT_TRUE((*ro)->info().in_use_elsewhere);
  EXPECT_EQ(std::string((*ro)->data(), 6), "server");
  // Shared mapping: the reader sees the writer's later stores.
  (*rw)->Copy((*rw)->data(), "SERVER", 6);
  EXPECT_EQ(std::string((*ro)->data(), 6), "SERVER");
}

TEST_P(RegionFileTest, ReadOnlyAloneIsNotInUseAndBlocksWriters) {
  const std::string path = paths_.Make(dir());
  { ASSERT_OK(OpenRegion(path, CreateOptions())); }
  const OpenOptions ro_options = testing::ReadOnlyOptions();
  auto ro = OpenRegion(path, ro_options);
  ASSERT_OK(ro);
  EXPECT_FALSE((*ro)->info().in_use_elsewhere);
  auto ro2 = OpenRegion(path, ro_options);
  ASSERT_OK(ro2);
  EXPECT_FALSE((*ro2)->info().in_use_elsewhere);
  const auto rw = OpenRegion(path, OpenOptions());
  EXPECT_THAT(rw, StatusIs(StatusCode::kBusy));
  EXPECT_NE(rw.status().message().find("reading it"), std::string::npos)
      << rw.status().ToString();
  EXPECT_THAT((*ro)->Grow(2 * kSize),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST_P(RegionFileTest, ReadOnlyMappingRejectsStores) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string path = paths_.Make(dir());
  { ASSERT_OK(OpenRegion(path, CreateOptions())); }
  const OpenOptions ro_options = testing::ReadOnlyOptions();
  auto ro = OpenRegion(path, ro_options);
  ASSERT_OK(ro);
  volatile char* p = (*ro)->data();
  // The threadsafe style re-runs this test in the child, which makes a file
  // of its own and dies before ~TempPaths: it unlinks it first (the mapping
  // stays), or every run would leave one in `dir()`.
  EXPECT_DEATH(
      {
        unlink(path.c_str());
        p[0] = 1;
      },
      "");
}

INSTANTIATE_TEST_SUITE_P(
    Backings, RegionFileTest,
    ::testing::Combine(::testing::Values("/dev/shm", "/tmp"),
                       ::testing::Bool()),
    [](const ::testing::TestParamInfo<std::tuple<const char*, bool>>& info) {
      std::string name =
          std::get<0>(info.param) == std::string("/dev/shm") ? "DevShm" : "Tmp";
      return name + (std::get<1>(info.param) ? "CacheLine" : "Page");
    });

}  // namespace
}  // namespace daxkv::dax
