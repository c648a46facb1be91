#include "probe/fault_path.h"

#include <gtest/gtest.h>

#include <string>

#include "probe/features.h"
#include "probe/mapping.h"
#include "tests/support/env.h"
#include "tests/support/status_matchers.h"

namespace daxkv::probe {
namespace {

using ::testing::HasSubstr;

constexpr size_t kLength = size_t{8} << 20;

using ::daxkv::testing::Env;

dax::SmapsVma Counters(uint64_t rss, uint64_t pss, uint64_t shared_clean,
                       uint64_t private_clean) {
  dax::SmapsVma c;
  c.rss_kb = rss;
  c.pss_kb = pss;
  c.shared_clean_kb = shared_clean;
  c.private_clean_kb = private_clean;
  return c;
}

TEST(FaultPathTest, ClassifiesTheLabsLegacyCounters) {
  // Debian 6.1 guest, devdax 2 MiB align, two readers of 8 MiB.
  std::string why;
  EXPECT_EQ(ClassifySmaps(Counters(8192, 8192, 0, 8192), kLength, &why),
            DaxFaultPath::kLegacy);
  EXPECT_NE(why.find("no mapcount"), std::string::npos) << why;
  // PTE-mapped devmap entries are invisible to smaps (the lab's fsdax on
  // 6.1 showed Rss 16 kB after both processes read 8 MiB).
  EXPECT_EQ(ClassifySmaps(Counters(0, 0, 0, 0), kLength, &why),
            DaxFaultPath::kLegacy);
  EXPECT_EQ(ClassifySmaps(Counters(16, 16, 0, 16), kLength, &why),
            DaxFaultPath::kLegacy);
  EXPECT_NE(why.find("counts only Rss 16 kB"), std::string::npos) << why;
}

TEST(FaultPathTest, ClassifiesSharedPagesAsRefcounted) {
  std::string why;
  EXPECT_EQ(ClassifySmaps(Counters(8192, 4096, 8192, 0), kLength, &why),
            DaxFaultPath::kRefcounted);
  EXPECT_EQ(ClassifySmaps(Counters(8192, 8000, 100, 4000), kLength, &why),
            DaxFaultPath::kUnknown);
}

TEST(FaultPathTest, ReleaseFallback) {
  EXPECT_EQ(FaultPathFromRelease("6.1.0-27-amd64"), DaxFaultPath::kLegacy);
  EXPECT_EQ(FaultPathFromRelease("6.14.11"), DaxFaultPath::kLegacy);
  EXPECT_EQ(FaultPathFromRelease("6.15.0"), DaxFaultPath::kRefcounted);
  EXPECT_EQ(FaultPathFromRelease("7.0.1"), DaxFaultPath::kRefcounted);
  EXPECT_EQ(FaultPathFromRelease("???"), DaxFaultPath::kUnknown);
}

// The measurement itself, on pages that certainly carry a mapcount: tmpfs
// page-cache pages read by two processes must count as shared.
TEST(FaultPathTest, TwoProcessMeasurementSeesSharingOnTmpfs) {
  MappingOptions options;
  options.backing = MappingBacking::kShmemFile;
  options.size = kLength;
  options.read_only = true;
  StatusOr<std::unique_ptr<Mapping>> map = Mapping::Create(options);
  ASSERT_OK(map);
  StatusOr<dax::SmapsVma> c = MeasureTwoProcessRead((*map)->data(), kLength);
  ASSERT_OK(c);
  EXPECT_EQ(c->rss_kb, 8192u);
  // The zero-filled tmpfs pages are dirty: shared either way.
  EXPECT_EQ(c->shared_clean_kb + c->shared_dirty_kb, 8192u);
  EXPECT_EQ(c->private_clean_kb + c->private_dirty_kb, 0u);
  EXPECT_EQ(c->pss_kb, 4096u);
  std::string why;
  EXPECT_EQ(ClassifySmaps(*c, kLength, &why), DaxFaultPath::kRefcounted);
}

TEST(FaultPathTest, NoDeviceFallsBackToTheRelease) {
  if (Env("DAXKV_TEST_DEVDAX") != nullptr) {
    GTEST_SKIP() << "a dax device is present; see the evidence tests";
  }
  StatusOr<FaultPathReport> r = DetectFaultPath({});
  ASSERT_OK(r);
  if (r->source != FaultPathSource::kKernelRelease) {
    GTEST_SKIP() << "discovery found " << r->evidence_path;
  }
  EXPECT_EQ(r->path, FaultPathFromRelease(KernelRelease()));
  EXPECT_FALSE(r->reasoning.empty());
}

TEST(FaultPathTest, NonDaxEvidenceIsRefusedClearly) {
  StatusOr<FaultPathReport> r = DetectFaultPath({"/dev/shm", kLength});
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument,
                          HasSubstr("not on a DAX filesystem")));
  EXPECT_THAT(DetectFaultPath({"/nonexistent", kLength}),
              StatusIs(StatusCode::kNotFound));
}

// Lab: the evidence must show the path DAXKV_TEST_FAULT_PATH names (the
// lab takes it from the kernel's own symbols), else the release's. Where
// kprobes work (the lab guest is root with tracefs) the kernel functions
// decide and smaps must agree.
void ExpectLabVerdict(const char* path) {
  FaultPathOptions options;
  options.evidence_path = path;
  options.length = kLength;
  StatusOr<FaultPathReport> r = DetectFaultPath(options);
  ASSERT_OK(r);
  EXPECT_NE(r->source, FaultPathSource::kKernelRelease);
  const char* want = Env("DAXKV_TEST_FAULT_PATH");
  std::string expected =
      want ? want : DaxFaultPathName(FaultPathFromRelease(r->kernel_release));
  EXPECT_EQ(DaxFaultPathName(r->path), expected) << r->reasoning;
  EXPECT_EQ(DaxFaultPathName(r->smaps_path), expected) << r->smaps_reasoning;
  if (r->functions_status == "counted") {
    EXPECT_EQ(r->source, FaultPathSource::kKernelFunctions);
    EXPECT_EQ(DaxFaultPathName(r->functions_path), expected)
        << r->functions_reasoning;
    EXPECT_EQ(DaxFaultPathName(r->symbols_path), expected)
        << r->symbols_reasoning;
  }
}

TEST(FaultPathTest, DevDaxEvidenceMatchesTheKernel) {
  const char* dev = Env("DAXKV_TEST_DEVDAX");
  if (dev == nullptr) GTEST_SKIP() << "DAXKV_TEST_DEVDAX is not set";
  ExpectLabVerdict(dev);
}

TEST(FaultPathTest, FsDaxEvidenceMatchesTheKernel) {
  const char* dir = Env("DAXKV_TEST_FSDAX_DIR");
  if (dir == nullptr) GTEST_SKIP() << "DAXKV_TEST_FSDAX_DIR is not set";
  ExpectLabVerdict(dir);
}

}  // namespace
}  // namespace daxkv::probe
