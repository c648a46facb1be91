// Which DAX fault path the running kernel uses.
//
//  - Legacy (every kernel before the refcounted ZONE_DEVICE DAX series,
//    e.g. Debian's 6.1): DAX faults insert special/devmap PTEs and PMDs
//    (vmf_insert_pfn*). DAX pages get no refcount or mapcount, so smaps
//    counts a PMD-mapped page as private however many processes map it
//    (Pss = Rss, Private_Clean = Rss, Shared_Clean = 0) and does not count
//    PTE-mapped DAX pages at all (Rss 0).
//  - Refcounted (Linux 6.15+): vmf_insert_page_mkwrite /
//    vmf_insert_folio_pmd take a reference and a mapcount like page-cache
//    pages, so the same pages mapped by two processes show as Shared and
//    Pss = Rss / 2.
//
// DetectFaultPath() decides from evidence when it can map a DAX device or
// fsdax file (two processes read the same range, the parent's smaps tells),
// and from the kernel release otherwise; the report says which. Where it
// can (root, tracefs, kprobe events) it also counts the kernel functions
// that installed the entries during that read (probe/fault_evidence.h), and
// those counts decide: smaps infers the path from accounting, the counts
// show it. Both verdicts and the kernel's own symbols are in the report.
//
// Thread-safety: DetectFaultPath() forks; call it where fork() is safe (the
// child only reads memory, uses pipes and _exits).
#ifndef DAXKV_PROBE_FAULT_PATH_H_
#define DAXKV_PROBE_FAULT_PATH_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "base/status.h"
#include "base/statusor.h"
#include "probe/page_state.h"

namespace daxkv::probe {

enum class DaxFaultPath { kLegacy, kRefcounted, kUnknown };
enum class FaultPathSource { kEvidence, kKernelFunctions, kKernelRelease };

const char* DaxFaultPathName(DaxFaultPath p);  // "legacy", ...
// "evidence" (smaps), "kernel functions" (kprobe counts), "kernel release".
const char* FaultPathSourceName(FaultPathSource s);

// Reads every page of [data, data + length) here and in a forked child
// (fork copies no PTEs of shared file VMAs, so the child faults its own),
// and returns this process's smaps totals for the VMA while both hold it.
// Works on any shared mapping (tests use tmpfs, whose pages always carry a
// mapcount). REQUIRES: data is the start of a VMA of at least `length`.
StatusOr<dax::SmapsVma> MeasureTwoProcessRead(const char* data, size_t length);

// Reads the counters of a mapping of `touched_bytes` that two processes
// read; kUnknown when they fit neither path. `why` gets one sentence.
DaxFaultPath ClassifySmaps(const dax::SmapsVma& c, size_t touched_bytes,
                           std::string* why);

// The documented fallback: 6.15 and later -> refcounted, earlier -> legacy,
// unparsable -> unknown.
DaxFaultPath FaultPathFromRelease(const std::string& release);

struct FaultPathOptions {
  // /dev/daxX.Y (mapped read-only) or a directory on an fsdax mount (a
  // scratch file is written there and removed). Empty: the first devdax
  // device discovery finds, else the kernel release.
  std::string evidence_path;
  size_t length = size_t{8} << 20;
  // Count the kernel functions with kprobes when root and tracefs allow
  // (loading the symbols takes a second or two under emulation).
  bool kernel_functions = true;
};

struct FaultPathReport {
  DaxFaultPath path = DaxFaultPath::kUnknown;
  FaultPathSource source = FaultPathSource::kKernelRelease;
  std::string kernel_release;
  std::string evidence_path;  // what was mapped; empty for kKernelRelease
  size_t mapped_bytes = 0;
  dax::SmapsVma parent;   // meaningful for kEvidence
  std::string reasoning;  // for people: why this verdict
  // The parts of an evidence verdict: what smaps says, what the kernel
  // functions say (kUnknown when not counted: functions_status says why),
  // and what the kernel's symbols say it has.
  DaxFaultPath smaps_path = DaxFaultPath::kUnknown;
  std::string smaps_reasoning;
  DaxFaultPath functions_path = DaxFaultPath::kUnknown;
  std::string functions_reasoning;
  std::string functions_status;                   // "counted" or why not
  std::map<std::string, uint64_t> function_hits;  // during the two reads
  DaxFaultPath symbols_path = DaxFaultPath::kUnknown;
  std::string symbols_reasoning;
};

// Errors when an evidence path was given and cannot serve (missing, not
// DAX, too small); never for "no DAX on this machine".
StatusOr<FaultPathReport> DetectFaultPath(const FaultPathOptions& options);

}  // namespace daxkv::probe

#endif  // DAXKV_PROBE_FAULT_PATH_H_
