// Pmem2Region: the Region implementation over libpmem2, used for device-dax,
// fsdax files (MAP_SYNC), ordinary files (msync) and tmpfs files. Obtain one
// through OpenRegion() (dax/region.h); this header exists for tests and for
// the few callers that need the libpmem2-specific facts below.
//
// Environment: PMEM2_FORCE_GRANULARITY=CACHE_LINE (read by libpmem2 at
// mapping time) makes tmpfs/ordinary files use cache-line flushes instead of
// msync; the engine tests and benchmarks emulate DAX on DRAM that way, and
// info().granularity reports the effective choice.
//
// Opening: an existing path is used as it is (create_size is ignored); a
// missing one is created (posix_fallocate, mode 0600) only with
// create_if_missing, a size >= kMinRegionSize that is a multiple of the page
// size, and not read_only. A file's size is rounded down to the source
// alignment. Errors (each message names the path):
//   NotFound         missing path (or missing directory when creating)
//   InvalidArgument  directory, block device, non-dax character device,
//                    create_size too small/unaligned, file below minimum
//   NoSpace          the filesystem cannot hold create_size
//   Busy             another read-write or read-only opener holds the lock
//   NotSupported     require_dax and the effective granularity is page
//   others           from ErrnoStatus()/Pmem2Status() (dax/errors.h)
// A file this call created is removed again when the open fails.
//
// Locking: a read-write open holds flock(LOCK_EX) on the path until the
// Region is destroyed; a second read-write open gets Busy. A read-only open
// takes LOCK_SH, or, when another process holds LOCK_EX, maps read-only
// anyway and sets info().in_use_elsewhere.
//
// Grow(): files are mapped into a libpmem2 VM reservation sized at open
// (OpenOptions::reserve_size), so growth appends a mapping at the next offset
// and data() never moves. Growth beyond the reservation fails with NoSpace
// rather than moving the mapping.
//
// Persist failures: on page granularity (msync) the region persists with
// msync(2) itself instead of libpmem2's persist function, which abort()s
// the process when msync fails (it has no way to report it). A failure is
// recorded instead and reported by PersistError(), sticky, so the engine
// refuses writes it could not make durable (and the server says so) rather
// than dying. Cache-line and byte granularity persists cannot fail.
//
// Thread-safety: as for Region. Destruction unmaps; REQUIRES no concurrent
// use and no outstanding pointers into data().
#ifndef DAXKV_DAX_PMEM2_REGION_H_
#define DAXKV_DAX_PMEM2_REGION_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/statusor.h"
#include "dax/region.h"

struct pmem2_source;
struct pmem2_map;
struct pmem2_vm_reservation;

namespace daxkv::dax {

// Smallest region OpenRegion() creates or accepts (the engine needs room for
// its superblock and at least one segment).
inline constexpr size_t kMinRegionSize = 64 * 1024;
// Address space reserved for Grow() when OpenOptions::reserve_size is 0
// (never less than 4x the current size).
inline constexpr size_t kDefaultReserveSize = size_t{64} << 30;

class Pmem2Region final : public Region {
 public:
  static StatusOr<std::unique_ptr<Region>> Open(const std::string& path,
                                                const OpenOptions& options);
  ~Pmem2Region() override;

  const RegionInfo& info() const override { return info_; }
  char* data() const override { return base_; }
  size_t size() const override { return info_.size; }

  void Persist(const void* addr, size_t len) override;
  void Flush(const void* addr, size_t len) override;
  void Drain() override;
  void Copy(void* dst, const void* src, size_t len, unsigned flags) override;
  void Set(void* dst, int c, size_t len, unsigned flags) override;
  Status DeepFlush(void* addr, size_t len) override;
  Status Grow(size_t new_size) override;
  // MADV_POPULATE_WRITE (Linux 5.14).
  Status Prefault(void* addr, size_t len) override;
  Status PersistError() const override;

  // Bytes of address space reserved for growth (0 for devdax).
  size_t reserved_size() const { return reserved_; }

 private:
  using PersistFn = void (*)(const void*, size_t);
  using DrainFn = void (*)();
  using MemcpyFn = void* (*)(void*, const void*, size_t, unsigned);
  using MemsetFn = void* (*)(void*, int, size_t, unsigned);

  struct Mapping {
    size_t offset;  // file offset == offset from data()
    size_t length;
    pmem2_map* map;
  };

  Pmem2Region() = default;

  Status OpenFd(const OpenOptions& options);
  Status CreateFile(const OpenOptions& options);
  Status Lock(bool read_only);
  Status MakeSource();
  Status Reserve(const OpenOptions& options);
  Status MapRange(size_t offset, size_t length);
  Status FillInfo(const OpenOptions& options);
  // Page granularity: msync(2) of the pages holding [addr, addr + len).
  void SyncPages(const void* addr, size_t len);

  RegionInfo info_;
  std::string fs_description_;
  int fd_ = -1;
  bool created_ = false;
  pmem2_source* source_ = nullptr;
  pmem2_vm_reservation* reservation_ = nullptr;
  size_t reserved_ = 0;
  std::vector<Mapping> maps_;
  char* base_ = nullptr;
  PersistFn persist_ = nullptr;
  PersistFn flush_ = nullptr;
  DrainFn drain_ = nullptr;
  MemcpyFn memcpy_ = nullptr;
  MemsetFn memset_ = nullptr;
  bool sync_pages_ = false;  // page granularity: SyncPages, not libpmem2's
  size_t page_size_ = 4096;
  std::atomic<bool> persist_failed_{false};
  mutable std::mutex persist_error_mu_;
  Status persist_error_;  // guarded by persist_error_mu_; set once
};

}  // namespace daxkv::dax

#endif  // DAXKV_DAX_PMEM2_REGION_H_
