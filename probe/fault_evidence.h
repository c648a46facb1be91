// The kernel functions behind each DAX fault path, and what their call
// counts prove (see probe/kernel_functions.h for how they are counted).
//
// A DAX fault ends in one function that installs the page-table entry:
//
//   entry | legacy (before 6.15)               | refcounted (6.15+)
//   PTE   | vmf_insert_mixed (read; devdax     | vmf_insert_page_mkwrite
//         | always), vmf_insert_mixed_mkwrite  | (read, write and upgrade)
//         | (fsdax write and upgrade)          |
//   PMD   | vmf_insert_pfn_pmd[_prot]          | vmf_insert_folio_pmd
//   PUD   | vmf_insert_pfn_pud[_prot]          | vmf_insert_folio_pud
//
// (drivers/dax/device.c, fs/dax.c dax_fault_iter / dax_insert_pfn_mkwrite,
// mm/memory.c, mm/huge_memory.c). The legacy functions look up the PAT
// cache mode of the pfn on every insert (track_pfn_insert); the refcounted
// ones take the VMA's protection as it is. A 6.15+ kernel still has the legacy
// names for other users (vmf_insert_mixed, vmf_insert_pfn_pmd), so which
// path a fault took shows in which of them ran, not in which exist.
//
// A write to a present read-only entry (the "upgrade", seed 001) takes
// do_wp_page (PTE) or wp_huge_pmd (PMD), then:
//  - fsdax: ->pfn_mkwrite (legacy: the PTE is special; refcounted: the page
//    is an fsdax page, is_fsdax_page) -> dax_iomap_fault -> the insert
//    function above with write set, which makes the present entry writable
//    in place (insert_pfn / insert_page_into_pte_locked, insert_pfn_pmd /
//    insert_pmd).
//  - devdax PTE: no driver call. Legacy: vm_normal_page() finds no page
//    behind the devmap PTE, so wp_pfn_shared -> wp_page_reuse.
//    Refcounted: the page is a normal page now, so wp_page_shared ->
//    wp_page_reuse and fault_dirty_shared_page (folio_mark_dirty, a no-op
//    for device-dax, and file_update_time).
//  - devdax PMD: ->huge_fault -> the PMD insert function with write set.
//
// Thread-safety: plain functions over values.
#ifndef DAXKV_PROBE_FAULT_EVIDENCE_H_
#define DAXKV_PROBE_FAULT_EVIDENCE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "probe/fault_path.h"
#include "probe/kernel_functions.h"

namespace daxkv::probe {

enum class DaxEntryLevel { kPte, kPmd, kPud };
DaxEntryLevel DaxEntryLevelFor(size_t mapping_unit);  // 4K, 2M, 1G
const char* DaxEntryLevelName(DaxEntryLevel level);   // "PTE", ...

// Every function probed as DAX fault evidence, in a stable order: the
// insert functions of both paths, then the fault plumbing around them
// (handle_mm_fault, do_wp_page, the DAX and ext4 fault handlers, ...). A
// kernel has a subset; kprobes go on what it has.
const std::vector<std::string>& DaxEvidenceFunctions();

// The insert functions of `path` for `level` (legacy lists both spellings,
// vmf_insert_pfn_pmd and 6.1's vmf_insert_pfn_pmd_prot).
std::vector<std::string> InsertFunctions(DaxFaultPath path,
                                         DaxEntryLevel level);

// The path the running kernel's own symbols say it has:
// vmf_insert_page_mkwrite exists only where the refcounted series landed.
DaxFaultPath FaultPathFromSymbols(const KernelSymbols& symbols,
                                  std::string* why);

// The path the faults of one measurement took, from its function hits:
// refcounted when only refcounted insert functions ran, legacy when only
// legacy ones did; kUnknown when both or neither did (`why` says which).
DaxFaultPath FaultPathFromHits(const std::map<std::string, uint64_t>& hits,
                               std::string* why);

// What proves that a write to a present read-only DAX entry was upgraded
// in place, for a path, level and backing: groups of alternative names
// (one kernel spelling or another); each group's hits must cover every
// upgrade fault.
using FunctionGroups = std::vector<std::vector<std::string>>;
FunctionGroups UpgradeFunctions(DaxFaultPath path, DaxEntryLevel level,
                                bool fsdax);

// Sum of hits over `names` (absent names count 0).
uint64_t SumHits(const std::map<std::string, uint64_t>& hits,
                 const std::vector<std::string>& names);

}  // namespace daxkv::probe

#endif  // DAXKV_PROBE_FAULT_EVIDENCE_H_
