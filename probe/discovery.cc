#include "probe/discovery.h"

#include <daxctl/libdaxctl.h>
#include <ndctl/libndctl.h>
#include <stdlib.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

namespace daxkv::probe {
namespace {

// Library getters report "unreadable" (non-root, old kernel) as all-ones.
uint64_t KnownOrZero(unsigned long long v) {
  return v == ULLONG_MAX ? 0 : static_cast<uint64_t>(v);
}

BusProvider ClassifyProvider(const std::string& name) {
  if (name == "e820") return BusProvider::kE820;
  if (name == "ACPI.NFIT") return BusProvider::kAcpiNfit;
  if (name == "virtio-pmem" || name == "virtio_pmem") {
    return BusProvider::kVirtioPmem;
  }
  return BusProvider::kOther;
}

NamespaceMode ClassifyMode(enum ndctl_namespace_mode m) {
  switch (m) {
    case NDCTL_NS_MODE_FSDAX:
      return NamespaceMode::kFsDax;
    case NDCTL_NS_MODE_DEVDAX:
      return NamespaceMode::kDevDax;
    case NDCTL_NS_MODE_RAW:
      return NamespaceMode::kRaw;
    case NDCTL_NS_MODE_SECTOR:
      return NamespaceMode::kSector;
    default:
      return NamespaceMode::kUnknown;
  }
}

// libdaxctl 76 has no NUMA getter for a device; sysfs is the only source.
int DaxDeviceNumaNode(const std::string& name) {
  std::ifstream in("/sys/bus/dax/devices/" + name + "/numa_node");
  int node = -1;
  if (!(in >> node)) return -1;
  return node;
}

DaxDevice ReadDaxDevice(struct daxctl_region* region, struct daxctl_dev* dev) {
  DaxDevice d;
  const char* name = daxctl_dev_get_devname(dev);
  d.name = name ? name : "";
  d.path = "/dev/" + d.name;
  d.region_id = daxctl_region_get_id(region);
  d.size = daxctl_dev_get_size(dev);
  d.align = daxctl_dev_get_align(dev);
  if (d.align == 0) d.align = daxctl_region_get_align(region);
  d.enabled = daxctl_dev_is_enabled(dev) > 0;
  d.mode = daxctl_dev_has_online_memory(dev) > 0 ? "system-ram" : "devdax";
  d.target_node = daxctl_dev_get_target_node(dev);
  d.numa_node = DaxDeviceNumaNode(d.name);
  d.resource = KnownOrZero(daxctl_dev_get_resource(dev));
  return d;
}

void ListDaxDevices(Inventory* inv) {
  struct daxctl_ctx* ctx = nullptr;
  int rc = daxctl_new(&ctx);
  if (rc < 0 || ctx == nullptr) {
    inv->warnings.push_back(std::string("libdaxctl: cannot open context: ") +
                            std::strerror(-rc));
    return;
  }
  daxctl_set_log_priority(ctx, 0);  // errors come back to us as values
  struct daxctl_region* region;
  daxctl_region_foreach(ctx, region) {
    struct daxctl_dev* dev;
    daxctl_dev_foreach(region, dev) {
      // A zero-sized device is the region's "seed" for creating more.
      if (daxctl_dev_get_size(dev) == 0) continue;
      inv->dax_devices.push_back(ReadDaxDevice(region, dev));
    }
  }
  daxctl_unref(ctx);
}

std::vector<BadBlock> NamespaceBadBlocks(struct ndctl_namespace* ndns) {
  std::vector<BadBlock> out;
  struct badblock* bb;
  ndctl_namespace_badblock_foreach(ndns, bb) {
    out.push_back({bb->offset, bb->len});
  }
  return out;
}

std::vector<BadBlock> RegionBadBlocks(struct ndctl_region* region) {
  std::vector<BadBlock> out;
  struct badblock* bb;
  ndctl_region_badblock_foreach(region, bb) {
    out.push_back({bb->offset, bb->len});
  }
  return out;
}

// The devdax personality's device name, through the daxctl region that
// libndctl hands out for it.
std::string DaxDeviceOf(struct ndctl_dax* dax) {
  struct daxctl_region* region = ndctl_dax_get_daxctl_region(dax);
  if (region == nullptr) return "";
  struct daxctl_dev* dev;
  daxctl_dev_foreach(region, dev) {
    if (daxctl_dev_get_size(dev) == 0) continue;
    const char* name = daxctl_dev_get_devname(dev);
    if (name != nullptr) return name;
  }
  return "";
}

Namespace ReadNamespace(struct ndctl_namespace* ndns) {
  Namespace ns;
  const char* name = ndctl_namespace_get_devname(ndns);
  ns.name = name ? name : "";
  ns.mode = ClassifyMode(ndctl_namespace_get_mode(ndns));
  ns.active = ndctl_namespace_is_active(ndns);
  ns.raw_size = ndctl_namespace_get_size(ndns);
  ns.size = ns.raw_size;
  ns.numa_node = ndctl_namespace_get_numa_node(ndns);
  ns.target_node = ndctl_namespace_get_target_node(ndns);
  ns.bad_blocks = NamespaceBadBlocks(ndns);
  const char* blk = nullptr;
  if (struct ndctl_dax* dax = ndctl_namespace_get_dax(ndns)) {
    ns.size = ndctl_dax_get_size(dax);
    ns.align = ndctl_dax_get_align(dax);
    ns.dax_device = DaxDeviceOf(dax);
  } else if (struct ndctl_pfn* pfn = ndctl_namespace_get_pfn(ndns)) {
    ns.size = ndctl_pfn_get_size(pfn);
    ns.align = ndctl_pfn_get_align(pfn);
    blk = ndctl_pfn_get_block_device(pfn);
  } else if (struct ndctl_btt* btt = ndctl_namespace_get_btt(ndns)) {
    ns.size = ndctl_btt_get_size(btt);
    blk = ndctl_btt_get_block_device(btt);
  } else {
    blk = ndctl_namespace_get_block_device(ndns);
  }
  if (blk != nullptr) ns.block_device = blk;
  return ns;
}

NdRegion ReadRegion(struct ndctl_region* region) {
  NdRegion r;
  const char* name = ndctl_region_get_devname(region);
  r.name = name ? name : "";
  const char* type = ndctl_region_get_type_name(region);
  r.type = type ? type : "";
  r.size = ndctl_region_get_size(region);
  r.align = ndctl_region_get_align(region);
  r.resource = KnownOrZero(ndctl_region_get_resource(region));
  r.numa_node = ndctl_region_get_numa_node(region);
  r.target_node = ndctl_region_get_target_node(region);
  r.bad_blocks = RegionBadBlocks(region);
  struct ndctl_namespace* ndns;
  ndctl_namespace_foreach(region, ndns) {
    // Idle seed namespaces (size 0, disabled) exist only to be configured.
    if (!ndctl_namespace_is_active(ndns) &&
        ndctl_namespace_get_size(ndns) == 0) {
      continue;
    }
    r.namespaces.push_back(ReadNamespace(ndns));
  }
  return r;
}

void ListBuses(Inventory* inv) {
  struct ndctl_ctx* ctx = nullptr;
  int rc = ndctl_new(&ctx);
  if (rc < 0 || ctx == nullptr) {
    inv->warnings.push_back(std::string("libndctl: cannot open context: ") +
                            std::strerror(-rc));
    return;
  }
  ndctl_set_log_priority(ctx, 0);
  struct ndctl_bus* bus;
  ndctl_bus_foreach(ctx, bus) {
    NdBus b;
    const char* name = ndctl_bus_get_devname(bus);
    b.name = name ? name : "";
    const char* provider = ndctl_bus_get_provider(bus);
    b.provider_name = provider ? provider : "";
    b.provider = ClassifyProvider(b.provider_name);
    struct ndctl_region* region;
    ndctl_region_foreach(bus, region) {
      b.regions.push_back(ReadRegion(region));
    }
    inv->buses.push_back(std::move(b));
  }
  ndctl_unref(ctx);
}

bool ParseDaxOption(const std::string& options, DaxMountMode* mode) {
  std::stringstream ss(options);
  std::string opt;
  bool found = false;
  while (std::getline(ss, opt, ',')) {
    if (opt == "dax" || opt == "dax=always") {
      *mode = DaxMountMode::kAlways;
      found = true;
    } else if (opt == "dax=inode") {
      *mode = DaxMountMode::kInode;
      found = true;
    } else if (opt == "dax=never") {
      *mode = DaxMountMode::kNever;
      found = true;
    }
  }
  return found;
}

bool IsPmemSource(const std::string& source) {
  return source.rfind("/dev/pmem", 0) == 0;
}

}  // namespace

const char* BusProviderName(BusProvider p) {
  switch (p) {
    case BusProvider::kE820:
      return "e820";
    case BusProvider::kAcpiNfit:
      return "ACPI.NFIT";
    case BusProvider::kVirtioPmem:
      return "virtio-pmem";
    case BusProvider::kOther:
      return "other";
  }
  return "other";
}

const char* NamespaceModeName(NamespaceMode m) {
  switch (m) {
    case NamespaceMode::kFsDax:
      return "fsdax";
    case NamespaceMode::kDevDax:
      return "devdax";
    case NamespaceMode::kRaw:
      return "raw";
    case NamespaceMode::kSector:
      return "sector";
    case NamespaceMode::kUnknown:
      return "unknown";
  }
  return "unknown";
}

const char* DaxMountModeName(DaxMountMode m) {
  switch (m) {
    case DaxMountMode::kAlways:
      return "always";
    case DaxMountMode::kInode:
      return "inode";
    case DaxMountMode::kNever:
      return "never";
    case DaxMountMode::kDefault:
      return "default";
  }
  return "default";
}

std::vector<DaxMount> ParseDaxMounts(const std::string& text) {
  std::vector<DaxMount> out;
  std::stringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::stringstream fields(line);
    DaxMount m;
    if (!(fields >> m.source >> m.mount_point >> m.fs_type >> m.options)) {
      continue;
    }
    bool has_option = ParseDaxOption(m.options, &m.mode);
    if (!has_option && !IsPmemSource(m.source)) continue;
    out.push_back(std::move(m));
  }
  return out;
}

