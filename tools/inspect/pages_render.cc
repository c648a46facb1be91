#include "tools/inspect/pages_render.h"

#include <algorithm>
#include <set>

#include "tools/inspect/format.h"

namespace daxkv::inspect {
namespace {

using nlohmann::json;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kPmd = uint64_t{2} << 20;
constexpr size_t kRowWidth = 64;
constexpr uint64_t kMaxChunks = 4096;

const char* const kLegend =
    ". absent  p present  H present huge  w/W written  d/D soft-dirty  "
    "s swapped  0 zero page  : mixed";

// PAGE_IS_WRITTEN is set on every page of a VMA without uffd-wp; drop it
// there so nobody reads it as "written".
uint64_t ShownCategories(const PagesReport& r, uint64_t categories) {
  return r.written_tracked ? categories : categories & ~probe::kPageIsWritten;
}

uint64_t ChunkBytes(uint64_t length) {
  uint64_t unit = length / kPage <= 1024 ? kPage : kPmd;
  while (length / unit > kMaxChunks) unit *= 2;
  return unit;
}

// The distinct page characters in [cs, ce); advances *i past ranges that
// end inside the chunk.
std::set<char> ChunkChars(const PagesReport& r, uint64_t cs, uint64_t ce,
                          size_t* i) {
  const std::vector<probe::PageRange>& ranges = r.scan.ranges;
  std::set<char> seen;
  uint64_t pos = cs;
  while (*i < ranges.size() && ranges[*i].start < ce) {
    const probe::PageRange& range = ranges[*i];
    if (range.end <= cs) {
      ++*i;
      continue;
    }
    uint64_t from = std::max(range.start, cs);
    if (from > pos) seen.insert('.');
    seen.insert(
        PageChar(range.categories, r.written_tracked, r.soft_dirty_cleared));
    pos = std::min(range.end, ce);
    if (range.end > ce) break;
    ++*i;
  }
  if (pos < ce) seen.insert('.');
  return seen;
}

json RangeToJson(const PagesReport& r, size_t idx) {
  const probe::PageRange& range = r.scan.ranges[idx];
  json j = {{"start", range.start},
            {"end", range.end},
            {"offset", range.start - r.start + r.base_offset},
            {"pages", range.pages()},
            {"categories",
             probe::PageCategoryNames(ShownCategories(r, range.categories))}};
  if (idx < r.pfns.size() && r.pfns[idx]) {
    const RangePfn& p = *r.pfns[idx];
    j["first_pfn"] = p.pfn;
    j["kpageflags"] =
        p.kpageflags_known ? json(KpageflagNames(p.kpageflags)) : json(nullptr);
    j["kpageflags_raw"] =
        p.kpageflags_known ? json(p.kpageflags) : json(nullptr);
    j["kpagecount"] = p.kpagecount_known ? json(p.kpagecount) : json(nullptr);
    j["pfn_state"] = PfnText(p);
  }
  return j;
}

json VmaToJson(const dax::SmapsVma& v) {
  return {{"start", v.start},
          {"end", v.end},
          {"perms", v.perms},
          {"pathname", v.pathname},
          {"rss_kb", v.rss_kb},
          {"pss_kb", v.pss_kb},
          {"kernel_page_size_kb", v.kernel_page_size_kb},
          {"anon_huge_pages_kb", v.anon_huge_pages_kb},
          {"shmem_pmd_mapped_kb", v.shmem_pmd_mapped_kb},
          {"file_pmd_mapped_kb", v.file_pmd_mapped_kb},
          {"vm_flags", v.vm_flags}};
}

void RenderRanges(const PagesReport& r, std::ostream& out) {
  out << "  ranges (offset, pages, state):\n";
  if (r.scan.ranges.empty()) out << "    none: no page is present\n";
  for (size_t i = 0; i < r.scan.ranges.size(); ++i) {
    const probe::PageRange& range = r.scan.ranges[i];
    out << "    +" << Hex(range.start - r.start + r.base_offset) << " .. +"
        << Hex(range.end - r.start + r.base_offset) << "  " << range.pages()
        << " pages  "
        << (range.categories == 0 ? std::string("not present")
                                  : probe::PageCategoryNames(
                                        ShownCategories(r, range.categories)));
    if (i < r.pfns.size() && r.pfns[i]) {
      const RangePfn& p = *r.pfns[i];
      out << "  pfn " << Hex(p.pfn) << " " << PfnText(p);
    }
    out << "\n";
  }
}

// What one fault per `bytes` says about the mappings the touch created.
const char* FaultGrain(uint64_t bytes) {
  if (bytes >= (uint64_t{1} << 30)) return "PUD-size (1 GiB) mappings";
  if (bytes >= kPmd) return "PMD-size (2 MiB) mappings";
  if (bytes > kPage) return "PTE mappings with fault-around";
  return "one PTE per fault";
}

void RenderTouch(const PagesReport& r, std::ostream& out) {
  const uint64_t length = r.end - r.start;
  out << "  touch (" << r.touch << "): " << length / kPage
      << " pages, page faults taken: " << r.touch_faults;
  if (r.touch_faults > 0) {
    out << ", one per " << HumanBytes(length / r.touch_faults) << ": "
        << FaultGrain(length / r.touch_faults);
  }
  out << "\n";
}

void RenderTotals(const PagesReport& r, std::ostream& out) {
  const probe::PageScanResult& s = r.scan;
  const uint64_t total = (r.end - r.start) / kPage;
  out << "  totals: " << total << " pages; present "
      << s.CountPages(probe::kPageIsPresent) << ", huge-mapped "
      << s.CountPages(probe::kPageIsPresent | probe::kPageIsHuge) << ", file "
      << s.CountPages(probe::kPageIsPresent | probe::kPageIsFile)
      << ", swapped " << s.CountPages(probe::kPageIsSwapped) << ", zero-page "
      << s.CountPages(probe::kPageIsPfnZero) << "\n";
  if (r.written_tracked) {
    out << "  written since last clear: " << s.CountPages(probe::kPageIsWritten)
        << " pages (userfaultfd WP)\n";
  } else {
    out << "  written since last clear: not tracked (VMA not registered for "
           "userfaultfd write-protect)\n";
  }
  if (r.soft_dirty_cleared && !r.soft_dirty_supported) {
    out << "  soft-dirty since the clear: not tracked by this kernel "
           "(CONFIG_MEM_SOFT_DIRTY off)\n";
  } else if (r.soft_dirty_cleared) {
    out << "  soft-dirty since the clear: "
        << s.CountPages(probe::kPageIsPresent | probe::kPageIsSoftDirty)
        << " pages\n";
  }
}

}  // namespace

char PageChar(uint64_t c, bool written_tracked, bool soft_dirty) {
  if (!(c & probe::kPageIsPresent)) {
    return (c & probe::kPageIsSwapped) ? 's' : '.';
  }
  if (c & probe::kPageIsPfnZero) return '0';
  const bool huge = c & probe::kPageIsHuge;
  if (written_tracked && (c & probe::kPageIsWritten)) return huge ? 'W' : 'w';
  if (soft_dirty && (c & probe::kPageIsSoftDirty)) return huge ? 'D' : 'd';
  return huge ? 'H' : 'p';
}

Picture DrawPicture(const PagesReport& r) {
  Picture pic;
  const uint64_t length = r.end - r.start;
  pic.unit_bytes = ChunkBytes(length);
  size_t i = 0;
  std::string row;
  for (uint64_t cs = r.start; cs < r.end; cs += pic.unit_bytes) {
    uint64_t ce = std::min(cs + pic.unit_bytes, r.end);
    std::set<char> seen = ChunkChars(r, cs, ce, &i);
    row += seen.size() == 1 ? *seen.begin() : ':';
    if (row.size() == kRowWidth) {
      pic.rows.push_back(row);
      row.clear();
    }
  }
  if (!row.empty()) pic.rows.push_back(row);
  return pic;
}

std::string PfnText(const RangePfn& p) {
  if (!p.kpageflags_known) {
    return "flags: none exported (the PFN lies past the end of "
           "/proc/kpageflags, i.e. above the kernel's max_pfn: device "
           "memory such as an NVDIMM)";
  }
  std::string out = "flags " + KpageflagNames(p.kpageflags);
  if (p.kpagecount_known) out += ", kpagecount " + std::to_string(p.kpagecount);
  return out;
}

std::string KpageflagNames(uint64_t flags) {
  constexpr uint64_t kNoPage = uint64_t{1} << 20;
  if (flags == kNoPage)
    return "nopage (no struct page exported: ZONE_DEVICE/DAX)";
  if (flags == 0) {
    return "0 (no KPF flags: newer kernels report 0, not nopage, for a PFN "
           "without an online struct page, such as ZONE_DEVICE/DAX memory)";
  }
  static const char* const kNames[] = {
      "locked",    "error",     "referenced", "uptodate",    "dirty",
      "lru",       "active",    "slab",       "writeback",   "reclaim",
      "buddy",     "mmap",      "anon",       "swapcache",   "swapbacked",
      "comp_head", "comp_tail", "huge",       "unevictable", "hwpoison",
      "nopage",    "ksm",       "thp",        "offline",     "zero_page",
      "idle",      "pgtable"};
  std::string out;
  for (size_t bit = 0; bit < sizeof(kNames) / sizeof(kNames[0]); ++bit) {
    if (!(flags & (uint64_t{1} << bit))) continue;
    if (!out.empty()) out += '|';
    out += kNames[bit];
  }
  return out.empty() ? "none" : out;
}

void RenderPages(const PagesReport& r, std::ostream& out) {
  out << "pages of " << r.target << ": +" << Hex(r.base_offset) << ", "
      << HumanBytes(r.end - r.start) << " at " << Hex(r.start);
  if (!r.touch.empty()) out << " (touched: " << r.touch << ")";
  out << "\n  method: " << probe::PageScanMethodName(r.scan.method);
  if (r.scan.method == probe::PageScanMethod::kPagemapRead) {
    out << " (no PAGEMAP_SCAN: present/swapped/file/soft-dirty only)";
  }
  out << "\n";
  if (r.vma) {
    out << "  vma: " << Hex(r.vma->start) << "-" << Hex(r.vma->end) << " "
        << r.vma->perms << " " << r.vma->pathname << "\n       Rss "
        << r.vma->rss_kb << " kB  KernelPageSize " << r.vma->kernel_page_size_kb
        << " kB  FilePmdMapped " << r.vma->file_pmd_mapped_kb
        << " kB  AnonHugePages " << r.vma->anon_huge_pages_kb
        << " kB\n       VmFlags: " << r.vma->vm_flags << "\n";
  }
  RenderRanges(r, out);
  RenderTotals(r, out);
  if (!r.touch.empty()) RenderTouch(r, out);
  if (!r.pfn_visible) {
    out << "  PFNs: hidden (run as root to see each range's PFN and its "
           "/proc/kpageflags)\n";
  }
  Picture pic = DrawPicture(r);
  out << "  picture (1 char = " << HumanBytes(pic.unit_bytes) << "):\n";
  for (size_t row = 0; row < pic.rows.size(); ++row) {
    out << "    +" << Hex(r.base_offset + row * kRowWidth * pic.unit_bytes)
        << "\t" << pic.rows[row] << "\n";
  }
  out << "  legend: " << kLegend << "\n";
}

json PagesToJson(const PagesReport& r) {
  json ranges = json::array();
  for (size_t i = 0; i < r.scan.ranges.size(); ++i) {
    ranges.push_back(RangeToJson(r, i));
  }
  Picture pic = DrawPicture(r);
  const probe::PageScanResult& s = r.scan;
  json j = {
      {"target", r.target},
      {"start", r.start},
      {"end", r.end},
      {"offset", r.base_offset},
      {"length", r.end - r.start},
      {"touch", r.touch},
      {"touch_faults", r.touch_faults},
      {"method", probe::PageScanMethodName(s.method)},
      {"known_categories", probe::PageCategoryNames(s.known_categories)},
      {"written_tracked", r.written_tracked},
      {"soft_dirty_cleared", r.soft_dirty_cleared},
      {"soft_dirty_supported", r.soft_dirty_supported},
      {"pfn_visible", r.pfn_visible},
      {"ranges", ranges},
      {"totals",
       {{"pages", (r.end - r.start) / kPage},
        {"present", s.CountPages(probe::kPageIsPresent)},
        {"huge", s.CountPages(probe::kPageIsPresent | probe::kPageIsHuge)},
        {"written", r.written_tracked
                        ? json(s.CountPages(probe::kPageIsWritten))
                        : json(nullptr)},
        {"swapped", s.CountPages(probe::kPageIsSwapped)}}},
      {"picture", {{"unit_bytes", pic.unit_bytes}, {"rows", pic.rows}}},
  };
  if (r.vma) j["vma"] = VmaToJson(*r.vma);
  return j;
}

}  // namespace daxkv::inspect
