#include "probe/fault_evidence.h"

namespace daxkv::probe {
namespace {

const std::vector<std::string>& RefcountedInserts() {
  static const std::vector<std::string> kNames = {"vmf_insert_page_mkwrite",
                                                  "vmf_insert_folio_pmd",
                                                  "vmf_insert_folio_pud"};
  return kNames;
}

const std::vector<std::string>& LegacyInserts() {
  static const std::vector<std::string> kNames = {
      "vmf_insert_mixed",   "vmf_insert_mixed_mkwrite",
      "vmf_insert_pfn_pmd", "vmf_insert_pfn_pmd_prot",
      "vmf_insert_pfn_pud", "vmf_insert_pfn_pud_prot"};
  return kNames;
}

std::string HitsText(const std::map<std::string, uint64_t>& hits,
                     const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    auto it = hits.find(n);
    if (it == hits.end() || it->second == 0) continue;
    if (!out.empty()) out += ", ";
    out += n + " " + std::to_string(it->second);
  }
  return out;
}

}  // namespace

DaxEntryLevel DaxEntryLevelFor(size_t unit) {
  if (unit >= (size_t{1} << 30)) return DaxEntryLevel::kPud;
  if (unit >= (size_t{2} << 20)) return DaxEntryLevel::kPmd;
  return DaxEntryLevel::kPte;
}

const char* DaxEntryLevelName(DaxEntryLevel level) {
  switch (level) {
    case DaxEntryLevel::kPte:
      return "PTE";
    case DaxEntryLevel::kPmd:
      return "PMD";
    case DaxEntryLevel::kPud:
      return "PUD";
  }
  return "?";
}

const std::vector<std::string>& DaxEvidenceFunctions() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> v = RefcountedInserts();
    v.insert(v.end(), LegacyInserts().begin(), LegacyInserts().end());
    for (const char* n :
         {"handle_mm_fault", "do_wp_page", "wp_page_reuse",
          "fault_dirty_shared_page", "file_update_time", "do_page_mkwrite",
          "finish_mkwrite_fault", "insert_pfn", "insert_page_into_pte_locked",
          "insert_pmd", "dax_iomap_fault", "dax_iomap_pte_fault",
          "dax_iomap_pmd_fault", "dax_insert_entry", "dev_dax_fault",
          "dev_dax_huge_fault", "ext4_dax_fault", "ext4_dax_huge_fault",
          // The x86 PAT cache-mode lookup the pfn-based inserts make per
          // fault (6.1: track_pfn_insert; 7.x: pfnmap_setup_cachemode).
          "track_pfn_insert", "pfnmap_setup_cachemode"}) {
      v.emplace_back(n);
    }
    return v;
  }();
  return kNames;
}

std::vector<std::string> InsertFunctions(DaxFaultPath path,
                                         DaxEntryLevel level) {
  const bool ref = path == DaxFaultPath::kRefcounted;
  switch (level) {
    case DaxEntryLevel::kPte:
      return ref ? std::vector<std::string>{"vmf_insert_page_mkwrite"}
                 : std::vector<std::string>{"vmf_insert_mixed",
                                            "vmf_insert_mixed_mkwrite"};
    case DaxEntryLevel::kPmd:
      return ref ? std::vector<std::string>{"vmf_insert_folio_pmd"}
                 : std::vector<std::string>{"vmf_insert_pfn_pmd",
                                            "vmf_insert_pfn_pmd_prot"};
    case DaxEntryLevel::kPud:
      return ref ? std::vector<std::string>{"vmf_insert_folio_pud"}
                 : std::vector<std::string>{"vmf_insert_pfn_pud",
                                            "vmf_insert_pfn_pud_prot"};
  }
  return {};
}

DaxFaultPath FaultPathFromSymbols(const KernelSymbols& symbols,
                                  std::string* why) {
  if (symbols.Has("vmf_insert_page_mkwrite")) {
    *why =
        "the kernel has vmf_insert_page_mkwrite (the refcounted ZONE_DEVICE "
        "DAX series, Linux 6.15)";
    return DaxFaultPath::kRefcounted;
  }
  if (symbols.Has("vmf_insert_mixed_mkwrite")) {
    *why =
        "the kernel has vmf_insert_mixed_mkwrite but no "
        "vmf_insert_page_mkwrite: DAX maps special/devmap entries";
    return DaxFaultPath::kLegacy;
  }
  *why =
      "neither vmf_insert_page_mkwrite nor vmf_insert_mixed_mkwrite is in "
      "/proc/kallsyms";
  return DaxFaultPath::kUnknown;
}

DaxFaultPath FaultPathFromHits(const std::map<std::string, uint64_t>& hits,
                               std::string* why) {
  const uint64_t ref = SumHits(hits, RefcountedInserts());
  const uint64_t legacy = SumHits(hits, LegacyInserts());
  if (ref > 0 && legacy == 0) {
    *why = "DAX entries installed by the refcounted functions (" +
           HitsText(hits, RefcountedInserts()) + ")";
    return DaxFaultPath::kRefcounted;
  }
  if (legacy > 0 && ref == 0) {
    *why = "DAX entries installed by the legacy pfn functions (" +
           HitsText(hits, LegacyInserts()) + ")";
    return DaxFaultPath::kLegacy;
  }
  *why = ref == 0 ? "no DAX insert function ran"
                  : "both paths' insert functions ran (" +
                        HitsText(hits, RefcountedInserts()) + "; " +
                        HitsText(hits, LegacyInserts()) + ")";
  return DaxFaultPath::kUnknown;
}

FunctionGroups UpgradeFunctions(DaxFaultPath path, DaxEntryLevel level,
                                bool fsdax) {
  const bool ref = path == DaxFaultPath::kRefcounted;
  if (level == DaxEntryLevel::kPte && !fsdax) {
    // No driver call: do_wp_page reuses the page in place, through
    // wp_page_shared on the refcounted path (fault_dirty_shared_page), the
    // special-PTE wp_pfn_shared on the legacy one (wp_page_reuse is
    // notrace on 6.1, so do_wp_page is the evidence there).
    if (ref) return {{"do_wp_page"}, {"fault_dirty_shared_page"}};
    return {{"do_wp_page"}};
  }
  if (level == DaxEntryLevel::kPte) {
    return {{"do_wp_page"},
            {ref ? "vmf_insert_page_mkwrite" : "vmf_insert_mixed_mkwrite"}};
  }
  return {InsertFunctions(path, level)};
}

uint64_t SumHits(const std::map<std::string, uint64_t>& hits,
                 const std::vector<std::string>& names) {
  uint64_t n = 0;
  for (const std::string& name : names) {
    auto it = hits.find(name);
    if (it != hits.end()) n += it->second;
  }
  return n;
}

}  // namespace daxkv::probe
