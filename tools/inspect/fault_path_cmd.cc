// `daxkv-inspect fault-path`: the DAX fault path verdict plus the kernel
// features probed at run time, since both describe the running kernel.
#include <nlohmann/json.hpp>

#include "probe/fault_path.h"
#include "probe/features.h"
#include "tools/inspect/cli.h"
#include "tools/inspect/format.h"

namespace daxkv::inspect {
namespace {

using nlohmann::json;

const char* PathMeaning(probe::DaxFaultPath p) {
  switch (p) {
    case probe::DaxFaultPath::kLegacy:
      return "DAX faults insert special/devmap PTEs and PMDs "
             "(vmf_insert_pfn*); DAX pages have no refcount or mapcount";
    case probe::DaxFaultPath::kRefcounted:
      return "DAX faults take page references like the page cache "
             "(vmf_insert_page_mkwrite / vmf_insert_folio_pmd); a read-mapped "
             "PTE is upgraded in place on write";
    case probe::DaxFaultPath::kUnknown:
      return "the evidence fits neither path";
  }
  return "";
}

json SmapsToJson(const dax::SmapsVma& c) {
  return {{"size_kb", c.size_kb},
          {"rss_kb", c.rss_kb},
          {"pss_kb", c.pss_kb},
          {"shared_clean_kb", c.shared_clean_kb},
          {"shared_dirty_kb", c.shared_dirty_kb},
          {"private_clean_kb", c.private_clean_kb},
          {"private_dirty_kb", c.private_dirty_kb},
          {"file_pmd_mapped_kb", c.file_pmd_mapped_kb},
          {"kernel_page_size_kb", c.kernel_page_size_kb},
          {"mmu_page_size_kb", c.mmu_page_size_kb},
          {"vm_flags", c.vm_flags}};
}

json FeaturesToJson(const probe::KernelFeatures& f) {
  auto probe = [](const probe::ProbeResult& p) {
    return json{{"available", p.available}, {"detail", p.detail}};
  };
  return {
      {"kernel_release", f.kernel_release},
      {"cpu_model", f.cpu_model},
      {"cpu_clwb", f.cpu_clwb},
      {"cpu_clflushopt", f.cpu_clflushopt},
      {"userfaultfd",
       {{"available", f.userfaultfd.available},
        {"opened_via", f.userfaultfd.opened_via},
        {"error", f.userfaultfd.error},
        {"features", f.userfaultfd.features},
        {"feature_names", probe::UffdFeatureNames(f.userfaultfd.features)},
        {"ioctls", f.userfaultfd.ioctls}}},
      {"pagemap_scan", probe(f.pagemap_scan)},
      {"io_uring", probe(f.io_uring)},
      {"kpageflags", probe(f.kpageflags)},
      {"soft_dirty", probe(f.soft_dirty)},
      {"thp",
       {{"enabled", f.thp.enabled},
        {"shmem_enabled", f.thp.shmem_enabled},
        {"defrag", f.thp.defrag},
        {"nr_hugepages", f.thp.nr_hugepages},
        {"hugepage_size_kb", f.thp.hugepage_size_kb}}},
  };
}

std::string YesNo(const probe::ProbeResult& p) {
  return p.available ? "yes" : "no (" + p.detail + ")";
}

void RenderFeatures(const probe::KernelFeatures& f, std::ostream& out) {
  out << "kernel features (probed, not inferred from the release):\n";
  out << "  userfaultfd:   ";
  if (f.userfaultfd.available) {
    out << "yes, via " << f.userfaultfd.opened_via << ", features "
        << Hex(f.userfaultfd.features);
    size_t column = 80;  // forces a new, indented line for the first name
    for (const std::string& n :
         probe::UffdFeatureNames(f.userfaultfd.features)) {
      if (column + n.size() > 78) {
        out << "\n                ";
        column = 16;
      }
      out << n << " ";
      column += n.size() + 1;
    }
    out << "\n";
  } else {
    out << "no (" << f.userfaultfd.error << ")\n";
  }
  out << "  PAGEMAP_SCAN:  " << YesNo(f.pagemap_scan) << "\n";
  out << "  io_uring:      " << YesNo(f.io_uring) << "\n";
  out << "  kpageflags:    " << YesNo(f.kpageflags) << "\n";
  out << "  soft-dirty:    " << YesNo(f.soft_dirty) << "\n";
  out << "  THP:           enabled=" << f.thp.enabled
      << " shmem_enabled=" << f.thp.shmem_enabled << " defrag=" << f.thp.defrag
      << "\n";
  out << "  hugetlb pool:  " << f.thp.nr_hugepages << " x "
      << f.thp.hugepage_size_kb << " kB\n";
  out << "  CPU:           " << f.cpu_model << " (clwb "
      << (f.cpu_clwb ? "yes" : "no") << ", clflushopt "
      << (f.cpu_clflushopt ? "yes" : "no") << ")\n";
}

json FunctionsToJson(const probe::FaultPathReport& r) {
  json hits = json::object();
  for (const auto& [name, n] : r.function_hits) hits[name] = n;
  return {{"status", r.functions_status},
          {"fault_path", probe::DaxFaultPathName(r.functions_path)},
          {"reasoning", r.functions_reasoning},
          {"hits", hits},
          {"symbols_fault_path", probe::DaxFaultPathName(r.symbols_path)},
          {"symbols_reasoning", r.symbols_reasoning}};
}

// The kernel functions that ran during the two reads (nonzero ones).
void RenderFunctions(const probe::FaultPathReport& r, std::ostream& out) {
  if (r.functions_status != "counted") {
    out << "  kernel functions: not counted (" << r.functions_status
        << "); the verdict rests on smaps\n";
    return;
  }
  out << "  kernel functions (kprobe hits during the two reads): "
      << probe::DaxFaultPathName(r.functions_path) << "\n           ";
  size_t column = 11;
  for (const auto& [name, n] : r.function_hits) {
    if (n == 0) continue;
    std::string item = name + " " + std::to_string(n) + "  ";
    if (column + item.size() > 78) {
      out << "\n           ";
      column = 11;
    }
    out << item;
    column += item.size();
  }
  out << "\n  symbols:  " << probe::DaxFaultPathName(r.symbols_path) << " ("
      << r.symbols_reasoning << ")\n";
}

void RenderReport(const probe::FaultPathReport& r, std::ostream& out) {
  out << "DAX fault path: " << probe::DaxFaultPathName(r.path) << " (from "
      << probe::FaultPathSourceName(r.source) << ")\n";
  out << "  kernel:   " << r.kernel_release << "\n";
  if (r.source != probe::FaultPathSource::kKernelRelease) {
    const dax::SmapsVma& c = r.parent;
    out << "  evidence: " << r.evidence_path << ", "
        << HumanBytes(r.mapped_bytes)
        << " mapped and read by two processes; parent's smaps:\n"
        << "            Rss " << c.rss_kb << " kB  Pss " << c.pss_kb
        << " kB  Shared_Clean " << c.shared_clean_kb << " kB  Private_Clean "
        << c.private_clean_kb << " kB  FilePmdMapped " << c.file_pmd_mapped_kb
        << " kB\n";
  }
  if (r.source != probe::FaultPathSource::kKernelRelease) {
    RenderFunctions(r, out);
  }
  out << "  why:      " << r.reasoning << "\n";
  out << "  meaning:  " << PathMeaning(r.path) << "\n";
  out << "  note:     /proc/kpageflags and /proc/kpagecount cover no "
         "ZONE_DEVICE (DAX) PFNs on either path\n";
}

}  // namespace

int RunFaultPath(const Args& args, std::ostream& out, std::ostream& err) {
  if (!args.positional.empty()) {
    err << "daxkv-inspect fault-path: unexpected argument '"
        << args.positional[0] << "' (use --path)\n";
    return kExitUsage;
  }
  probe::FaultPathOptions options;
  options.evidence_path = args.Value("path");
  if (!args.Value("length").empty() &&
      (!ParseByteSize(args.Value("length"), &options.length) ||
       options.length == 0)) {
    err << "daxkv-inspect fault-path: bad --length '" << args.Value("length")
        << "'\n";
    return kExitUsage;
  }
  StatusOr<probe::FaultPathReport> report = probe::DetectFaultPath(options);
  if (!report.ok()) {
    err << "daxkv-inspect fault-path: " << report.status().ToString() << "\n";
    return kExitOperational;
  }
  probe::KernelFeatures features = probe::ProbeKernelFeatures();
  if (args.Has("json")) {
    json j = {{"fault_path", probe::DaxFaultPathName(report->path)},
              {"source", probe::FaultPathSourceName(report->source)},
              {"kernel_release", report->kernel_release},
              {"evidence_path", report->evidence_path},
              {"mapped_bytes", report->mapped_bytes},
              {"reasoning", report->reasoning},
              {"kernel_features", FeaturesToJson(features)}};
    if (report->source != probe::FaultPathSource::kKernelRelease) {
      j["smaps"] = SmapsToJson(report->parent);
      j["smaps_fault_path"] = probe::DaxFaultPathName(report->smaps_path);
      j["smaps_reasoning"] = report->smaps_reasoning;
      j["kernel_functions"] = FunctionsToJson(*report);
    }
    out << j.dump(2) << "\n";
  } else {
    RenderReport(*report, out);
    RenderFeatures(features, out);
  }
  return kExitOk;
}

}  // namespace daxkv::inspect
