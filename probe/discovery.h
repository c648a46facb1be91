// Discovery: what DAX-capable hardware (or emulation) this machine has.
//
// Everything comes from libndctl (buses, regions, namespaces, bad blocks)
// and libdaxctl (dax devices), plus /proc/mounts for filesystems mounted
// with a DAX mode. A machine with none of it yields empty lists and an OK
// status: "no DAX here" is an answer, not an error.
//
// The structs are plain values, safe to copy and to use from any thread.
// Discover() itself is thread-compatible (it opens its own library
// contexts) and read-only: it never enables, disables or reconfigures.
#ifndef DAXKV_PROBE_DISCOVERY_H_
#define DAXKV_PROBE_DISCOVERY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/statusor.h"

namespace daxkv::probe {

// Who provides an NVDIMM bus: says whether the "persistent memory" is real.
enum class BusProvider {
  kE820,        // memmap=XX!YY on the kernel command line: DRAM emulation
  kAcpiNfit,    // ACPI NFIT: hardware NVDIMMs, or QEMU's -device nvdimm
  kVirtioPmem,  // virtio-pmem: a host file exposed to a guest
  kOther,       // nfit_test, of_pmem, ...: the raw name says which
};
const char* BusProviderName(BusProvider p);  // "e820", "ACPI.NFIT", ...

enum class NamespaceMode { kFsDax, kDevDax, kRaw, kSector, kUnknown };
const char* NamespaceModeName(NamespaceMode m);  // "fsdax", "devdax", ...

// A known-bad range, in 512-byte sectors relative to its region/namespace.
struct BadBlock {
  uint64_t offset_sectors = 0;
  uint32_t length_sectors = 0;
};

struct DaxDevice {
  std::string name;  // "dax0.0"
  std::string path;  // "/dev/dax0.0"
  int region_id = -1;
  uint64_t size = 0;
  uint64_t align = 0;  // mapping alignment the device enforces
  std::string mode;    // "devdax" or "system-ram" (onlined as memory)
  bool enabled = false;
  int numa_node = -1;  // -1 when unknown
  int target_node = -1;
  uint64_t resource = 0;  // physical base address (0 when hidden: non-root)
};

struct Namespace {
  std::string name;  // "namespace0.0"
  NamespaceMode mode = NamespaceMode::kUnknown;
  bool active = false;
  uint64_t raw_size = 0;  // the namespace's capacity
  uint64_t size = 0;      // usable size after the pfn/dax info block
  uint64_t align = 0;     // 0 when the mode has none (raw, sector)
  int numa_node = -1;
  int target_node = -1;
  std::string block_device;  // "pmem0" for fsdax/raw/sector, else empty
  std::string dax_device;    // "dax0.0" for devdax, else empty
  std::vector<BadBlock> bad_blocks;
};

struct NdRegion {
  std::string name;  // "region0"
  std::string type;  // "pmem", "blk"
  uint64_t size = 0;
  uint64_t align = 0;
  uint64_t resource = 0;
  int numa_node = -1;
  int target_node = -1;
  std::vector<Namespace> namespaces;
  std::vector<BadBlock> bad_blocks;
};

struct NdBus {
  std::string name;           // "ndbus0"
  std::string provider_name;  // verbatim from the kernel
  BusProvider provider = BusProvider::kOther;
  std::vector<NdRegion> regions;
};

// How a filesystem maps file data, from its mount options.
enum class DaxMountMode {
  kAlways,   // "dax" or "dax=always": every file is DAX
  kInode,    // "dax=inode": per-file FS_XFLAG_DAX decides
  kNever,    // "dax=never"
  kDefault,  // on a pmem block device, no dax option: the fs default (inode)
};
const char* DaxMountModeName(DaxMountMode m);  // "always", "inode", ...

struct DaxMount {
  std::string source;       // "/dev/pmem0"
  std::string mount_point;  // "/mnt"
  std::string fs_type;      // "ext4", "xfs", "virtiofs"
  DaxMountMode mode = DaxMountMode::kDefault;
  std::string options;  // verbatim option string
};

struct Inventory {
  std::vector<NdBus> buses;
  std::vector<DaxDevice> dax_devices;
  std::vector<DaxMount> mounts;
  // Partial answers: a library that could not be opened, an unreadable
  // attribute. Discovery keeps going and records why here.
  std::vector<std::string> warnings;

  bool empty() const {
    return buses.empty() && dax_devices.empty() && mounts.empty();
  }
};

// Lists everything above. Errors only on something truly broken (the
// process cannot read /proc/mounts); a missing library context or sysfs
// tree becomes a warning.
StatusOr<Inventory> Discover();

// Parses /proc/mounts-format text into the mounts that carry a DAX mode:
// any "dax"/"dax=..." option, or a /dev/pmemN source. Exposed for tests.
std::vector<DaxMount> ParseDaxMounts(const std::string& proc_mounts_text);

// Finds a dax device by name ("dax0.0") or path ("/dev/dax0.0", symlinks
// resolved). NotFound names what was asked and what exists.
StatusOr<DaxDevice> FindDaxDevice(const Inventory& inventory,
                                  const std::string& name_or_path);

// Convenience: Discover() + FindDaxDevice().
StatusOr<DaxDevice> FindDaxDevice(const std::string& name_or_path);

}  // namespace daxkv::probe

#endif  // DAXKV_PROBE_DISCOVERY_H_
