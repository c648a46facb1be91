#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>

#include "probe/dirty_tracking.h"
#include "probe/features.h"
#include "tests/support/env.h"
#include "tests/support/status_matchers.h"
#include "tests/tools/inspect_test_util.h"
#include "tools/inspect/pages_render.h"

namespace daxkv::inspect {
namespace {

using ::daxkv::testing::Env;

constexpr size_t kPage = 4096;
using nlohmann::json;

// An anonymous test mapping that unmaps itself.
class AnonMapping {
 public:
  explicit AnonMapping(size_t len, size_t align = kPage) : len_(len) {
    reserve_ = len + align;
    void* r = mmap(nullptr, reserve_, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    base_ = static_cast<char*>(r);
    uintptr_t a = (reinterpret_cast<uintptr_t>(r) + align - 1) & ~(align - 1);
    data_ = static_cast<char*>(
        mmap(reinterpret_cast<void*>(a), len, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
  }
  ~AnonMapping() { munmap(base_, reserve_); }
  char* data() const { return data_; }
  std::string AddrArg() const {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%lx-%lx",
                  reinterpret_cast<unsigned long>(data_),
                  reinterpret_cast<unsigned long>(data_ + len_));
    return buf;
  }

 private:
  size_t len_;
  size_t reserve_;
  char* base_;
  char* data_;
};

json PagesOfSelf(const std::string& addr, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {"pages",  "--pid", std::to_string(getpid()),
                                   "--addr", addr,    "--json"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::string out;
  std::string err;
  int rc = RunTool(argv, &out, &err);
  EXPECT_EQ(rc, kExitOk) << err;
  return rc == kExitOk ? json::parse(out) : json();
}

TEST(InspectPagesTest, PageCharsAndPicture) {
  EXPECT_EQ(PageChar(0, false, false), '.');
  EXPECT_EQ(PageChar(probe::kPageIsPresent, false, false), 'p');
  EXPECT_EQ(PageChar(probe::kPageIsPresent | probe::kPageIsHuge, false, false),
            'H');
  EXPECT_EQ(
      PageChar(probe::kPageIsPresent | probe::kPageIsWritten, false, false),
      'p');  // WRITTEN means nothing outside a uffd-wp VMA
  EXPECT_EQ(
      PageChar(probe::kPageIsPresent | probe::kPageIsWritten, true, false),
      'w');
  EXPECT_EQ(PageChar(probe::kPageIsSwapped, false, false), 's');
  PagesReport r;
  r.start = 0x100000;
  r.end = r.start + 8 * kPage;
  r.scan.ranges = {{r.start, r.start + 2 * kPage, probe::kPageIsPresent},
                   {r.start + 5 * kPage, r.start + 6 * kPage,
                    probe::kPageIsPresent | probe::kPageIsHuge}};
  Picture pic = DrawPicture(r);
  EXPECT_EQ(pic.unit_bytes, kPage);
  ASSERT_EQ(pic.rows.size(), 1u);
  EXPECT_EQ(pic.rows[0], "pp...H..");
  // 1 GiB: one character per 2 MiB, mixed chunks marked ':'.
  r.end = r.start + (size_t{1} << 30);
  pic = DrawPicture(r);
  EXPECT_EQ(pic.unit_bytes, size_t{2} << 20);
  ASSERT_EQ(pic.rows.size(), 8u);
  EXPECT_EQ(pic.rows[0].substr(0, 2), ":.");
}

TEST(InspectPagesTest, KpageflagNamesDecodeAndExplainDaxPfns) {
  EXPECT_EQ(KpageflagNames((1u << 5) | (1u << 11)), "lru|mmap");
  // The lab's 7.x guest: a DAX PFN reads back as 0, which says something.
  EXPECT_EQ(KpageflagNames(0).rfind("0 (no KPF flags", 0), 0u);
  EXPECT_NE(KpageflagNames(0).find("ZONE_DEVICE"), std::string::npos);
  // The lab's 6.1 guest: a devdax PFN reads back as KPF_NOPAGE only.
  EXPECT_NE(KpageflagNames(1u << 20).find("ZONE_DEVICE"), std::string::npos);
  RangePfn beyond;
  beyond.pfn = 0x140000;
  EXPECT_NE(PfnText(beyond).find("max_pfn"), std::string::npos);
  RangePfn dax;
  dax.kpageflags_known = dax.kpagecount_known = true;
  EXPECT_EQ(PfnText(dax).find("kpagecount 0"),
            PfnText(dax).size() - std::string("kpagecount 0").size());
}

TEST(InspectPagesTest, TouchedAndUntouchedAnonPages) {
  AnonMapping m(16 * kPage);
  for (int i : {0, 1, 2, 3, 8}) m.data()[i * kPage] = 1;
  json j = PagesOfSelf(m.AddrArg());
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["totals"]["present"], 5);
  EXPECT_EQ(j["totals"]["pages"], 16);
  ASSERT_GE(j["ranges"].size(), 2u);
  EXPECT_EQ(j["ranges"][0]["offset"], 0);
  EXPECT_EQ(j["ranges"][0]["pages"], 4);
  EXPECT_EQ(j["picture"]["rows"][0], "pppp....p.......");
  EXPECT_EQ(j["written_tracked"], false);
}

TEST(InspectPagesTest, FallbackReaderAgreesOnPresence) {
  AnonMapping m(8 * kPage);
  for (int i : {1, 2, 6}) m.data()[i * kPage] = 1;
  json scan = PagesOfSelf(m.AddrArg());
  json read = PagesOfSelf(m.AddrArg(), {"--pagemap-read"});
  ASSERT_FALSE(read.is_null());
  EXPECT_EQ(read["method"], "pagemap-read");
  EXPECT_EQ(read["totals"]["present"], 3);
  EXPECT_EQ(read["picture"], scan["picture"]);
}

TEST(InspectPagesTest, ShmemPagesAreFilePages) {
  int fd = memfd_create("daxkv-inspect-test", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 4 * kPage), 0);
  char* p = static_cast<char*>(
      mmap(nullptr, 4 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  ASSERT_NE(p, MAP_FAILED);
  p[0] = 1;
  p[3 * kPage] = 1;
  char addr[64];
  std::snprintf(addr, sizeof(addr), "0x%lx-0x%lx",
                reinterpret_cast<unsigned long>(p),
                reinterpret_cast<unsigned long>(p + 4 * kPage));
  json j = PagesOfSelf(addr);
  munmap(p, 4 * kPage);
  close(fd);
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["totals"]["present"], 2);
  if (j["method"] == "PAGEMAP_SCAN") {
    EXPECT_NE(j["ranges"][0]["categories"].get<std::string>().find("file"),
              std::string::npos);
  }
  EXPECT_EQ(j["picture"]["rows"][0], "p..p");
}

TEST(InspectPagesTest, TransparentHugePageShowsAsHuge) {
  if (probe::ReadThpSettings().enabled == "never") {
    GTEST_SKIP() << "THP is disabled (enabled=never)";
  }
  constexpr size_t kHuge = size_t{2} << 20;
  AnonMapping m(2 * kHuge, kHuge);
  ASSERT_EQ(madvise(m.data(), 2 * kHuge, MADV_HUGEPAGE), 0);
  m.data()[0] = 1;  // one fault: a whole PMD if THP obliges
  json j = PagesOfSelf(m.AddrArg());
  ASSERT_FALSE(j.is_null());
  if (j["vma"]["anon_huge_pages_kb"] == 0) {
    GTEST_SKIP() << "the kernel gave no THP (fragmented memory?)";
  }
  if (j["method"] != "PAGEMAP_SCAN") GTEST_SKIP() << "no PAGEMAP_SCAN";
  EXPECT_EQ(j["totals"]["huge"], 512);
  std::string row = j["picture"]["rows"][0];
  EXPECT_EQ(row.substr(0, 512).find_first_not_of('H'), std::string::npos);
}

TEST(InspectPagesTest, WrittenAfterClearWithWpAsync) {
  if (!probe::ProbeUserfaultfd().wp_async() ||
      !probe::ProbePagemapScan().available) {
    GTEST_SKIP() << "needs UFFD_FEATURE_WP_ASYNC and PAGEMAP_SCAN";
  }
  AnonMapping m(8 * kPage);
  std::memset(m.data(), 1, 8 * kPage);
  StatusOr<std::unique_ptr<probe::DirtyTracker>> t =
      probe::DirtyTracker::Create(probe::DirtyTrackingMethod::kWpAsync,
                                  m.data(), 8 * kPage);
  ASSERT_OK(t);
  ASSERT_OK((*t)->Reset());
  m.data()[2 * kPage] = 2;
  m.data()[5 * kPage] = 2;
  json j = PagesOfSelf(m.AddrArg());
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["written_tracked"], true);
  EXPECT_EQ(j["totals"]["written"], 2);
  EXPECT_EQ(j["picture"]["rows"][0], "ppwppwpp");
}

// PATH mode: the tool maps the file itself, read-only unless --touch write.
TEST(InspectPagesTest, FileBeforeAndAfterTouch) {
  const std::string path =
      "/dev/shm/daxkv-inspect-pages-" + std::to_string(getpid());
  {
    std::ofstream f(path, std::ios::binary);
    std::string block(64 * kPage, 'x');
    f.write(block.data(), static_cast<std::streamsize>(block.size()));
  }
  std::string out;
  std::string err;
  ASSERT_EQ(
      RunTool({"pages", path, "--offset", "16K", "--length", "32K", "--json"},
              &out, &err),
      kExitOk)
      << err;
  json before = json::parse(out);
  EXPECT_EQ(before["totals"]["pages"], 8);
  EXPECT_EQ(before["totals"]["present"], 0);  // a fresh mapping
  EXPECT_EQ(before["offset"], 16384);
  ASSERT_EQ(RunTool({"pages", path, "--offset", "16K", "--length", "32K",
                     "--touch", "read", "--json"},
                    &out, &err),
            kExitOk)
      << err;
  json after = json::parse(out);
  EXPECT_EQ(after["totals"]["present"], 8);
  EXPECT_EQ(after["picture"]["rows"][0], "pppppppp");
  ASSERT_EQ(RunTool({"pages", path, "--length", "8K", "--touch", "write"}, &out,
                    &err),
            kExitOk)
      << err;
  EXPECT_NE(out.find("(touched: write)"), std::string::npos) << out;
  std::ifstream f(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(f)), {});
  EXPECT_EQ(content, std::string(64 * kPage, 'x'));  // touching kept bytes
  EXPECT_EQ(RunTool({"pages", path, "--offset", "1M"}, &out, &err), kExitUsage);
  EXPECT_NE(err.find("past the end"), std::string::npos) << err;
  EXPECT_EQ(RunTool({"pages", path, "--offset", "100"}, &out, &err),
            kExitUsage);
  std::remove(path.c_str());
}

// Lab: a read touch of a 2 MiB-aligned devdax takes one fault per 2 MiB
// (PMD mappings); where PAGEMAP_SCAN exists the pages also show as huge.
TEST(InspectPagesTest, RealDevDaxReadFaultsArePmdSized) {
  const char* dev = Env("DAXKV_TEST_DEVDAX");
  if (dev == nullptr) {
    GTEST_SKIP() << "DAXKV_TEST_DEVDAX is not set";
  }
  std::string out;
  std::string err;
  ASSERT_EQ(
      RunTool({"pages", dev, "--length", "8M", "--touch", "read", "--json"},
              &out, &err),
      kExitOk)
      << err;
  json j = json::parse(out);
  EXPECT_EQ(j["totals"]["present"], 2048);
  EXPECT_GE(j["touch_faults"].get<uint64_t>(), 1u);
  EXPECT_LE(j["touch_faults"].get<uint64_t>(), 4u) << "not PMD-mapped";
  EXPECT_EQ(j["vma"]["kernel_page_size_kb"], 2048);
  if (j["method"] == "PAGEMAP_SCAN") {
    EXPECT_EQ(j["totals"]["huge"], 2048);
    EXPECT_EQ(j["picture"]["rows"][0], "HHHH");
  }
}

TEST(InspectPagesTest, BadInputIsAUsageErrorNotACrash) {
  std::string out;
  std::string err;
  const std::string pid = std::to_string(getpid());
  EXPECT_EQ(RunTool({"pages"}, &out, &err), kExitUsage);
  EXPECT_EQ(RunTool({"pages", "--pid", pid, "--addr", "zz-1"}, &out, &err),
            kExitUsage);
  EXPECT_NE(err.find("--addr START-END"), std::string::npos);
  EXPECT_EQ(RunTool({"pages", "--pid", pid, "--addr", "2000-1000"}, &out, &err),
            kExitUsage);
  EXPECT_EQ(
      RunTool({"pages", "--pid", "abc", "--addr", "1000-2000"}, &out, &err),
      kExitUsage);
  EXPECT_EQ(
      RunTool({"pages", "--pid", pid, "--addr", "1000-2000", "--touch", "read"},
              &out, &err),
      kExitUsage);
  EXPECT_EQ(RunTool({"pages", "/nonexistent/daxkv"}, &out, &err),
            kExitOperational);
  EXPECT_NE(err.find("no such file"), std::string::npos);
  EXPECT_EQ(RunTool({"pages", "/dev/null", "--touch", "bogus"}, &out, &err),
            kExitUsage);
}

}  // namespace
}  // namespace daxkv::inspect
