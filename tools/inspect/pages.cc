// `daxkv-inspect pages`: page state of a file/device this tool maps, or of
// a range of another process.
#include <filesystem>
#include <memory>

#include "dax/region.h"
#include "probe/features.h"
#include "probe/page_state.h"
#include "probe/system_info.h"
#include "tools/inspect/cli.h"
#include "tools/inspect/pages_render.h"

namespace daxkv::inspect {
namespace {

constexpr uint64_t kPage = 4096;
constexpr size_t kMaxPfnLookups = 256;

struct PagesError {
  int code = kExitOk;
  std::string message;
};

bool ParseAddr(const std::string& text, uint64_t* v) {
  if (text.empty()) return false;
  // /proc/PID/maps prints bare hex; accept it as well as 0x-prefixed.
  int base = (text.rfind("0x", 0) == 0 || text.rfind("0X", 0) == 0) ? 0 : 16;
  char* end = nullptr;
  errno = 0;
  unsigned long long parsed = std::strtoull(text.c_str(), &end, base);
  if (errno != 0 || end == text.c_str() || *end != '\0') return false;
  *v = parsed;
  return true;
}

bool ParseAddrRange(const std::string& text, uint64_t* start, uint64_t* end) {
  size_t dash = text.find('-');
  if (dash == std::string::npos) return false;
  if (!ParseAddr(text.substr(0, dash), start) ||
      !ParseAddr(text.substr(dash + 1), end)) {
    return false;
  }
  *start &= ~(kPage - 1);
  *end = (*end + kPage - 1) & ~(kPage - 1);
  return *start < *end;
}

// Returns the page faults the touch took on this thread.
uint64_t Touch(dax::Region& region, uint64_t offset, uint64_t length,
               bool write) {
  const probe::FaultCounts before = probe::ThreadFaultCounts();
  volatile char* p = region.data() + offset;
  for (uint64_t off = 0; off < length; off += kPage) {
    char c = p[off];
    // Durability: stores back the byte just read, so a crash leaves the
    // medium as it was; only the write fault is wanted.
    if (write) p[off] = c;
  }
  const uint64_t faults = probe::ThreadFaultCounts().total() - before.total();
  if (write) region.Persist(region.data() + offset, length);
  return faults;
}

// Fills report->pfns and pfn_visible from pagemap + kpageflags (root).
void AddPfns(pid_t pid, PagesReport* report) {
  const std::vector<probe::PageRange>& ranges = report->scan.ranges;
  report->pfns.assign(ranges.size(), std::nullopt);
  for (size_t i = 0; i < ranges.size() && i < kMaxPfnLookups; ++i) {
    if (!(ranges[i].categories & probe::kPageIsPresent)) continue;
    StatusOr<std::vector<probe::PagemapEntry>> e =
        probe::ReadPagemap(ranges[i].start, ranges[i].start + kPage, pid);
    if (!e.ok() || e->empty() || (*e)[0].pfn == 0) continue;
    RangePfn p;
    p.pfn = (*e)[0].pfn;
    StatusOr<std::vector<uint64_t>> flags = probe::ReadKpageflags(p.pfn, 1);
    p.kpageflags_known = flags.ok() && flags->size() == 1;
    if (p.kpageflags_known) p.kpageflags = (*flags)[0];
    StatusOr<std::vector<uint64_t>> count = probe::ReadKpagecount(p.pfn, 1);
    p.kpagecount_known = count.ok() && count->size() == 1;
    if (p.kpagecount_known) p.kpagecount = (*count)[0];
    report->pfns[i] = p;
    report->pfn_visible = true;
  }
}

PagesError Finish(const Args& args, pid_t pid, PagesReport* report) {
  probe::PageScanOptions options;
  options.pid = pid;
  options.force_pagemap_read = args.Has("pagemap-read");
  StatusOr<probe::PageScanResult> scan =
      probe::ScanPages(report->start, report->end, options);
  if (!scan.ok()) return {kExitOperational, scan.status().ToString()};
  report->scan = std::move(*scan);
  StatusOr<dax::SmapsVma> vma = dax::ReadSmapsVma(report->start, pid);
  if (vma.ok()) {
    report->vma = *vma;
    report->written_tracked =
        (" " + vma->vm_flags + " ").find(" uw ") != std::string::npos;
  }
  AddPfns(pid, report);
  return {};
}

PagesError InspectPid(const Args& args, PagesReport* report) {
  for (const char* path_only : {"offset", "length", "touch"}) {
    if (!args.Value(path_only).empty()) {
      return {kExitUsage,
              std::string("--") + path_only + " applies to PATH, not to --pid"};
    }
  }
  if (args.Has("clear-soft-dirty") || !args.positional.empty()) {
    return {kExitUsage, "--pid takes --addr START-END and nothing else"};
  }
  uint64_t pid = 0;
  if (!ParseByteSize(args.Value("pid"), &pid) || pid == 0 || pid > INT32_MAX) {
    return {kExitUsage, "bad --pid '" + args.Value("pid") + "'"};
  }
  if (!ParseAddrRange(args.Value("addr"), &report->start, &report->end)) {
    return {kExitUsage,
            "--pid needs --addr START-END (hex, as in "
            "/proc/PID/maps), got '" +
                args.Value("addr") + "'"};
  }
  report->target = "pid " + std::to_string(pid);
  return Finish(args, static_cast<pid_t>(pid), report);
}

PagesError ParseWindow(const Args& args, uint64_t size, uint64_t* offset,
                       uint64_t* length) {
  if (!ParseByteSize(args.Value("offset", "0"), offset) || *offset % kPage) {
    return {kExitUsage, "bad --offset '" + args.Value("offset") +
                            "' (a multiple of 4 KiB)"};
  }
  if (*offset >= size) {
    return {kExitUsage, "--offset " + std::to_string(*offset) +
                            " is past the end (" + std::to_string(size) +
                            " bytes)"};
  }
  *length = size - *offset;
  if (!args.Value("length").empty() &&
      (!ParseByteSize(args.Value("length"), length) || *length == 0)) {
    return {kExitUsage, "bad --length '" + args.Value("length") + "'"};
  }
  *length = (*length + kPage - 1) & ~(kPage - 1);
  if (*length > size - *offset) {
    return {kExitUsage, "--offset + --length runs past the end (" +
                            std::to_string(size) + " bytes)"};
  }
  return {};
}

PagesError InspectPath(const Args& args, PagesReport* report) {
  if (args.positional.size() != 1) {
    return {kExitUsage, "pages needs exactly one PATH (or --pid and --addr)"};
  }
  const std::string touch = args.Value("touch");
  if (!touch.empty() && touch != "read" && touch != "write") {
    return {kExitUsage, "--touch takes read or write, not '" + touch + "'"};
  }
  const std::string& path = args.positional[0];
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return {kExitOperational, path + ": no such file or device"};
  }
  dax::OpenOptions options;
  options.read_only = touch != "write";
  StatusOr<std::unique_ptr<dax::Region>> region =
      dax::OpenRegion(path, options);
  if (!region.ok()) return {kExitOperational, region.status().ToString()};
  uint64_t offset = 0;
  uint64_t length = 0;
  PagesError e = ParseWindow(args, (*region)->size(), &offset, &length);
  if (e.code != kExitOk) return e;
  if (args.Has("clear-soft-dirty")) {
    Status s = probe::ClearSoftDirty();
    if (!s.ok()) return {kExitOperational, s.ToString()};
    report->soft_dirty_cleared = true;
    report->soft_dirty_supported = probe::ProbeSoftDirty().available;
  }
  if (!touch.empty()) {
    report->touch_faults = Touch(**region, offset, length, touch == "write");
  }
  report->target = path;
  report->touch = touch;
  report->base_offset = offset;
  report->start = reinterpret_cast<uint64_t>((*region)->data()) + offset;
  report->end = report->start + length;
  // The region stays mapped while Finish() scans it.
  return Finish(args, 0, report);
}

}  // namespace

int RunPages(const Args& args, std::ostream& out, std::ostream& err) {
  PagesReport report;
  PagesError e = args.Value("pid").empty() ? InspectPath(args, &report)
                                           : InspectPid(args, &report);
  if (e.code != kExitOk) {
    err << "daxkv-inspect pages: " << e.message << "\n";
    return e.code;
  }
  if (args.Has("json")) {
    out << PagesToJson(report).dump(2) << "\n";
  } else {
    RenderPages(report, out);
  }
  return kExitOk;
}

}  // namespace daxkv::inspect
