#include "probe/page_state.h"

#include <gtest/gtest.h>

#include "probe/mapping.h"
#include "tests/support/status_matchers.h"

namespace daxkv::probe {
namespace {

constexpr size_t kPage = 4096;

std::unique_ptr<Mapping> MapOrDie(MappingBacking b, size_t size,
                                  ThpAdvice thp = ThpAdvice::kNoHugePage) {
  MappingOptions o;
  o.backing = b;
  o.size = size;
  o.thp = thp;
  auto m = Mapping::Create(o);
  EXPECT_OK(m);
  return m.ok() ? std::move(*m) : nullptr;
}

TEST(PageStateTest, AnonPresentAfterWriteOnly) {
  auto m = MapOrDie(MappingBacking::kAnon, 16 * kPage);
  ASSERT_NE(m, nullptr);
  for (size_t i = 0; i < 4; ++i) m->data()[i * kPage] = 1;
  PageScanOptions o;
  o.category_mask = kPageIsPresent;
  o.return_mask = kPageIsPresent;
  auto r = ScanPages(m->begin(), m->end(), o);
  ASSERT_OK(r);
  EXPECT_EQ(r->CountPages(kPageIsPresent), 4u);
  ASSERT_EQ(r->ranges.size(), 1u);
  EXPECT_EQ(r->ranges[0].start, m->begin());
}

TEST(PageStateTest, FallbackReaderAgreesOnPresence) {
  auto m = MapOrDie(MappingBacking::kAnon, 16 * kPage);
  ASSERT_NE(m, nullptr);
  m->data()[3 * kPage] = 1;
  m->data()[9 * kPage] = 1;
  PageScanOptions o;
  o.category_mask = kPageIsPresent;
  o.return_mask = kPageIsPresent;
  o.force_pagemap_read = true;
  auto r = ScanPages(m->begin(), m->end(), o);
  ASSERT_OK(r);
  EXPECT_EQ(r->method, PageScanMethod::kPagemapRead);
  EXPECT_EQ(r->CountPages(kPageIsPresent), 2u);
  ASSERT_EQ(r->ranges.size(), 2u);
  EXPECT_EQ(r->ranges[1].start, m->begin() + 9 * kPage);
}

TEST(PageStateTest, WrittenAndPfnZero) {
  if (!PagemapScanAvailable()) GTEST_SKIP() << "no PAGEMAP_SCAN";
  auto m = MapOrDie(MappingBacking::kAnon, 8 * kPage);
  ASSERT_NE(m, nullptr);
  volatile char sink = m->data()[0];  // read: maps the shared zero page
  (void)sink;
  m->data()[kPage] = 1;
  auto r = ScanPages(m->begin(), m->begin() + 2 * kPage);
  ASSERT_OK(r);
  ASSERT_EQ(r->ranges.size(), 2u) << PageCategoryNames(r->ranges[0].categories);
  EXPECT_TRUE(r->ranges[0].categories & kPageIsPfnZero);
  EXPECT_TRUE(r->ranges[1].categories & kPageIsWritten);
  EXPECT_FALSE(r->ranges[1].categories & kPageIsFile);
}

TEST(PageStateTest, FileAndShmemPagesAreFile) {
  for (MappingBacking b :
       {MappingBacking::kFileShared, MappingBacking::kShmemFile,
        MappingBacking::kMemfd}) {
    auto m = MapOrDie(b, 4 * kPage, ThpAdvice::kNone);
    ASSERT_NE(m, nullptr);
    m->data()[0] = 1;
    auto r = ScanPages(m->begin(), m->begin() + kPage);
    ASSERT_OK(r);
    EXPECT_EQ(r->CountPages(kPageIsPresent | kPageIsFile), 1u)
        << MappingBackingName(b);
    auto e = ReadPagemap(m->begin(), m->begin() + kPage);
    ASSERT_OK(e);
    EXPECT_TRUE((*e)[0].present && (*e)[0].file_or_shared_anon);
  }
}

TEST(PageStateTest, HugeAnonIsHugeAndInSmaps) {
  if (!PagemapScanAvailable()) GTEST_SKIP() << "no PAGEMAP_SCAN";
  constexpr size_t k2M = size_t{2} << 20;
  MappingOptions o;
  o.size = k2M;
  o.alignment = k2M;
  o.thp = ThpAdvice::kHugePage;
  auto m = Mapping::Create(o);
  ASSERT_OK(m);
  (*m)->data()[0] = 1;
  auto r = ScanPages((*m)->begin(), (*m)->end());
  ASSERT_OK(r);
  if (r->CountPages(kPageIsHuge) == 0) {
    GTEST_SKIP() << "THP disabled or no huge page available";
  }
  EXPECT_EQ(r->CountPages(kPageIsHuge | kPageIsPresent), 512u);
  auto v = dax::ReadSmapsVma((*m)->begin());
  ASSERT_OK(v);
  EXPECT_EQ(v->anon_huge_pages_kb, 2048u);
  EXPECT_EQ(v->start, (*m)->begin());
}

TEST(PageStateTest, SmapsParsesFields) {
  const std::string text =
      "7f0000000000-7f0000200000 rw-s 00000000 00:05 12 /dev/dax0.0\n"
      "Size:               2048 kB\n"
      "Rss:                2048 kB\n"
      "Pss:                1024 kB\n"
      "Shared_Clean:       2048 kB\n"
      "FilePmdMapped:      2048 kB\n"
      "VmFlags: rd wr sh mr mw me ms\n"
      "7f0000200000-7f0000201000 r--p 00000000 00:00 0 \n"
      "Rss:                   4 kB\n";
  auto v = dax::ParseSmaps(text);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].pathname, "/dev/dax0.0");
  EXPECT_EQ(v[0].perms, "rw-s");
  EXPECT_EQ(v[0].pss_kb, 1024u);
  EXPECT_EQ(v[0].shared_clean_kb, 2048u);
  EXPECT_EQ(v[0].file_pmd_mapped_kb, 2048u);
  EXPECT_EQ(v[0].vm_flags, "rd wr sh mr mw me ms");
  EXPECT_EQ(v[1].start, 0x7f0000200000u);
  EXPECT_EQ(v[1].rss_kb, 4u);
}

TEST(PageStateTest, SoftDirtyClearsAndSets) {
  auto m = MapOrDie(MappingBacking::kAnon, 2 * kPage);
  ASSERT_NE(m, nullptr);
  m->data()[0] = 1;
  auto fresh = ReadPagemap(m->begin(), m->end());
  ASSERT_OK(fresh);
  if (!(*fresh)[0].soft_dirty) {
    GTEST_SKIP() << "a freshly written page is not soft-dirty: kernel "
                    "without CONFIG_MEM_SOFT_DIRTY";
  }
  ASSERT_OK(ClearSoftDirty());
  auto before = ReadPagemap(m->begin(), m->end());
  ASSERT_OK(before);
  EXPECT_FALSE((*before)[0].soft_dirty);
  m->data()[0] = 2;
  auto after = ReadPagemap(m->begin(), m->end());
  ASSERT_OK(after);
  EXPECT_TRUE((*after)[0].soft_dirty);
}

TEST(PageStateTest, RejectsBadRange) {
  EXPECT_THAT(ScanPages(4096, 4096), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadPagemap(4097, 8192), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace daxkv::probe
