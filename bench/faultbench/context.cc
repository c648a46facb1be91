#include "bench/faultbench/context.h"

#include <benchmark/benchmark.h>

#include <string>

#include "bench/faultbench/case_util.h"
#include "bench/faultbench/kernel_evidence.h"
#include "probe/discovery.h"
#include "probe/fault_path.h"
#include "probe/features.h"
#include "probe/system_info.h"

namespace daxkv::faultbench {
namespace {

void Add(const std::string& key, const std::string& value) {
  benchmark::AddCustomContext(key, value.empty() ? "(none)" : value);
}

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

// Provider/region/namespace of the DAX device or pmem block device named.
void AddDaxTarget(const probe::Inventory& inv, const std::string& prefix,
                  const std::string& dax_name, const std::string& blockdev) {
  for (const probe::NdBus& bus : inv.buses) {
    for (const probe::NdRegion& r : bus.regions) {
      for (const probe::Namespace& ns : r.namespaces) {
        bool match = (!dax_name.empty() && ns.dax_device == dax_name) ||
                     (!blockdev.empty() && ns.block_device == blockdev);
        if (!match) continue;
        Add(prefix + "provider", bus.provider_name);
        Add(prefix + "region", r.name);
        Add(prefix + "namespace", ns.name);
        Add(prefix + "mode", probe::NamespaceModeName(ns.mode));
        // namespace_*: the device itself already reports its align and node.
        Add(prefix + "namespace_align", std::to_string(ns.align));
        Add(prefix + "namespace_numa_node", std::to_string(ns.numa_node));
        return;
      }
    }
  }
  Add(prefix + "provider", "not found by discovery");
}

void AddDaxContext() {
  const Settings& s = settings();
  StatusOr<probe::Inventory> inv = probe::Discover();
  if (!inv.ok()) {
    Add("dax_discovery", inv.status().ToString());
    return;
  }
  Add("dax_devices", std::to_string(inv->dax_devices.size()));
  if (!s.devdax.empty()) {
    StatusOr<probe::DaxDevice> dev = probe::FindDaxDevice(*inv, s.devdax);
    if (dev.ok()) {
      Add("devdax_path", dev->path);
      Add("devdax_align", std::to_string(dev->align));
      Add("devdax_size", std::to_string(dev->size));
      Add("devdax_numa_node", std::to_string(dev->numa_node));
      AddDaxTarget(*inv, "devdax_", dev->name, "");
    } else {
      Add("devdax_path", dev.status().ToString());
    }
  }
  if (!s.fsdax.empty()) {
    for (const probe::DaxMount& m : inv->mounts) {
      if (s.fsdax.rfind(m.mount_point, 0) != 0) continue;
      Add("fsdax_mount", m.source + " on " + m.mount_point + " (" + m.fs_type +
                             ", dax=" + probe::DaxMountModeName(m.mode) + ")");
      std::string dev =
          m.source.rfind("/dev/", 0) == 0 ? m.source.substr(5) : m.source;
      AddDaxTarget(*inv, "fsdax_", "", dev);
    }
  }
}

void AddFaultPath() {
  probe::FaultPathOptions o;
  o.evidence_path =
      !settings().devdax.empty() ? settings().devdax : settings().fsdax;
  // smaps only: the cases carry their own kprobe evidence.
  o.kernel_functions = false;
  StatusOr<probe::FaultPathReport> r = probe::DetectFaultPath(o);
  if (!r.ok()) {
    Add("dax_fault_path", "unknown: " + r.status().ToString());
    return;
  }
  Add("dax_fault_path", probe::DaxFaultPathName(r->path));
  Add("dax_fault_path_source", probe::FaultPathSourceName(r->source));
  Add("dax_fault_path_reasoning", r->reasoning);
}

// Kprobe evidence of the DAX cases, and the path the kernel's own symbols
// name (what the evidence is checked against).
void AddKernelFunctions() {
  const Settings& s = settings();
  if (s.devdax.empty() && s.fsdax.empty()) return;
  KernelEvidence& ev = KernelEvidence::Get(s.kernel_functions);
  Add("kernel_functions", ev.Describe());
  if (!ev.expected_why().empty()) {
    Add("dax_fault_path_symbols",
        std::string(probe::DaxFaultPathName(ev.expected_path())) + ": " +
            ev.expected_why());
  }
}

}  // namespace

void AddRunContext() {
  probe::KernelFeatures f = probe::ProbeKernelFeatures();
  Add("kernel_release", f.kernel_release);
  Add("cpu_model", f.cpu_model);
  Add("thp_enabled", f.thp.enabled);
  Add("thp_shmem_enabled", f.thp.shmem_enabled);
  Add("thp_defrag", f.thp.defrag);
  Add("hugetlb_pages", std::to_string(f.thp.nr_hugepages));
  Add("uffd_features", f.userfaultfd.available
                           ? Hex(f.userfaultfd.features)
                           : "unavailable: " + f.userfaultfd.error);
  Add("pagemap_scan", f.pagemap_scan.available ? "yes" : f.pagemap_scan.detail);
  Add("io_uring", f.io_uring.available ? "yes" : f.io_uring.detail);
  probe::FaultAround fa = probe::FaultAroundBytes();
  Add("fault_around_bytes",
      std::to_string(fa.bytes) + (fa.from_debugfs ? "" : " (assumed default)"));
  Add("faultbench_mode", settings().short_mode ? "short" : "full");
  Add("region_bytes", std::to_string(settings().region_bytes));
  AddDaxContext();
  AddFaultPath();
  AddKernelFunctions();
}

}  // namespace daxkv::faultbench
