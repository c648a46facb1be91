#include "probe/uffd.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "probe/dirty_tracking.h"
#include "probe/linux_compat.h"
#include "probe/mapping.h"
#include "probe/page_state.h"
#include "probe/pin.h"
#include "tests/support/status_matchers.h"

namespace daxkv::probe {
namespace {

constexpr size_t k4K = 4096;

std::unique_ptr<Mapping> Map(MappingBacking b, size_t size) {
  MappingOptions o;
  o.backing = b;
  o.size = size;
  o.thp = ThpAdvice::kNoHugePage;
  auto m = Mapping::Create(o);
  EXPECT_OK(m);
  return m.ok() ? std::move(*m) : nullptr;
}

// Opens a userfaultfd with `features`, or skips the test saying why.
#define OPEN_UFFD_OR_SKIP(var, features)                            \
  auto var##_or = Userfaultfd::Open(features);                      \
  if (!var##_or.ok()) GTEST_SKIP() << var##_or.status().ToString(); \
  auto& var = *var##_or

TEST(UffdTest, MissingCopyRoundTripThroughHandlerThread) {
  OPEN_UFFD_OR_SKIP(uffd, 0);
  auto m = Map(MappingBacking::kAnon, 8 * k4K);
  ASSERT_NE(m, nullptr);
  ASSERT_OK(uffd->Register(m->data(), m->size(), kUffdMissing));
  std::vector<char> src(k4K, 0x42);
  auto h =
      UffdHandler::Start(uffd.get(), [&](Userfaultfd& u, const UffdFault& f) {
        return u.Copy(reinterpret_cast<void*>(f.address & ~(k4K - 1)),
                      src.data(), k4K);
      });
  ASSERT_OK(h);
  EXPECT_EQ(m->data()[3 * k4K + 5], 0x42);
  EXPECT_EQ(m->data()[0], 0x42);
  EXPECT_EQ((*h)->faults_handled(), 2u);
  EXPECT_OK((*h)->error());
}

TEST(UffdTest, MinorContinueMapsTheCachedPage) {
  OPEN_UFFD_OR_SKIP(uffd, UFFD_FEATURE_MINOR_SHMEM);
  auto m = Map(MappingBacking::kMemfd, 4 * k4K);
  ASSERT_NE(m, nullptr);
  m->data()[k4K] = 9;  // in the page cache now
  ASSERT_OK(m->Discard());
  ASSERT_OK(uffd->Register(m->data(), m->size(), kUffdMinor));
  auto h =
      UffdHandler::Start(uffd.get(), [](Userfaultfd& u, const UffdFault& f) {
        if (!f.minor) return InternalError("expected a MINOR fault");
        return u.Continue(reinterpret_cast<void*>(f.address & ~(k4K - 1)), k4K);
      });
  ASSERT_OK(h);
  EXPECT_EQ(m->data()[k4K], 9);
  EXPECT_EQ((*h)->faults_handled(), 1u);
  EXPECT_OK((*h)->error());
}

TEST(UffdTest, MoveTakesPagesFromTheSource) {
  OPEN_UFFD_OR_SKIP(uffd, UFFD_FEATURE_MOVE);
  auto src = Map(MappingBacking::kAnon, 4 * k4K);
  auto dst = Map(MappingBacking::kAnon, 4 * k4K);
  ASSERT_TRUE(src && dst);
  std::memset(src->data(), 7, src->size());
  ASSERT_OK(uffd->Register(dst->data(), dst->size(), kUffdMissing));
  auto moved = uffd->Move(dst->data(), src->data(), src->size());
  ASSERT_OK(moved);
  EXPECT_EQ(*moved, src->size());
  EXPECT_EQ(dst->data()[2 * k4K], 7);
  auto s = ScanPages(src->begin(), src->end());
  ASSERT_OK(s);
  EXPECT_EQ(s->CountPages(kPageIsPresent), 0u);
}

TEST(UffdTest, WpAsyncTrackerCountsWrittenPages) {
  auto m = Map(MappingBacking::kAnon, 32 * k4K);
  ASSERT_NE(m, nullptr);
  ASSERT_OK(m->PopulateWrite());
  for (DirtyTrackingMethod method :
       {DirtyTrackingMethod::kWpAsync, DirtyTrackingMethod::kMprotect}) {
    auto t = DirtyTracker::Create(method, m->data(), m->size());
    if (!t.ok()) {
      EXPECT_THAT(t, StatusIs(StatusCode::kNotSupported));
      continue;
    }
    for (size_t p : {1, 5, 6, 31}) m->data()[p * k4K] += 1;
    auto dirty = (*t)->Collect();
    ASSERT_OK(dirty);
    EXPECT_EQ(*dirty, 4u) << DirtyTrackingMethodName(method);
    m->data()[2 * k4K] += 1;
    dirty = (*t)->Collect();
    ASSERT_OK(dirty);
    EXPECT_EQ(*dirty, 1u) << DirtyTrackingMethodName(method);
  }
}

TEST(UffdTest, ForkCopiesPinnedPagesEarly) {
  auto m = Map(MappingBacking::kAnon, 64 * k4K);
  ASSERT_NE(m, nullptr);
  ASSERT_OK(m->PopulateWrite());
  auto pins = PinnedBuffers::Pin(m->data(), m->size());
  if (!pins.ok()) GTEST_SKIP() << pins.status().ToString();
  uint64_t exclusive = 0;
  auto ns = TimeFork([&] {
    auto e = ReadPagemap(m->begin(), m->end());
    if (e.ok()) {
      for (const PagemapEntry& x : *e) exclusive += x.exclusive;
    }
  });
  ASSERT_OK(ns);
  EXPECT_EQ(exclusive, 64u) << "pinned pages must be copied at fork";
}

}  // namespace
}  // namespace daxkv::probe
