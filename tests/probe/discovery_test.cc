#include "probe/discovery.h"

#include <glob.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "tests/support/env.h"
#include "tests/support/status_matchers.h"

namespace daxkv::probe {
namespace {

// Whether the kernel exposes anything discovery could find: an nd bus or a
// dax device node. Read independently of the code under test.
bool MachineHasDaxHardware() {
  glob_t g;
  bool found = false;
  for (const char* pattern :
       {"/sys/bus/nd/devices/ndbus*", "/dev/dax*", "/dev/pmem*"}) {
    if (glob(pattern, 0, nullptr, &g) == 0 && g.gl_pathc > 0) found = true;
    globfree(&g);
  }
  return found;
}

using ::daxkv::testing::Env;

TEST(DiscoveryTest, EmptyMachineGivesEmptyListsAndOk) {
  if (MachineHasDaxHardware()) {
    GTEST_SKIP() << "this machine has nd buses or dax devices";
  }
  StatusOr<Inventory> inv = Discover();
  ASSERT_OK(inv);
  EXPECT_TRUE(inv->buses.empty());
  EXPECT_TRUE(inv->dax_devices.empty());
}

TEST(DiscoveryTest, FindOnEmptyInventorySaysWhatWasAsked) {
  Inventory empty;
  StatusOr<DaxDevice> d = FindDaxDevice(empty, "/dev/dax9.9");
  ASSERT_THAT(d, StatusIs(StatusCode::kNotFound));
  EXPECT_NE(d.status().ToString().find("/dev/dax9.9"), std::string::npos);
  EXPECT_NE(d.status().ToString().find("has none"), std::string::npos);
}

TEST(DiscoveryTest, FindByNameOrPath) {
  Inventory inv;
  DaxDevice a;
  a.name = "dax0.0";
  a.path = "/dev/dax0.0";
  DaxDevice b;
  b.name = "dax1.0";
  b.path = "/dev/dax1.0";
  inv.dax_devices = {a, b};
  StatusOr<DaxDevice> by_name = FindDaxDevice(inv, "dax1.0");
  ASSERT_OK(by_name);
  EXPECT_EQ(by_name->path, "/dev/dax1.0");
  StatusOr<DaxDevice> by_path = FindDaxDevice(inv, "/dev/dax0.0");
  ASSERT_OK(by_path);
  EXPECT_EQ(by_path->name, "dax0.0");
  StatusOr<DaxDevice> missing = FindDaxDevice(inv, "dax2.0");
  ASSERT_THAT(missing, StatusIs(StatusCode::kNotFound));
  EXPECT_NE(missing.status().ToString().find("dax0.0, dax1.0"),
            std::string::npos);
}

TEST(DiscoveryTest, ParsesDaxMountModes) {
  const std::string text =
      "/dev/pmem0 /mnt/a ext4 rw,relatime,dax 0 0\n"
      "/dev/pmem1 /mnt/b xfs rw,dax=always 0 0\n"
      "/dev/sda1 /mnt/c xfs rw,dax=inode 0 0\n"
      "myfs /mnt/d virtiofs rw,dax=never 0 0\n"
      "/dev/pmem2 /mnt/e ext4 rw,relatime 0 0\n"
      "tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0\n"
      "/dev/vda / ext4 rw,daxfoo 0 0\n"
      "garbage\n";
  std::vector<DaxMount> m = ParseDaxMounts(text);
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0].mode, DaxMountMode::kAlways);
  EXPECT_EQ(m[0].mount_point, "/mnt/a");
  EXPECT_EQ(m[0].fs_type, "ext4");
  EXPECT_EQ(m[1].mode, DaxMountMode::kAlways);
  EXPECT_EQ(m[2].mode, DaxMountMode::kInode);
  EXPECT_EQ(m[3].mode, DaxMountMode::kNever);
  EXPECT_EQ(m[4].mode, DaxMountMode::kDefault);
  EXPECT_EQ(m[4].source, "/dev/pmem2");
}

TEST(DiscoveryTest, NamesAreStable) {
  EXPECT_STREQ(BusProviderName(BusProvider::kE820), "e820");
  EXPECT_STREQ(BusProviderName(BusProvider::kAcpiNfit), "ACPI.NFIT");
  EXPECT_STREQ(BusProviderName(BusProvider::kVirtioPmem), "virtio-pmem");
  EXPECT_STREQ(NamespaceModeName(NamespaceMode::kDevDax), "devdax");
  EXPECT_STREQ(NamespaceModeName(NamespaceMode::kFsDax), "fsdax");
  EXPECT_STREQ(DaxMountModeName(DaxMountMode::kInode), "inode");
}

// Lab: DAXKV_TEST_DEVDAX=/dev/dax0.0 (and DAXKV_TEST_PROVIDER=e820 for the
// memmap= flavour, ACPI.NFIT for -device nvdimm).
TEST(DiscoveryTest, RealDevDaxIsListedWithItsNamespace) {
  const char* dev = Env("DAXKV_TEST_DEVDAX");
  if (dev == nullptr) GTEST_SKIP() << "DAXKV_TEST_DEVDAX is not set";
  StatusOr<Inventory> inv = Discover();
  ASSERT_OK(inv);
  StatusOr<DaxDevice> d = FindDaxDevice(*inv, dev);
  ASSERT_OK(d);
  EXPECT_GT(d->size, 0u);
  EXPECT_GT(d->align, 0u);
  EXPECT_EQ(d->mode, "devdax");
  bool found_namespace = false;
  for (const NdBus& bus : inv->buses) {
    for (const NdRegion& region : bus.regions) {
      for (const Namespace& ns : region.namespaces) {
        if (ns.dax_device != d->name) continue;
        found_namespace = true;
        EXPECT_EQ(ns.mode, NamespaceMode::kDevDax);
        EXPECT_EQ(ns.align, d->align);
        if (const char* provider = Env("DAXKV_TEST_PROVIDER")) {
          EXPECT_EQ(bus.provider_name, provider);
        }
      }
    }
  }
  EXPECT_TRUE(found_namespace) << "no devdax namespace owns " << d->name;
}

// Lab: DAXKV_TEST_FSDAX_DIR=/mnt (ext4 -o dax on /dev/pmem0).
TEST(DiscoveryTest, RealFsDaxMountIsListedAsAlways) {
  const char* dir = Env("DAXKV_TEST_FSDAX_DIR");
  if (dir == nullptr) GTEST_SKIP() << "DAXKV_TEST_FSDAX_DIR is not set";
  StatusOr<Inventory> inv = Discover();
  ASSERT_OK(inv);
  bool found = false;
  for (const DaxMount& m : inv->mounts) {
    if (std::string(dir).rfind(m.mount_point, 0) == 0 &&
        m.mode == DaxMountMode::kAlways) {
      found = true;
    }
  }
  EXPECT_TRUE(found) << dir << " is not under a dax=always mount";
}

}  // namespace
}  // namespace daxkv::probe
