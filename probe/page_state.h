// Page state of a virtual address range: which pages are present, written,
// file-backed, huge, swapped, soft-dirty; plus the per-VMA totals in smaps
// and the per-PFN flags in /proc/kpageflags.
//
// Two methods answer ScanPages():
//  - kPagemapScan: the PAGEMAP_SCAN ioctl on /proc/PID/pagemap (Linux 6.7+).
//    It reports every PAGE_IS_* category and can write-protect the pages it
//    reports (PM_SCAN_WP_MATCHING), which is how UFFD_FEATURE_WP_ASYNC dirty
//    tracking re-arms.
//  - kPagemapRead: reading the 64-bit /proc/PID/pagemap entries, used when
//    the ioctl is missing (EINVAL/ENOTTY) or when asked for. It knows
//    PRESENT, SWAPPED, FILE (file page or shared anon) and SOFT_DIRTY only;
//    PageScanResult::known_categories says which bits mean something.
// The result always says which method produced it.
//
// Addresses are plain integers: the range may belong to another process
// (pid != 0 needs ptrace access to it, as /proc requires).
//
// Thread-safety: every function is safe to call concurrently; each opens its
// own /proc files. A scan of a range another thread is faulting in is a
// snapshot with no ordering guarantee.
#ifndef DAXKV_PROBE_PAGE_STATE_H_
#define DAXKV_PROBE_PAGE_STATE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/statusor.h"
#include "dax/smaps.h"

namespace daxkv::probe {

// PAGE_IS_* bits (probe/linux_compat.h has the values), repeated here so
// callers need not include the UAPI compat header.
inline constexpr uint64_t kPageIsWpAllowed = 1 << 0;
inline constexpr uint64_t kPageIsWritten = 1 << 1;
inline constexpr uint64_t kPageIsFile = 1 << 2;
inline constexpr uint64_t kPageIsPresent = 1 << 3;
inline constexpr uint64_t kPageIsSwapped = 1 << 4;
inline constexpr uint64_t kPageIsPfnZero = 1 << 5;
inline constexpr uint64_t kPageIsHuge = 1 << 6;
inline constexpr uint64_t kPageIsSoftDirty = 1 << 7;
inline constexpr uint64_t kPageIsGuard = 1 << 8;
inline constexpr uint64_t kAllPageCategories = (1 << 9) - 1;

// "present|written|huge" for a category set; "none" for 0.
std::string PageCategoryNames(uint64_t categories);

enum class PageScanMethod { kPagemapScan, kPagemapRead };
const char* PageScanMethodName(PageScanMethod m);  // "PAGEMAP_SCAN", ...

// A run of consecutive pages [start, end) sharing `categories`.
struct PageRange {
  uint64_t start = 0;
  uint64_t end = 0;  // exclusive
  uint64_t categories = 0;
  uint64_t pages(uint64_t page_size = 4096) const {
    return (end - start) / page_size;
  }
};

struct PageScanOptions {
  pid_t pid = 0;  // 0: this process
  // PAGEMAP_SCAN filter semantics (see the kernel's pagemap documentation):
  // a page is reported when (categories ^ inverted) & mask == mask, and
  // (if anyof is non-zero) & anyof != 0. Each returned range carries
  // categories & return_mask. Zero masks report every page.
  uint64_t category_mask = 0;
  uint64_t category_inverted = 0;
  uint64_t category_anyof_mask = 0;
  uint64_t return_mask = kAllPageCategories;
  // PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC: write-protect the reported
  // pages again. REQUIRES: the range is registered with a userfaultfd using
  // UFFD_FEATURE_WP_ASYNC. Only kPagemapScan can do it.
  bool write_protect = false;
  // Skip the ioctl and read pagemap entries (for tests and comparisons).
  bool force_pagemap_read = false;
};

struct PageScanResult {
  PageScanMethod method = PageScanMethod::kPagemapScan;
  // Which category bits the method can report at all.
  uint64_t known_categories = 0;
  // Coalesced, ascending, non-overlapping; pages that match nothing (or,
  // for zero masks, pages with no category) are absent.
  std::vector<PageRange> ranges;

  // Pages whose categories include all of `bits`.
  uint64_t CountPages(uint64_t bits, uint64_t page_size = 4096) const;
};

// Scans [start, end) of the process. REQUIRES: start and end page-aligned,
// start < end. Falls back to kPagemapRead when PAGEMAP_SCAN is missing;
// errors name the pid, range and cause (write_protect without the ioctl is
// NotSupported).
StatusOr<PageScanResult> ScanPages(uint64_t start, uint64_t end,
                                   const PageScanOptions& options = {});

// Whether PAGEMAP_SCAN works on this kernel (one probe ioctl on a range of
// this process).
bool PagemapScanAvailable();

// One decoded /proc/PID/pagemap entry (Documentation/admin-guide/mm/
// pagemap.rst).
struct PagemapEntry {
  uint64_t raw = 0;
  bool present = false;
  bool swapped = false;
  bool file_or_shared_anon = false;
  bool exclusive = false;  // page exclusively mapped (4.2+)
  bool soft_dirty = false;
  bool uffd_wp = false;  // bit 57: userfaultfd write-protected
  uint64_t pfn = 0;      // 0 unless present and CAP_SYS_ADMIN
};
PagemapEntry DecodePagemapEntry(uint64_t raw);

// One entry per page of [start, end). REQUIRES: page-aligned.
StatusOr<std::vector<PagemapEntry>> ReadPagemap(uint64_t start, uint64_t end,
                                                pid_t pid = 0);

// Clears soft-dirty bits of every page of the process (writes "4" to
// /proc/PID/clear_refs); later writes set them again through a write fault.
Status ClearSoftDirty(pid_t pid = 0);

// Flags (KPF_* bits) and map counts of `count` PFNs from /proc/kpageflags
// and /proc/kpagecount. A PFN the kernel has no struct page for (DAX PFNs
// on some kernels) comes back short: the vector is shorter than count.
// Needs root.
StatusOr<std::vector<uint64_t>> ReadKpageflags(uint64_t pfn, size_t count);
StatusOr<std::vector<uint64_t>> ReadKpagecount(uint64_t pfn, size_t count);

}  // namespace daxkv::probe

#endif  // DAXKV_PROBE_PAGE_STATE_H_
