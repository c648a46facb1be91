// `daxkv-inspect pages`: what a scan found, rendered for people (run-length
// ranges, totals, a one-character-per-chunk picture) and as JSON. Split
// from the command so tests can render synthetic scans.
#ifndef DAXKV_TOOLS_INSPECT_PAGES_RENDER_H_
#define DAXKV_TOOLS_INSPECT_PAGES_RENDER_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "probe/page_state.h"

namespace daxkv::inspect {

// Root-only detail for the first page of one range.
struct RangePfn {
  uint64_t pfn = 0;
  // false: /proc/kpageflags ends before this PFN (device memory above the
  // kernel's max_pfn, e.g. a QEMU NVDIMM)
  bool kpageflags_known = false;
  uint64_t kpageflags = 0;
  bool kpagecount_known = false;
  uint64_t kpagecount = 0;  // /proc/kpagecount: the page's map count
};

struct PagesReport {
  std::string target;  // "/dev/dax0.0" or "pid 1234"
  uint64_t start = 0;  // virtual range scanned
  uint64_t end = 0;
  uint64_t base_offset = 0;   // file offset of `start` (0 for --pid)
  std::string touch;          // "", "read", "write"
  uint64_t touch_faults = 0;  // page faults the touch took (this thread)
  bool soft_dirty_cleared = false;
  bool soft_dirty_supported = true;  // the kernel tracks soft-dirty at all
  probe::PageScanResult scan;
  std::optional<dax::SmapsVma> vma;
  // PAGE_IS_WRITTEN means "written since the last clear" only in a VMA
  // registered for userfaultfd write-protection ("uw" in VmFlags).
  bool written_tracked = false;
  bool pfn_visible = false;  // root: PFNs (and kpageflags) were readable
  std::vector<std::optional<RangePfn>> pfns;  // parallel to scan.ranges
};

// One character for a page with `categories`:
//   .  not present         p  present (PTE)      H  present, huge mapping
//   w/W written since clear (tracked VMAs)       d/D soft-dirty after clear
//   s  swapped             0  the shared zero page
char PageChar(uint64_t categories, bool written_tracked, bool soft_dirty);

struct Picture {
  uint64_t unit_bytes = 0;        // bytes per character
  std::vector<std::string> rows;  // 64 characters each (last may be short)
};
// ':' marks a chunk whose pages differ.
Picture DrawPicture(const PagesReport& report);

// "lru|mmap|thp" for the KPF_* bits of /proc/kpageflags, and what the
// kernel means where it exports no flags: 6.1 answers KPF_NOPAGE for a PFN
// with no online struct page (ZONE_DEVICE/DAX); 7.x answers 0.
std::string KpageflagNames(uint64_t flags);
// The flags and map count of one PFN as the kernel exposes them.
std::string PfnText(const RangePfn& p);

void RenderPages(const PagesReport& report, std::ostream& out);
nlohmann::json PagesToJson(const PagesReport& report);

}  // namespace daxkv::inspect

#endif  // DAXKV_TOOLS_INSPECT_PAGES_RENDER_H_
