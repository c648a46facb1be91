#include "bench/faultbench/fault_check.h"

#include <gtest/gtest.h>

#include "probe/mapping.h"
#include "probe/system_info.h"
#include "tests/support/status_matchers.h"

namespace daxkv::faultbench {
namespace {

constexpr size_t k4K = 4096;
constexpr size_t kBytes = 4 << 20;

// Writes one byte per page and returns the faults the thread took.
uint64_t WriteEveryPage(probe::Mapping& m) {
  probe::FaultCounts before = probe::ThreadFaultCounts();
  for (size_t off = 0; off < m.size(); off += k4K) {
    *static_cast<volatile char*>(m.data() + off) = 1;
  }
  return probe::ThreadFaultCounts().total() - before.total();
}

std::unique_ptr<probe::Mapping> Anon4K() {
  probe::MappingOptions o;
  o.size = kBytes;
  o.thp = probe::ThpAdvice::kNoHugePage;
  auto m = probe::Mapping::Create(o);
  EXPECT_OK(m);
  return m.ok() ? std::move(*m) : nullptr;
}

TEST(FaultCheckTest, FreshAnonRangeTakesOneFaultPerPage) {
  auto m = Anon4K();
  ASSERT_NE(m, nullptr);
  uint64_t faults = WriteEveryPage(*m);
  EXPECT_TRUE(
      CheckFaults("fresh", faults, {OnePer(kBytes, k4K, "per page")}).ok())
      << faults;
}

TEST(FaultCheckTest, PrefaultedRangeIsRejectedAsNoFaultsTaken) {
  auto m = Anon4K();
  ASSERT_NE(m, nullptr);
  ASSERT_OK(m->PopulateWrite());
  uint64_t faults = WriteEveryPage(*m);
  Status s = CheckFaults("prefaulted", faults,
                         {OnePer(kBytes, k4K, "1 fault per 4 KiB PTE")});
  ASSERT_THAT(s, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_NE(s.ToString().find("no faults taken"), std::string::npos)
      << s.ToString();
  EXPECT_NE(s.ToString().find("prefaulted"), std::string::npos);
}

TEST(FaultCheckTest, DiscardMakesTheRangeFaultAgain) {
  auto m = Anon4K();
  ASSERT_NE(m, nullptr);
  WriteEveryPage(*m);
  ASSERT_OK(m->Discard());
  uint64_t faults = WriteEveryPage(*m);
  EXPECT_OK(CheckFaults("discarded", faults, {OnePer(kBytes, k4K, "")}))
      << faults;
}

TEST(FaultCheckTest, PteFallbackOfAHugeCaseIsRejected) {
  // A "2 MiB" case that took a fault per 4 KiB page.
  Status s = CheckFaults("huge", kBytes / k4K,
                         {OnePer(kBytes, 2 << 20, "1 fault per 2 MiB PMD")});
  ASSERT_THAT(s, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_NE(s.ToString().find("fell back to PTEs"), std::string::npos);
}

TEST(FaultCheckTest, AlternativesAcceptEitherModel) {
  std::vector<FaultExpectation> either = {NoFaults("writable at read"),
                                          OnePer(kBytes, k4K, "mkwrite")};
  EXPECT_OK(CheckFaults("a", 0, either));
  EXPECT_OK(CheckFaults("b", kBytes / k4K, either));
  EXPECT_THAT(CheckFaults("c", 300, either),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(MatchingModel(kBytes / k4K, either), "mkwrite");
  EXPECT_EQ(MatchingModel(300, either), "");
}

TEST(FaultCheckTest, HugeCensus) {
  EXPECT_OK(CheckHuge("x", 512, 512, true));
  EXPECT_THAT(CheckHuge("x", 0, 512, true),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(CheckHuge("x", 512, 512, false),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_OK(CheckHuge("x", 0, 512, false));
}

}  // namespace
}  // namespace daxkv::faultbench
