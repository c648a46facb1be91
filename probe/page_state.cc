#include "probe/page_state.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "dax/scoped_fd.h"
#include "probe/linux_compat.h"

namespace daxkv::probe {
namespace {

constexpr uint64_t kPageSize = 4096;
constexpr size_t kScanVecLen = 512;
constexpr uint64_t kFallbackCategories =
    kPageIsPresent | kPageIsSwapped | kPageIsFile | kPageIsSoftDirty;

static_assert(kPageIsHuge == PAGE_IS_HUGE && kPageIsGuard == PAGE_IS_GUARD,
              "page_state.h bits must match the kernel UAPI");

std::string Errno(int err) { return std::strerror(err); }

std::string RangeText(uint64_t start, uint64_t end) {
  std::ostringstream out;
  out << std::hex << "[0x" << start << ", 0x" << end << ")";
  return out.str();
}

void AppendRange(std::vector<PageRange>& ranges, uint64_t start, uint64_t end,
                 uint64_t categories) {
  if (!ranges.empty() && ranges.back().end == start &&
      ranges.back().categories == categories) {
    ranges.back().end = end;
    return;
  }
  ranges.push_back({start, end, categories});
}

bool Matches(uint64_t categories, const PageScanOptions& o) {
  uint64_t c = categories ^ o.category_inverted;
  if ((c & o.category_mask) != o.category_mask) return false;
  return o.category_anyof_mask == 0 || (c & o.category_anyof_mask) != 0;
}

// PAGEMAP_SCAN over [start, end). Returns ENOTTY/EINVAL as NotSupported.
// Kernels 6.7-6.13 know every category but PAGE_IS_GUARD (6.14) and reject
// unknown bits with EINVAL: a scan that only asks for guard pages in its
// return mask is retried without it, and known_categories says so.
StatusOr<PageScanResult> ScanWithIoctl(int fd, uint64_t start, uint64_t end,
                                       const PageScanOptions& o) {
  PageScanResult result;
  result.method = PageScanMethod::kPagemapScan;
  result.known_categories = kAllPageCategories;
  const bool guard_filter =
      ((o.category_mask | o.category_inverted | o.category_anyof_mask) &
       kPageIsGuard) != 0;
  std::vector<page_region> vec(kScanVecLen);
  uint64_t cursor = start;
  while (cursor < end) {
    pm_scan_arg arg{};
    arg.size = sizeof(arg);
    arg.flags =
        o.write_protect ? (PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC) : 0;
    arg.start = cursor;
    arg.end = end;
    arg.vec = reinterpret_cast<uint64_t>(vec.data());
    arg.vec_len = vec.size();
    arg.category_mask = o.category_mask;
    arg.category_inverted = o.category_inverted;
    arg.category_anyof_mask = o.category_anyof_mask;
    arg.return_mask = o.return_mask & result.known_categories;
    int n = ioctl(fd, PAGEMAP_SCAN, &arg);
    if (n < 0) {
      int err = errno;
      if (err == EINVAL && !guard_filter && (arg.return_mask & kPageIsGuard)) {
        result.known_categories &= ~kPageIsGuard;
        continue;
      }
      std::string what =
          "PAGEMAP_SCAN " + RangeText(cursor, end) + ": " + Errno(err);
      if (err == ENOTTY || err == EINVAL) return NotSupportedError(what);
      return IOError(what);
    }
    for (int i = 0; i < n; ++i) {
      AppendRange(result.ranges, vec[i].start, vec[i].end, vec[i].categories);
    }
    if (arg.walk_end <= cursor) {
      return InternalError("PAGEMAP_SCAN made no progress at " +
                           RangeText(cursor, end));
    }
    cursor = arg.walk_end;
  }
  return result;
}

uint64_t CategoriesOf(const PagemapEntry& e) {
  uint64_t c = 0;
  if (e.present) c |= kPageIsPresent;
  if (e.swapped) c |= kPageIsSwapped;
  if (e.file_or_shared_anon) c |= kPageIsFile;
  if (e.soft_dirty) c |= kPageIsSoftDirty;
  return c;
}

StatusOr<PageScanResult> ScanWithRead(uint64_t start, uint64_t end,
                                      const PageScanOptions& o) {
  DAXKV_ASSIGN_OR_RETURN(std::vector<PagemapEntry> entries,
                         ReadPagemap(start, end, o.pid));
  PageScanResult result;
  result.method = PageScanMethod::kPagemapRead;
  result.known_categories = kFallbackCategories;
  for (size_t i = 0; i < entries.size(); ++i) {
    uint64_t c = CategoriesOf(entries[i]);
    bool zero_masks = o.category_mask == 0 && o.category_anyof_mask == 0 &&
                      o.category_inverted == 0;
    if (zero_masks ? c == 0 : !Matches(c, o)) continue;
    uint64_t page = start + i * kPageSize;
    AppendRange(result.ranges, page, page + kPageSize, c & o.return_mask);
  }
  return result;
}

StatusOr<std::vector<uint64_t>> ReadU64Array(const char* path, uint64_t index,
                                             size_t count) {
  dax::ScopedFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return IOError(std::string("open ") + path + ": " + Errno(errno));
  }
  std::vector<uint64_t> out(count);
  ssize_t n = pread(fd.get(), out.data(), count * sizeof(uint64_t),
                    static_cast<off_t>(index * sizeof(uint64_t)));
  if (n < 0) {
    return IOError(std::string("pread ") + path + " at pfn " +
                   std::to_string(index) + ": " + Errno(errno));
  }
  out.resize(static_cast<size_t>(n) / sizeof(uint64_t));
  return out;
}

}  // namespace

