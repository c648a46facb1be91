// Region on real DAX: device-dax and fsdax. These run in the QEMU lab, which
// sets
//   DAXKV_TEST_DEVDAX=/dev/daxX.Y  a scratch device-dax; the tests overwrite
//                                  and then restore its first and last 4 KiB
//   DAXKV_TEST_FSDAX_DIR=/mnt/...  a directory on an ext4/xfs -o dax mount
// and skip (saying why) elsewhere.
#include <daxctl/libdaxctl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "dax/region.h"
#include "tests/dax/region_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::dax {
namespace {

using testing::Env;
using testing::ScopedForceGranularity;
using testing::TempPaths;

constexpr size_t k4K = 4096;

struct DaxctlFacts {
  bool found = false;
  unsigned long long size = 0;
  unsigned long align = 0;
};

// Size and alignment of device `path` (/dev/daxX.Y) as libdaxctl sees them.
DaxctlFacts QueryDaxctl(const std::string& path) {
  DaxctlFacts facts;
  const std::string name = path.substr(path.rfind('/') + 1);
  daxctl_ctx* ctx = nullptr;
  if (daxctl_new(&ctx) != 0) return facts;
  daxctl_region* region;
  daxctl_region_foreach(ctx, region) {
    daxctl_dev* dev;
    daxctl_dev_foreach(region, dev) {
      if (name == daxctl_dev_get_devname(dev)) {
        facts.found = true;
        facts.size = daxctl_dev_get_size(dev);
        facts.align = daxctl_dev_get_align(dev);
      }
    }
  }
  daxctl_unref(ctx);
  return facts;
}

// numa_node from sysfs for a character device; -2 when unreadable.
int SysfsNumaNode(const std::string& path) {
  struct stat st = {};
  if (stat(path.c_str(), &st) != 0) return -2;
  std::ifstream in("/sys/dev/char/" + std::to_string(major(st.st_rdev)) + ":" +
                   std::to_string(minor(st.st_rdev)) + "/device/numa_node");
  int node = -2;
  in >> node;
  return node;
}

class DevDaxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* dev = Env("DAXKV_TEST_DEVDAX");
    if (dev == nullptr) {
      GTEST_SKIP() << "DAXKV_TEST_DEVDAX is unset (run in the QEMU lab)";
    }
    path_ = dev;
  }
  std::string path_;
  ScopedForceGranularity no_force_{nullptr};
};

TEST_F(DevDaxTest, GeometryComesFromTheDevice) {
  const DaxctlFacts facts = QueryDaxctl(path_);
  ASSERT_TRUE(facts.found) << "libdaxctl does not list " << path_;
  OpenOptions o;
  o.require_dax = true;
  auto region = OpenRegion(path_, o);
  ASSERT_OK(region);
  const RegionInfo& info = (*region)->info();
  EXPECT_EQ(info.kind, BackingKind::kDevDax);
  EXPECT_EQ(info.size, facts.size);
  EXPECT_EQ(info.alignment, facts.align);
  EXPECT_NE(info.granularity, Granularity::kPage);
  EXPECT_EQ(reinterpret_cast<uintptr_t>((*region)->data()) % facts.align, 0u);
  const int sysfs_node = SysfsNumaNode(path_);
  if (sysfs_node != -2) {
    EXPECT_EQ(info.numa_node, sysfs_node);
  }
  EXPECT_EQ(info.persistence.find("msync"), std::string::npos);
  RecordProperty("granularity", GranularityName(info.granularity));
  RecordProperty("numa_node", info.numa_node);
}

TEST_F(DevDaxTest, PersistedBytesSurviveReopen) {
  auto region = OpenRegion(path_, OpenOptions());
  ASSERT_OK(region);
  Region& r = **region;
  const size_t tail = r.size() - k4K;
  const std::string saved_head(r.data(), k4K), saved_tail(r.data() + tail, k4K);
  r.Set(r.data(), 0xa5, k4K, kMemNonTemporal);
  r.Copy(r.data() + tail, "devdax-tail", 11, kMemTemporal | kMemNoDrain);
  r.Drain();
  EXPECT_OK(r.DeepFlush(r.data(), k4K));
  region->reset();
  auto again = OpenRegion(path_, OpenOptions());
  ASSERT_OK(again);
  Region& a = **again;
  EXPECT_EQ(std::string(a.data(), k4K), std::string(k4K, '\xa5'));
  EXPECT_EQ(std::string(a.data() + tail, 11), "devdax-tail");
  a.Copy(a.data(), saved_head.data(), k4K);
  a.Copy(a.data() + tail, saved_tail.data(), k4K);
}

