#include "probe/kernel_functions.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "probe/fault_evidence.h"
#include "tests/support/status_matchers.h"

namespace daxkv::probe {
namespace {

// Lines as /proc/kallsyms prints them on the lab's kernels.
constexpr char kKallsyms[] =
    "ffffffff81234560 T handle_mm_fault\n"
    "ffffffff81234570 t insert_pmd.isra.0\n"
    "ffffffff81234580 t do_wp_page\n"
    "ffffffff81234590 t do_wp_page.cold\n"
    "ffffffff812345a0 T vmf_insert_page_mkwrite\n"
    "ffffffff812345b0 t dup.constprop.0\n"
    "ffffffff812345c0 t dup.isra.0\n"
    "ffffffff812345d0 t split.part.0\n"
    "ffffffff812345e0 D not_text\n"
    "ffffffffc0a00000 t dev_dax_huge_fault\t[device_dax]\n"
    "ffffffffc0a00100 t dev_dax_huge_fault.cold\t[device_dax]\n";

TEST(KernelSymbolsTest, FindsExactSuffixedAndModuleSymbols) {
  KernelSymbols s = KernelSymbols::Parse(kKallsyms);
  std::optional<KernelSymbol> k = s.Find("handle_mm_fault");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->ProbeTarget(), "handle_mm_fault");
  // A compiler clone is the function's entry; .cold and .part are not.
  k = s.Find("insert_pmd");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->ProbeTarget(), "insert_pmd.isra.0");
  EXPECT_EQ(s.Find("do_wp_page")->symbol, "do_wp_page");
  EXPECT_FALSE(s.Has("split"));
  // Two clones: a kprobe by name would be ambiguous.
  EXPECT_FALSE(s.Has("dup"));
  EXPECT_FALSE(s.Has("not_text"));
  k = s.Find("dev_dax_huge_fault");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->ProbeTarget(), "device_dax:dev_dax_huge_fault");
  EXPECT_EQ(s.FirstOf({"vmf_insert_pfn_pmd", "vmf_insert_page_mkwrite"}),
            "vmf_insert_page_mkwrite");
  EXPECT_EQ(s.FirstOf({"nope"}), "");
}

TEST(KernelSymbolsTest, TheRunningKernelHasHandleMmFault) {
  StatusOr<KernelSymbols> s = KernelSymbols::Load();
  ASSERT_OK(s);
  EXPECT_TRUE(s->Has("handle_mm_fault"));
}

TEST(KernelSymbolsTest, HitsBetweenSubtractsPerName) {
  EXPECT_EQ(HitsBetween({{"a", 5}, {"b", 1}}, {{"a", 7}, {"b", 1}, {"c", 3}}),
            (std::map<std::string, uint64_t>{{"a", 2}, {"b", 0}, {"c", 3}}));
}

// Needs root and tracefs with kprobe events (the lab guest; a host may
// have neither): counts the page faults this test takes.
TEST(KprobeCountersTest, CountsCallsOfAFunction) {
  StatusOr<KernelSymbols> s = KernelSymbols::Load();
  ASSERT_OK(s);
  StatusOr<std::unique_ptr<KprobeCounters>> k =
      KprobeCounters::Create(*s, {"handle_mm_fault", "no_such_function"});
  if (!k.ok()) GTEST_SKIP() << k.status().ToString();
  EXPECT_EQ((*k)->probed(), std::vector<std::string>{"handle_mm_fault"});
  EXPECT_EQ((*k)->missing().count("no_such_function"), 1u);
  ASSERT_OK((*k)->Enable());
  auto before = (*k)->Read();
  ASSERT_OK(before);
  const size_t kPages = 64;
  char* p = static_cast<char*>(malloc(kPages * 4096 + 4096));
  for (size_t i = 0; i < kPages; ++i) p[i * 4096] = 1;  // faults, mostly
  auto after = (*k)->Read();
  ASSERT_OK((*k)->Disable());
  free(p);
  ASSERT_OK(after);
  EXPECT_GT(HitsBetween(*before, *after)["handle_mm_fault"], 0u);
}

TEST(FaultEvidenceTest, PathFromSymbols) {
  std::string why;
  EXPECT_EQ(FaultPathFromSymbols(KernelSymbols::Parse(kKallsyms), &why),
            DaxFaultPath::kRefcounted);
  KernelSymbols legacy = KernelSymbols::Parse(
      "1 T vmf_insert_mixed_mkwrite\n2 T vmf_insert_pfn_pmd_prot\n");
  EXPECT_EQ(FaultPathFromSymbols(legacy, &why), DaxFaultPath::kLegacy);
  EXPECT_EQ(FaultPathFromSymbols(KernelSymbols::Parse(""), &why),
            DaxFaultPath::kUnknown);
}

TEST(FaultEvidenceTest, PathFromHits) {
  std::string why;
  EXPECT_EQ(FaultPathFromHits({{"vmf_insert_folio_pmd", 4},
                               {"vmf_insert_mixed", 0},
                               {"handle_mm_fault", 9}},
                              &why),
            DaxFaultPath::kRefcounted);
  EXPECT_NE(why.find("vmf_insert_folio_pmd 4"), std::string::npos) << why;
  EXPECT_EQ(FaultPathFromHits({{"vmf_insert_pfn_pmd_prot", 4}}, &why),
            DaxFaultPath::kLegacy);
  EXPECT_EQ(FaultPathFromHits({{"handle_mm_fault", 4}}, &why),
            DaxFaultPath::kUnknown);
  EXPECT_EQ(why, "no DAX insert function ran");
  EXPECT_EQ(
      FaultPathFromHits(
          {{"vmf_insert_page_mkwrite", 1}, {"vmf_insert_mixed", 1}}, &why),
      DaxFaultPath::kUnknown);
}

TEST(FaultEvidenceTest, UpgradeFunctionsFollowTheKernelCode) {
  using P = DaxFaultPath;
  using L = DaxEntryLevel;
  EXPECT_EQ(UpgradeFunctions(P::kRefcounted, L::kPte, /*fsdax=*/true),
            (FunctionGroups{{"do_wp_page"}, {"vmf_insert_page_mkwrite"}}));
  EXPECT_EQ(UpgradeFunctions(P::kLegacy, L::kPte, true),
            (FunctionGroups{{"do_wp_page"}, {"vmf_insert_mixed_mkwrite"}}));
  EXPECT_EQ(UpgradeFunctions(P::kRefcounted, L::kPte, false),
            (FunctionGroups{{"do_wp_page"}, {"fault_dirty_shared_page"}}));
  EXPECT_EQ(UpgradeFunctions(P::kLegacy, L::kPte, false),
            (FunctionGroups{{"do_wp_page"}}));
  EXPECT_EQ(
      UpgradeFunctions(P::kLegacy, L::kPmd, false),
      (FunctionGroups{{"vmf_insert_pfn_pmd", "vmf_insert_pfn_pmd_prot"}}));
  EXPECT_EQ(UpgradeFunctions(P::kRefcounted, L::kPmd, true),
            (FunctionGroups{{"vmf_insert_folio_pmd"}}));
  EXPECT_EQ(DaxEntryLevelFor(4096), L::kPte);
  EXPECT_EQ(DaxEntryLevelFor(size_t{2} << 20), L::kPmd);
  EXPECT_EQ(DaxEntryLevelFor(size_t{1} << 30), L::kPud);
  EXPECT_EQ(SumHits({{"a", 2}, {"b", 3}}, {"a", "b", "c"}), 5u);
}

}  // namespace
}  // namespace daxkv::probe
