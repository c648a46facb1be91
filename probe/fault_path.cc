#include "probe/fault_path.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "probe/discovery.h"
#include "probe/fault_evidence.h"
#include "probe/features.h"
#include "probe/kernel_functions.h"
#include "probe/mapping.h"

namespace daxkv::probe {
namespace {

constexpr size_t kPmdSize = size_t{2} << 20;
constexpr size_t kPageSize = 4096;
constexpr int kChildTimeoutMs = 30000;

std::string Errno() { return std::strerror(errno); }

size_t RoundUp(size_t v, size_t align) {
  return align == 0 ? v : (v + align - 1) / align * align;
}

void ReadEveryPage(const volatile char* p, size_t length) {
  for (size_t off = 0; off < length; off += kPageSize) (void)p[off];
}

// Child side: fault the range into its own page tables, report, wait.
[[noreturn]] void ChildReadAndWait(const char* p, size_t length, int ready_fd,
                                   int done_fd) {
  ReadEveryPage(p, length);
  char byte = 1;
  if (write(ready_fd, &byte, 1) != 1) _exit(2);
  (void)!read(done_fd, &byte, 1);
  _exit(0);
}

// Parent side: waits for the child's reads, samples smaps, releases it.
StatusOr<dax::SmapsVma> SampleWhileChildHolds(uint64_t start, pid_t child,
                                              int ready_fd, int done_fd) {
  struct pollfd pfd = {ready_fd, POLLIN, 0};
  char byte = 0;
  bool ready =
      poll(&pfd, 1, kChildTimeoutMs) == 1 && read(ready_fd, &byte, 1) == 1;
  StatusOr<dax::SmapsVma> vma =
      InternalError("fault-path child did not report back within 30 s");
  if (ready) vma = dax::ReadSmapsVma(start);
  (void)!write(done_fd, &byte, 1);
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  return vma;
}

// Kprobes on the DAX functions around the two-process read, when the
// machine allows them; `report` records what was counted or why not.
class FunctionCount {
 public:
  FunctionCount(bool wanted, FaultPathReport& report) : report_(report) {
    if (!wanted) {
      report_.functions_status = "not asked for";
      return;
    }
    StatusOr<KernelSymbols> symbols = KernelSymbols::Load();
    if (!symbols.ok()) {
      report_.functions_status = symbols.status().ToString();
      return;
    }
    report_.symbols_path =
        FaultPathFromSymbols(*symbols, &report_.symbols_reasoning);
    StatusOr<std::unique_ptr<KprobeCounters>> k =
        KprobeCounters::Create(*symbols, DaxEvidenceFunctions());
    if (!k.ok() || !(*k)->Enable().ok()) {
      report_.functions_status =
          k.ok() ? "cannot enable the kprobes" : k.status().ToString();
      return;
    }
    StatusOr<std::map<std::string, uint64_t>> before = (*k)->Read();
    if (!before.ok()) {
      report_.functions_status = before.status().ToString();
      return;
    }
    counters_ = std::move(*k);
    before_ = std::move(*before);
  }

  // After the measurement: the hits and the verdict they give.
  void Finish() {
    if (!counters_) return;
    StatusOr<std::map<std::string, uint64_t>> after = counters_->Read();
    (void)counters_->Disable();
    if (!after.ok()) {
      report_.functions_status = after.status().ToString();
      return;
    }
    report_.function_hits = HitsBetween(before_, *after);
    report_.functions_status = "counted";
    report_.functions_path =
        FaultPathFromHits(report_.function_hits, &report_.functions_reasoning);
  }