TEST_F(DevDaxTest, GrowIsNotSupported) {
  auto region = OpenRegion(path_, OpenOptions());
  ASSERT_OK(region);
  char* const base = (*region)->data();
  const size_t size = (*region)->size();
  Status s = (*region)->Grow(size * 2);
  EXPECT_THAT(s, StatusIs(StatusCode::kNotSupported));
  EXPECT_NE(s.message().find(path_), std::string::npos) << s.ToString();
  EXPECT_EQ((*region)->data(), base);
  EXPECT_EQ((*region)->size(), size);
}

TEST_F(DevDaxTest, FlockOnTheCharDeviceExcludesWriters) {
  auto rw = OpenRegion(path_, OpenOptions());
  ASSERT_OK(rw);
  auto second = OpenRegion(path_, OpenOptions());
  ASSERT_THAT(second, StatusIs(StatusCode::kBusy));
  const OpenOptions ro_options = testing::ReadOnlyOptions();
  auto ro = OpenRegion(path_, ro_options);
  ASSERT_OK(ro);
  EXPECT_TRUE((*ro)->info().in_use_elsewhere);
  EXPECT_EQ((*ro)->size(), (*rw)->size());
}

class FsDaxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* dir = Env("DAXKV_TEST_FSDAX_DIR");
    if (dir == nullptr) {
      GTEST_SKIP() << "DAXKV_TEST_FSDAX_DIR is unset (run in the QEMU lab)";
    }
    dir_ = dir;
  }
  std::string dir_;
  TempPaths paths_;
  ScopedForceGranularity no_force_{nullptr};
};

TEST_F(FsDaxTest, MapsWithMapSync) {
  const std::string path = paths_.Make(dir_);
  OpenOptions o;
  o.create_if_missing = true;
  o.create_size = 8 << 20;
  o.require_dax = true;
  auto region = OpenRegion(path, o);
  ASSERT_OK(region);
  const RegionInfo& info = (*region)->info();
  EXPECT_EQ(info.kind, BackingKind::kFsDax);
  EXPECT_TRUE(info.map_sync);
  EXPECT_TRUE(info.granularity == Granularity::kCacheLine ||
              info.granularity == Granularity::kByte)
      << GranularityName(info.granularity);
  EXPECT_EQ(info.size, size_t{8} << 20);
  EXPECT_EQ(info.persistence.find("msync"), std::string::npos);
  RecordProperty("granularity", GranularityName(info.granularity));
  RecordProperty("numa_node", info.numa_node);
}

TEST_F(FsDaxTest, GrowKeepsDataAndReopenKeepsBytes) {
  const std::string path = paths_.Make(dir_);
  OpenOptions o;
  o.create_if_missing = true;
  o.create_size = 2 << 20;
  {
    auto region = OpenRegion(path, o);
    ASSERT_OK(region);
    Region& r = **region;
    char* const base = r.data();
    r.Set(base, 0x17, 2 << 20);
    ASSERT_OK(r.Grow(6 << 20));
    EXPECT_EQ(r.data(), base);
    EXPECT_EQ(std::string(base + (2 << 20), 4 << 20),
              std::string(4 << 20, '\0'));
    r.Copy(base + (6 << 20) - 5, "fsdax", 5);
    EXPECT_OK(r.DeepFlush(base, r.size()));
    EXPECT_TRUE(r.info().map_sync);
  }
  auto region = OpenRegion(path, OpenOptions());
  ASSERT_OK(region);
  EXPECT_EQ((*region)->size(), size_t{6} << 20);
  EXPECT_EQ((*region)->data()[100], '\x17');
  EXPECT_EQ(std::string((*region)->data() + (6 << 20) - 5, 5), "fsdax");
}

}  // namespace
}  // namespace daxkv::dax
