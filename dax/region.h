// Region: a mapped, persistent byte range and the primitives that make
// stores to it durable. The engine sees only this interface; it never learns
// (or cares) whether the bytes live on device-dax, an fsdax file mapped with
// MAP_SYNC, an ordinary page-cache file, or the crash simulator in tests.
//
// Durability model (the contract every implementation keeps):
//  - Stores to data() reach the medium only after Flush() of the range
//    followed by Drain() on the same thread, or Persist() (= both).
//  - Copy()/Set() without kMemNoFlush flush what they write; without
//    kMemNoDrain they also drain, so the bytes are durable on return.
//  - On page-granularity backings (ordinary files) Flush is msync(2):
//    honest, slower, and reported as such in info().persistence.
//  - Until persisted, a store may or may not survive a power failure, at
//    cache-line granularity (8-byte aligned stores are never torn).
//
// Thread-safety: Persist/Flush/Drain/Copy/Set may be called concurrently on
// disjoint ranges. Drain() orders only the calling thread's flushes. Grow()
// requires external synchronisation with every other call.
#ifndef DAXKV_DAX_REGION_H_
#define DAXKV_DAX_REGION_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "base/statusor.h"

namespace daxkv::dax {

enum class BackingKind {
  kDevDax,     // character device /dev/daxX.Y
  kFsDax,      // file on a filesystem mounted with -o dax (MAP_SYNC)
  kFile,       // ordinary file on a block-backed filesystem (page cache)
  kTmpfs,      // file on tmpfs/shmem (/dev/shm): DRAM, lost at reboot
  kSimulated,  // test-only crash simulator (tests/engine)
};

// The unit in which stores become durable (libpmem2's store granularity).
enum class Granularity {
  kByte,       // eADR / CPU caches are in the persistence domain
  kCacheLine,  // stores must be flushed from the CPU cache (clwb) + fenced
  kPage,       // stores must be written back by msync(2)
};

const char* BackingKindName(BackingKind kind);   // "devdax", "fsdax", ...
const char* GranularityName(Granularity g);      // "byte", "cache-line", ...

struct RegionInfo {
  std::string path;
  BackingKind kind = BackingKind::kFile;
  size_t size = 0;       // bytes mapped and usable, a multiple of alignment
  size_t alignment = 0;  // mapping alignment the source requires
  Granularity granularity = Granularity::kPage;
  // MAP_SYNC is in effect (kernel VmFlags "sf"): fsdax, and devdax where
  // the kernel honours MAP_SYNC there too.
  bool map_sync = false;
  int numa_node = -1;     // -1 when unknown
  bool read_only = false;
  // A read-only open found the region locked exclusively by another process
  // (e.g. a running server); the bytes may change underneath the reader.
  bool in_use_elsewhere = false;
  // This open created the region (a new file, all zero): it holds nothing
  // a caller could mistake for older data (no need to look for any).
  bool created = false;
  // One line for people: "cache-line flush + drain (libpmem2)", "msync(2)".
  std::string persistence;
};

// Flags for Copy()/Set(); they map 1:1 onto PMEM2_F_MEM_*.
enum MemFlags : unsigned {
  kMemDefault = 0,
  kMemNoDrain = 1u << 0,      // flush but do not fence; call Drain() later
  kMemNoFlush = 1u << 1,      // plain stores; caller flushes + drains later
  kMemNonTemporal = 1u << 2,  // prefer streaming stores (large values)
  kMemTemporal = 1u << 3,     // prefer cached stores + clwb (small values)
};

class Region {
 public:
  virtual ~Region() = default;
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

  virtual const RegionInfo& info() const = 0;

  // Base address of the mapping. Stable for the Region's lifetime, Grow()
  // included.
  virtual char* data() const = 0;
  virtual size_t size() const = 0;

  // REQUIRES: [addr, addr + len) lies inside [data(), data() + size()).
  // REQUIRES (Persist/Flush/Copy/Set): not info().read_only; a read-only
  // region is mapped PROT_READ and a store through it faults.
  virtual void Persist(const void* addr, size_t len) = 0;
  virtual void Flush(const void* addr, size_t len) = 0;
  virtual void Drain() = 0;
  virtual void Copy(void* dst, const void* src, size_t len,
                    unsigned flags = kMemDefault) = 0;
  virtual void Set(void* dst, int c, size_t len,
                   unsigned flags = kMemDefault) = 0;

  // Flushes the range through the memory controller's write-pending queues
  // (pmem2_deep_flush). NotSupported where the backing has no such notion.
  virtual Status DeepFlush(void* addr, size_t len) = 0;

  // Extends the region to at least `new_size` bytes, keeping data() fixed.
  // Works on files (fsdax, ordinary, tmpfs); NotSupported on devdax, whose
  // size is the device's. The new bytes read as zero.
  virtual Status Grow(size_t new_size) = 0;

  // Maps [addr, addr + len) writable ahead of its first store, so that the
  // store takes no page fault (tmpfs and page-cache files zero or read a
  // page then; fsdax allocates blocks; devdax inserts the PMD). Changes no
  // byte: safe beside concurrent stores to the range. NotSupported where
  // the kernel or the mapping cannot (then stores fault as before).
  // REQUIRES: as Persist().
  virtual Status Prefault(void* addr, size_t len) { return OkStatus(); }

  // OK while every persist so far has succeeded. Once a persist fails (on a
  // page-cache backing, msync(2) reporting EIO or ENOSPC on write-back),
  // the first failure, sticky for the Region's lifetime: the bytes of that
  // persist and of every later one may not be on the medium. Persist() and
  // friends return nothing, so callers about to acknowledge a write check
  // this after its persist. Cheap (an atomic load when OK).
  virtual Status PersistError() const { return OkStatus(); }

 protected:
  Region() = default;
};

struct OpenOptions {
  // Create the file when missing, with this size (bytes, > 0).
  bool create_if_missing = false;
  size_t create_size = 0;
  // Refuse page-granularity persistence (ordinary files): the caller wants
  // DAX. The error says why and how to fix it (mount -o dax, 4 KiB blocks).
  bool require_dax = false;
  bool read_only = false;
  // Address space reserved up front so Grow() never moves data(); 0 picks a
  // default (the larger of 4x the size and 64 GiB of address space).
  size_t reserve_size = 0;
};

// Opens (or creates) the persistent region at `path`: /dev/daxX.Y, a file
// on an fsdax mount (mapped MAP_SYNC), or an ordinary/tmpfs file.
// Implemented in dax/pmem2_region.cc, which documents the errors: NotFound
// (missing path), InvalidArgument (directory, non-dax device, too small),
// NoSpace (create/Grow), Busy (held by another read-write opener),
// NotSupported (require_dax on a page-cache backing).
StatusOr<std::unique_ptr<Region>> OpenRegion(const std::string& path,
                                             const OpenOptions& options);

}  // namespace daxkv::dax

#endif  // DAXKV_DAX_REGION_H_
