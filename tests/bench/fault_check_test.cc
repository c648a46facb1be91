#include "bench/faultbench/fault_check.h"

#include <gtest/gtest.h>

#include "probe/mapping.h"
#include "probe/system_info.h"

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
  EXPECT_TRUE(m.ok()) << m.status().ToString();
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
  ASSERT_TRUE(m->PopulateWrite().ok());
  uint64_t faults = WriteEveryPage(*m);
  Status s = CheckFaults("prefaulted", faults,
                         {OnePer(kBytes, k4K, "1 fault per 4 KiB PTE")});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.ToString().find("no faults taken"), std::string::npos)
      << s.ToString();
  EXPECT_NE(s.ToString().find("prefaulted"), std::string::npos);
}

TEST(FaultCheckTest, DiscardMakesTheRangeFaultAgain) {
  auto m = Anon4K();
  ASSERT_NE(m, nullptr);
  WriteEveryPage(*m);
  ASSERT_TRUE(m->Discard().ok());
  uint64_t faults = WriteEveryPage(*m);
  EXPECT_TRUE(CheckFaults("discarded", faults, {OnePer(kBytes, k4K, "")}).ok())
      << faults;
}

TEST(FaultCheckTest, PteFallbackOfAHugeCaseIsRejected) {
  // A "2 MiB" case that took a fault per 4 KiB page.
  Status s = CheckFaults("huge", kBytes / k4K,
                         {OnePer(kBytes, 2 << 20, "1 fault per 2 MiB PMD")});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("fell back to PTEs"), std::string::npos);
}

TEST(FaultCheckTest, AlternativesAcceptEitherModel) {
  std::vector<FaultExpectation> either = {NoFaults("writable at read"),
                                          OnePer(kBytes, k4K, "mkwrite")};
  EXPECT_TRUE(CheckFaults("a", 0, either).ok());
  EXPECT_TRUE(CheckFaults("b", kBytes / k4K, either).ok());
  EXPECT_FALSE(CheckFaults("c", 300, either).ok());
  EXPECT_EQ(MatchingModel(kBytes / k4K, either), "mkwrite");
  EXPECT_EQ(MatchingModel(300, either), "");
}

TEST(FaultCheckTest, HugeCensus) {
  EXPECT_TRUE(CheckHuge("x", 512, 512, true).ok());
  EXPECT_FALSE(CheckHuge("x", 0, 512, true).ok());
  EXPECT_FALSE(CheckHuge("x", 512, 512, false).ok());
  EXPECT_TRUE(CheckHuge("x", 0, 512, false).ok());
}

}  // namespace
}  // namespace daxkv::faultbench