std::string PageCategoryNames(uint64_t categories) {
  static const char* kNames[] = {"wpallowed", "written",   "file",
                                 "present",   "swapped",   "pfnzero",
                                 "huge",      "softdirty", "guard"};
  std::string out;
  for (int bit = 0; bit < 9; ++bit) {
    if (!(categories & (uint64_t{1} << bit))) continue;
    if (!out.empty()) out += '|';
    out += kNames[bit];
  }
  return out.empty() ? "none" : out;
}

const char* PageScanMethodName(PageScanMethod m) {
  return m == PageScanMethod::kPagemapScan ? "PAGEMAP_SCAN" : "pagemap-read";
}

uint64_t PageScanResult::CountPages(uint64_t bits, uint64_t page_size) const {
  uint64_t n = 0;
  for (const PageRange& r : ranges) {
    if ((r.categories & bits) == bits) n += r.pages(page_size);
  }
  return n;
}

StatusOr<PageScanResult> ScanPages(uint64_t start, uint64_t end,
                                   const PageScanOptions& options) {
  if (start >= end || start % kPageSize || end % kPageSize) {
    return InvalidArgumentError("ScanPages: range " + RangeText(start, end) +
                                " is empty or not page-aligned");
  }
  if (!options.force_pagemap_read) {
    std::string path = dax::ProcPath(options.pid, "pagemap");
    dax::ScopedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return IOError("open " + path + ": " + Errno(errno));
    StatusOr<PageScanResult> r = ScanWithIoctl(fd.get(), start, end, options);
    if (r.ok() || r.status().code() != StatusCode::kNotSupported) return r;
    if (options.write_protect) return r.status();
  } else if (options.write_protect) {
    return InvalidArgumentError(
        "ScanPages: write_protect needs PAGEMAP_SCAN, not pagemap reads");
  }
  return ScanWithRead(start, end, options);
}

bool PagemapScanAvailable() {
  void* p = mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  uint64_t a = reinterpret_cast<uint64_t>(p);
  bool ok = false;
  dax::ScopedFd fd(open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  if (fd.get() >= 0) ok = ScanWithIoctl(fd.get(), a, a + kPageSize, {}).ok();
  munmap(p, kPageSize);
  return ok;
}

PagemapEntry DecodePagemapEntry(uint64_t raw) {
  PagemapEntry e;
  e.raw = raw;
  e.present = (raw >> 63) & 1;
  e.swapped = (raw >> 62) & 1;
  e.file_or_shared_anon = (raw >> 61) & 1;
  e.uffd_wp = (raw >> 57) & 1;
  e.exclusive = (raw >> 56) & 1;
  e.soft_dirty = (raw >> 55) & 1;
  e.pfn = e.present ? (raw & ((uint64_t{1} << 55) - 1)) : 0;
  return e;
}

StatusOr<std::vector<PagemapEntry>> ReadPagemap(uint64_t start, uint64_t end,
                                                pid_t pid) {
  if (start >= end || start % kPageSize || end % kPageSize) {
    return InvalidArgumentError("ReadPagemap: range " + RangeText(start, end) +
                                " is empty or not page-aligned");
  }
  std::string path = dax::ProcPath(pid, "pagemap");
  dax::ScopedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return IOError("open " + path + ": " + Errno(errno));
  size_t pages = (end - start) / kPageSize;
  std::vector<uint64_t> raw(pages);
  size_t done = 0;
  while (done < pages) {
    ssize_t n =
        pread(fd.get(), raw.data() + done, (pages - done) * sizeof(uint64_t),
              static_cast<off_t>((start / kPageSize + done) * 8));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return IOError("read " + path + " " + RangeText(start, end) + ": " +
                     (n < 0 ? Errno(errno) : "short read"));
    }
    done += static_cast<size_t>(n) / sizeof(uint64_t);
  }
  std::vector<PagemapEntry> out;
  out.reserve(pages);
  for (uint64_t r : raw) out.push_back(DecodePagemapEntry(r));
  return out;
}

Status ClearSoftDirty(pid_t pid) {
  std::string path = dax::ProcPath(pid, "clear_refs");
  dax::ScopedFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) return IOError("open " + path + ": " + Errno(errno));
  if (write(fd.get(), "4", 1) != 1) {
    return IOError("write 4 to " + path + ": " + Errno(errno));
  }
  return OkStatus();
}

StatusOr<std::vector<uint64_t>> ReadKpageflags(uint64_t pfn, size_t count) {
  return ReadU64Array("/proc/kpageflags", pfn, count);
}

StatusOr<std::vector<uint64_t>> ReadKpagecount(uint64_t pfn, size_t count) {
  return ReadU64Array("/proc/kpagecount", pfn, count);
}

}  // namespace daxkv::probe
