#include "tools/inspect/devices.h"

#include "tools/inspect/cli.h"
#include "tools/inspect/format.h"

namespace daxkv::inspect {
namespace {

using nlohmann::json;

json BadBlocksToJson(const std::vector<probe::BadBlock>& bbs) {
  json out = json::array();
  for (const probe::BadBlock& bb : bbs) {
    out.push_back({{"offset_sectors", bb.offset_sectors},
                   {"length_sectors", bb.length_sectors}});
  }
  return out;
}

json NamespaceToJson(const probe::Namespace& ns) {
  return {{"name", ns.name},
          {"mode", probe::NamespaceModeName(ns.mode)},
          {"active", ns.active},
          {"raw_size", ns.raw_size},
          {"size", ns.size},
          {"align", ns.align},
          {"numa_node", ns.numa_node},
          {"target_node", ns.target_node},
          {"block_device", ns.block_device},
          {"dax_device", ns.dax_device},
          {"bad_blocks", BadBlocksToJson(ns.bad_blocks)}};
}

json RegionToJson(const probe::NdRegion& r) {
  json namespaces = json::array();
  for (const probe::Namespace& ns : r.namespaces) {
    namespaces.push_back(NamespaceToJson(ns));
  }
  return {{"name", r.name},
          {"type", r.type},
          {"size", r.size},
          {"align", r.align},
          {"resource", r.resource},
          {"numa_node", r.numa_node},
          {"target_node", r.target_node},
          {"namespaces", namespaces},
          {"bad_blocks", BadBlocksToJson(r.bad_blocks)}};
}

const char* ProviderMeaning(probe::BusProvider p) {
  switch (p) {
    case probe::BusProvider::kE820:
      return "memmap= emulation: DRAM, lost at power-off";
    case probe::BusProvider::kAcpiNfit:
      return "ACPI NFIT: NVDIMM hardware or a hypervisor's emulated NVDIMM";
    case probe::BusProvider::kVirtioPmem:
      return "virtio-pmem: a host file; flush goes through the host";
    case probe::BusProvider::kOther:
      return "other provider";
  }
  return "";
}

void RenderBadBlocks(const std::vector<probe::BadBlock>& bbs,
                     const std::string& indent, std::ostream& out) {
  for (const probe::BadBlock& bb : bbs) {
    out << indent << "bad block: sector " << bb.offset_sectors << " +"
        << bb.length_sectors << "\n";
  }
}

void RenderNamespace(const probe::Namespace& ns, std::ostream& out) {
  out << "      " << ns.name << "  " << probe::NamespaceModeName(ns.mode)
      << "  " << HumanBytes(ns.size);
  if (ns.raw_size != ns.size) out << " (raw " << HumanBytes(ns.raw_size) << ")";
  if (ns.align != 0) out << "  align " << HumanBytes(ns.align);
  out << "  numa " << NodeText(ns.numa_node);
  if (!ns.dax_device.empty()) out << "  -> /dev/" << ns.dax_device;
  if (!ns.block_device.empty()) out << "  -> /dev/" << ns.block_device;
  if (!ns.active) out << "  (inactive)";
  out << "\n";
  RenderBadBlocks(ns.bad_blocks, "        ", out);
}

void RenderBuses(const probe::Inventory& inv, std::ostream& out) {
  out << "NVDIMM buses (libndctl):\n";
  if (inv.buses.empty()) out << "  none\n";
  for (const probe::NdBus& bus : inv.buses) {
    out << "  " << bus.name << "  provider " << bus.provider_name << "  ("
        << ProviderMeaning(bus.provider) << ")\n";
    for (const probe::NdRegion& r : bus.regions) {
      out << "    " << r.name << "  " << r.type << "  " << HumanBytes(r.size)
          << "  align " << HumanBytes(r.align) << "  numa "
          << NodeText(r.numa_node) << "  target node "
          << NodeText(r.target_node);
      if (r.resource != 0) out << "  at " << Hex(r.resource);
      out << "\n";
      RenderBadBlocks(r.bad_blocks, "      ", out);
      for (const probe::Namespace& ns : r.namespaces) RenderNamespace(ns, out);
    }
  }
}

void RenderDaxDevices(const probe::Inventory& inv, std::ostream& out) {
  out << "dax devices (libdaxctl):\n";
  if (inv.dax_devices.empty()) out << "  none\n";
  for (const probe::DaxDevice& d : inv.dax_devices) {
    out << "  " << d.path << "  " << d.mode << "  " << HumanBytes(d.size)
        << "  align " << HumanBytes(d.align) << "  numa "
        << NodeText(d.numa_node) << "  target node " << NodeText(d.target_node)
        << "  region " << d.region_id << (d.enabled ? "" : "  (disabled)")
        << "\n";
  }
}

void RenderMounts(const probe::Inventory& inv, std::ostream& out) {
  out << "DAX-capable mounts (/proc/mounts):\n";
  if (inv.mounts.empty()) out << "  none\n";
  for (const probe::DaxMount& m : inv.mounts) {
    out << "  " << m.source << " on " << m.mount_point << "  " << m.fs_type
        << "  dax=" << probe::DaxMountModeName(m.mode) << "\n";
  }
}

}  // namespace

json InventoryToJson(const probe::Inventory& inv) {
  json buses = json::array();
  for (const probe::NdBus& bus : inv.buses) {
    json regions = json::array();
    for (const probe::NdRegion& r : bus.regions)
      regions.push_back(RegionToJson(r));
    buses.push_back({{"name", bus.name},
                     {"provider", bus.provider_name},
                     {"provider_kind", probe::BusProviderName(bus.provider)},
                     {"regions", regions}});
  }
  json devices = json::array();
  for (const probe::DaxDevice& d : inv.dax_devices) {
    devices.push_back({{"name", d.name},
                       {"path", d.path},
                       {"region_id", d.region_id},
                       {"size", d.size},
                       {"align", d.align},
                       {"mode", d.mode},
                       {"enabled", d.enabled},
                       {"numa_node", d.numa_node},
                       {"target_node", d.target_node},
                       {"resource", d.resource}});
  }
  json mounts = json::array();
  for (const probe::DaxMount& m : inv.mounts) {
    mounts.push_back({{"source", m.source},
                      {"mount_point", m.mount_point},
                      {"fs_type", m.fs_type},
                      {"dax_mode", probe::DaxMountModeName(m.mode)},
                      {"options", m.options}});
  }
  return {{"buses", buses},
          {"dax_devices", devices},
          {"mounts", mounts},
          {"warnings", inv.warnings},
          {"empty", inv.empty()}};
}

void RenderInventory(const probe::Inventory& inv, std::ostream& out) {
  if (inv.empty()) {
    out << "No DAX on this machine: no NVDIMM buses, no dax devices, no "
           "DAX-capable mounts.\n"
           "(memmap=SIZE!OFFSET on the kernel command line, an NVDIMM, or a "
           "virtio-pmem device would show up here.)\n";
  } else {
    RenderBuses(inv, out);
    RenderDaxDevices(inv, out);
    RenderMounts(inv, out);
  }
  for (const std::string& w : inv.warnings) out << "warning: " << w << "\n";
}

int RunDevices(const Args& args, std::ostream& out, std::ostream& err) {
  if (!args.positional.empty()) {
    err << "daxkv-inspect devices: unexpected argument '" << args.positional[0]
        << "'\n";
    return kExitUsage;
  }
  StatusOr<probe::Inventory> inv = probe::Discover();
  if (!inv.ok()) {
    err << "daxkv-inspect devices: " << inv.status().ToString() << "\n";
    return kExitOperational;
  }
  if (args.Has("json")) {
    out << InventoryToJson(*inv).dump(2) << "\n";
  } else {
    RenderInventory(*inv, out);
  }
  return kExitOk;
}

}  // namespace daxkv::inspect