 private:
  FaultPathReport& report_;
  std::unique_ptr<KprobeCounters> counters_;
  std::map<std::string, uint64_t> before_;
};

// The verdict: the kernel functions when they were counted and tell, else
// smaps; disagreement between the two is reported as unknown.
void Decide(FaultPathReport& r) {
  r.smaps_path = r.path;
  r.smaps_reasoning = r.reasoning;
  if (r.functions_path == DaxFaultPath::kUnknown) return;
  if (r.smaps_path != DaxFaultPath::kUnknown &&
      r.smaps_path != r.functions_path) {
    r.path = DaxFaultPath::kUnknown;
    r.reasoning = std::string("smaps and the kernel functions disagree: ") +
                  DaxFaultPathName(r.smaps_path) + " (" + r.smaps_reasoning +
                  ") vs " + DaxFaultPathName(r.functions_path) + " (" +
                  r.functions_reasoning + ")";
    return;
  }
  r.path = r.functions_path;
  r.source = FaultPathSource::kKernelFunctions;
  r.reasoning = r.functions_reasoning + "; smaps agrees: " + r.smaps_reasoning;
}

StatusOr<FaultPathReport> MeasureMapped(const Mapping& map,
                                        const std::string& path,
                                        bool kernel_functions,
                                        FaultPathReport report) {
  FunctionCount count(kernel_functions, report);
  StatusOr<dax::SmapsVma> vma = MeasureTwoProcessRead(map.data(), map.size());
  count.Finish();
  if (!vma.ok()) return vma.status();
  report.source = FaultPathSource::kEvidence;
  report.evidence_path = path;
  report.mapped_bytes = map.size();
  report.parent = *vma;
  report.path = ClassifySmaps(*vma, map.size(), &report.reasoning);
  Decide(report);
  return report;
}

StatusOr<FaultPathReport> MeasureDevDax(const DaxDevice& dev, size_t length,
                                        bool kernel_functions,
                                        FaultPathReport report) {
  const size_t align = dev.align ? dev.align : kPmdSize;
  length = RoundUp(length, align);
  if (length > dev.size) {
    return InvalidArgumentError(dev.path + " (" + std::to_string(dev.size) +
                                " bytes) is too small for the " +
                                std::to_string(length) + "-byte probe");
  }
  MappingOptions options;
  options.backing = MappingBacking::kDevDax;
  options.path = dev.path;
  options.size = length;
  options.alignment = align;
  options.read_only = true;  // never writes the device
  DAXKV_ASSIGN_OR_RETURN(std::unique_ptr<Mapping> map,
                         Mapping::Create(options));
  return MeasureMapped(*map, dev.path, kernel_functions, std::move(report));
}

// A scratch file with written blocks: holes and unwritten extents would
// map the zero page, not DAX memory.
StatusOr<FaultPathReport> MeasureFsDaxDir(const std::string& dir, size_t length,
                                          bool kernel_functions,
                                          FaultPathReport report) {
  StatusOr<bool> map_sync = ProbeMapSync(dir);
  if (!map_sync.ok()) return map_sync.status();
  if (!*map_sync) {
    return InvalidArgumentError(dir +
                                " is not on a DAX filesystem (MAP_SYNC "
                                "refused); mount it with -o dax");
  }
  length = RoundUp(length, kPmdSize);
  MappingOptions options;
  options.backing = MappingBacking::kFsDax;
  options.path = dir;
  options.size = length;
  options.alignment = kPmdSize;
  options.preallocate = true;
  DAXKV_ASSIGN_OR_RETURN(std::unique_ptr<Mapping> map,
                         Mapping::Create(options));
  return MeasureMapped(*map, dir, kernel_functions, std::move(report));
}

// The first enabled devdax device discovery knows of.
bool FindAnyDevDax(DaxDevice* out) {
  StatusOr<Inventory> inv = Discover();
  if (!inv.ok()) return false;
  for (const DaxDevice& d : inv->dax_devices) {
    if (d.mode == "devdax" && d.enabled && d.size > 0) {
      *out = d;
      return true;
    }
  }
  return false;
}

std::string Kb(uint64_t kb) { return std::to_string(kb) + " kB"; }

}  // namespace

const char* DaxFaultPathName(DaxFaultPath p) {
  switch (p) {
    case DaxFaultPath::kLegacy:
      return "legacy";
    case DaxFaultPath::kRefcounted:
      return "refcounted";
    case DaxFaultPath::kUnknown:
      return "unknown";
  }
  return "unknown";
}

const char* FaultPathSourceName(FaultPathSource s) {
  switch (s) {
    case FaultPathSource::kEvidence:
      return "evidence";
    case FaultPathSource::kKernelFunctions:
      return "kernel functions";
    case FaultPathSource::kKernelRelease:
      return "kernel release";
  }
  return "?";
}

StatusOr<dax::SmapsVma> MeasureTwoProcessRead(const char* data, size_t length) {
  ReadEveryPage(data, length);
  int ready[2];
  int done[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return IOError("pipe: " + Errno());
  if (pipe2(done, O_CLOEXEC) != 0) {
    std::string err = Errno();
    close(ready[0]);
    close(ready[1]);
    return IOError("pipe: " + err);
  }
  pid_t child = fork();
  if (child == 0) ChildReadAndWait(data, length, ready[1], done[0]);
  StatusOr<dax::SmapsVma> result =
      child < 0 ? StatusOr<dax::SmapsVma>(IOError("fork: " + Errno()))
                : SampleWhileChildHolds(reinterpret_cast<uint64_t>(data), child,
                                        ready[0], done[1]);
  for (int f : {ready[0], ready[1], done[0], done[1]}) close(f);
  return result;
}

DaxFaultPath ClassifySmaps(const dax::SmapsVma& c, size_t touched_bytes,
                           std::string* why) {
  const uint64_t shared = c.shared_clean_kb + c.shared_dirty_kb;
  const uint64_t priv = c.private_clean_kb + c.private_dirty_kb;
  // Each process read every page and DAX maps exactly the faulting page,
  // so on the refcounted path Rss covers the whole range.
  if (c.rss_kb * 2 < touched_bytes / 1024) {
    *why = "two processes read " + Kb(touched_bytes / 1024) +
           " but smaps counts only Rss " + Kb(c.rss_kb) +
           ": the PTEs are special/devmap entries with no page reference";
    return DaxFaultPath::kLegacy;
  }
  if (shared > 0 && shared + priv == c.rss_kb && c.pss_kb < c.rss_kb) {
    *why = "the pages count as shared (Shared " + Kb(shared) + ", Pss " +
           Kb(c.pss_kb) + " < Rss " + Kb(c.rss_kb) +
           "): DAX pages carry a mapcount";
    return DaxFaultPath::kRefcounted;
  }
  if (shared == 0 && priv == c.rss_kb && c.pss_kb == c.rss_kb) {
    *why = "two processes map the pages, yet smaps shows Private " + Kb(priv) +
           " = Rss, Pss = Rss, Shared 0: DAX pages carry no "
           "mapcount";
    return DaxFaultPath::kLegacy;
  }
  *why = "smaps fits neither path (Rss " + Kb(c.rss_kb) + ", Pss " +
         Kb(c.pss_kb) + ", Shared " + Kb(shared) + ", Private " + Kb(priv) +
         ")";
  return DaxFaultPath::kUnknown;
}

DaxFaultPath FaultPathFromRelease(const std::string& release) {
  auto [major, minor] = ParseKernelVersion(release);
  if (major == 0) return DaxFaultPath::kUnknown;
  if (major > 6 || (major == 6 && minor >= 15)) {
    return DaxFaultPath::kRefcounted;
  }
  return DaxFaultPath::kLegacy;
}

StatusOr<FaultPathReport> DetectFaultPath(const FaultPathOptions& options) {
  FaultPathReport report;
  report.kernel_release = KernelRelease();
  const std::string& path = options.evidence_path;
  if (path.empty()) {
    DaxDevice dev;
    if (FindAnyDevDax(&dev)) {
      return MeasureDevDax(dev, options.length, options.kernel_functions,
                           report);
    }
    report.source = FaultPathSource::kKernelRelease;
    report.path = FaultPathFromRelease(report.kernel_release);
    report.reasoning =
        "no devdax device to measure; the refcounted ZONE_DEVICE DAX path "
        "landed in Linux 6.15 and this kernel is " +
        report.kernel_release + " (give an fsdax directory to measure)";
    return report;
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return NotFoundError("fault-path evidence: cannot stat " + path + ": " +
                         Errno());
  }
  if (S_ISCHR(st.st_mode)) {
    DAXKV_ASSIGN_OR_RETURN(DaxDevice dev, FindDaxDevice(path));
    return MeasureDevDax(dev, options.length, options.kernel_functions, report);
  }
  if (S_ISDIR(st.st_mode)) {
    return MeasureFsDaxDir(path, options.length, options.kernel_functions,
                           report);
  }
  return InvalidArgumentError("fault-path evidence: " + path +
                              " is neither a dax device nor a directory on "
                              "an fsdax mount");
}

}  // namespace daxkv::probe