StatusOr<Inventory> Discover() {
  Inventory inv;
  ListBuses(&inv);
  ListDaxDevices(&inv);
  std::ifstream in("/proc/mounts");
  if (!in) {
    return IOError(std::string("cannot read /proc/mounts: ") +
                   std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  inv.mounts = ParseDaxMounts(text.str());
  return inv;
}

StatusOr<DaxDevice> FindDaxDevice(const Inventory& inventory,
                                  const std::string& name_or_path) {
  std::string wanted = name_or_path;
  if (char* real = realpath(name_or_path.c_str(), nullptr)) {
    wanted = real;
    free(real);
  }
  std::string known;
  for (const DaxDevice& d : inventory.dax_devices) {
    if (d.name == wanted || d.path == wanted || d.name == name_or_path) {
      return d;
    }
    known += (known.empty() ? "" : ", ") + d.name;
  }
  return NotFoundError("no dax device named '" + name_or_path + "' (" +
                       (known.empty() ? std::string("this machine has none")
                                      : "known: " + known) +
                       ")");
}

StatusOr<DaxDevice> FindDaxDevice(const std::string& name_or_path) {
  DAXKV_ASSIGN_OR_RETURN(Inventory inv, Discover());
  return FindDaxDevice(inv, name_or_path);
}

}  // namespace daxkv::probe
