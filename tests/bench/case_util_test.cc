#include "bench/faultbench/case_util.h"

#include <gtest/gtest.h>

namespace daxkv::faultbench {
namespace {

// Recording a sample must never fault: the buffer's pages are written when
// the case starts. Before the fix, 16384 samples (a devdax 4 KiB case at
// --region_mb=64) took 32 faults inside the timed window.
TEST(CaseStatsTest, RecordingSamplesTakesNoFaults) {
  Settings s;
  s.iterations = 3;
  SetSettings(s);
  CaseStats stats(16384);
  std::vector<uint64_t>& samples = stats.samples();
  FaultWindow w;
  for (int iteration = 0; iteration < 4; ++iteration) {
    for (uint64_t i = 0; i < 16384; ++i) samples.push_back(i);
  }
  EXPECT_LE(w.Faults(), 2u);
  EXPECT_EQ(samples.size(), 4u * 16384);
}

TEST(CaseStatsTest, ParsesEvidenceModes) {
  EvidenceMode m = EvidenceMode::kAuto;
  EXPECT_TRUE(ParseEvidenceMode("on", &m));
  EXPECT_EQ(m, EvidenceMode::kOn);
  EXPECT_TRUE(ParseEvidenceMode("off", &m));
  EXPECT_EQ(m, EvidenceMode::kOff);
  EXPECT_FALSE(ParseEvidenceMode("yes", &m));
}

}  // namespace
}  // namespace daxkv::faultbench
