#include "dax/pmem2_region.h"

#include <fcntl.h>
#include <libpmem2.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "dax/backing.h"
#include "dax/errors.h"

namespace daxkv::dax {
namespace {

static_assert(kMemNoDrain == PMEM2_F_MEM_NODRAIN);

unsigned ToPmem2Flags(unsigned flags) {
  unsigned out = 0;
  if (flags & kMemNoDrain) out |= PMEM2_F_MEM_NODRAIN;
  if (flags & kMemNoFlush) out |= PMEM2_F_MEM_NOFLUSH;
  if (flags & kMemNonTemporal) out |= PMEM2_F_MEM_NONTEMPORAL;
  if (flags & kMemTemporal) out |= PMEM2_F_MEM_TEMPORAL;
  return out;
}

Granularity FromPmem2(pmem2_granularity g) {
  switch (g) {
    case PMEM2_GRANULARITY_BYTE:
      return Granularity::kByte;
    case PMEM2_GRANULARITY_CACHE_LINE:
      return Granularity::kCacheLine;
    case PMEM2_GRANULARITY_PAGE:
      return Granularity::kPage;
  }
  return Granularity::kPage;
}

size_t RoundUp(size_t n, size_t align) {
  return (n + align - 1) / align * align;
}

std::string Persistence(Granularity g, BackingKind kind) {
  std::string text;
  switch (g) {
    case Granularity::kByte:
      text = "eADR: visible stores are durable; drain only (libpmem2)";
      break;
    case Granularity::kCacheLine:
      text = "cache-line flush + drain (libpmem2)";
      break;
    case Granularity::kPage:
      return "msync(2) of the page cache (libpmem2)";
  }
  if (kind == BackingKind::kTmpfs) text += "; tmpfs is DRAM: lost at reboot";
  return text;
}

std::string Bytes(size_t n) { return std::to_string(n) + " bytes"; }

Status CheckCreateSize(const std::string& path, size_t size) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (size < kMinRegionSize || size % page != 0) {
    return InvalidArgumentError(
        "cannot create " + path + " with " + Bytes(size) +
        ": the size must be at least " + Bytes(kMinRegionSize) +
        " and a multiple of the page size (" + Bytes(page) + ")");
  }
  return OkStatus();
}

constexpr size_t kHugeAlign = size_t{2} << 20;

// An address where `size` bytes aligned to `align` were free a moment ago;
// nullptr when even the probe fails. libpmem2 then maps there with
// MAP_FIXED_NOREPLACE, so a lost race fails instead of clobbering.
void* AlignedAddressHint(size_t size, size_t align) {
  void* probe = mmap(nullptr, size + align, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (probe == MAP_FAILED) return nullptr;
  munmap(probe, size + align);
  return reinterpret_cast<void*>(
      RoundUp(reinterpret_cast<uintptr_t>(probe), align));
}

struct ConfigDeleter {
  void operator()(pmem2_config* cfg) const { pmem2_config_delete(&cfg); }
};

}  // namespace

StatusOr<std::unique_ptr<Region>> OpenRegion(const std::string& path,
                                             const OpenOptions& options) {
  return Pmem2Region::Open(path, options);
}

StatusOr<std::unique_ptr<Region>> Pmem2Region::Open(
    const std::string& path, const OpenOptions& options) {
  std::unique_ptr<Pmem2Region> region(new Pmem2Region());
  region->info_.path = path;
  region->info_.read_only = options.read_only;
  Status status = region->OpenFd(options);
  if (status.ok()) {
    StatusOr<Backing> backing = ClassifyFd(region->fd_, path);
    if (!backing.ok()) {
      status = backing.status();
    } else {
      region->info_.kind = backing->kind;
      region->fs_description_ = backing->FilesystemDescription();
    }
  }
  if (status.ok()) status = region->Lock(options.read_only);
  if (status.ok() && region->created_) status = region->CreateFile(options);
  if (status.ok()) status = region->MakeSource();
  if (status.ok()) status = region->Reserve(options);
  if (status.ok()) status = region->MapRange(0, region->info_.size);
  if (status.ok()) status = region->FillInfo(options);
  region->info_.created = region->created_;
  if (!status.ok()) {
    // Do not leave a half-made pool behind; the lock is still ours.
    if (region->created_) unlink(path.c_str());
    return status;
  }
  return std::unique_ptr<Region>(region.release());
}

Pmem2Region::~Pmem2Region() {
  for (auto it = maps_.rbegin(); it != maps_.rend(); ++it) {
    pmem2_map_delete(&it->map);
  }
  if (reservation_ != nullptr) pmem2_vm_reservation_delete(&reservation_);
  if (source_ != nullptr) pmem2_source_delete(&source_);
  if (fd_ >= 0) close(fd_);  // releases the flock
}

Status Pmem2Region::OpenFd(const OpenOptions& options) {
  const std::string& path = info_.path;
  struct stat st = {};
  if (stat(path.c_str(), &st) == 0) {
    DAXKV_RETURN_IF_ERROR(CheckMappable(st, path));
  }
  const int flags = (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  fd_ = open(path.c_str(), flags);
  if (fd_ < 0 && errno == ENOENT && options.create_if_missing &&
      !options.read_only) {
    DAXKV_RETURN_IF_ERROR(CheckCreateSize(path, options.create_size));
    fd_ = open(path.c_str(), flags | O_CREAT | O_EXCL, 0600);
    if (fd_ >= 0) {
      created_ = true;
    } else if (errno == EEXIST) {  // lost a race with another creator
      fd_ = open(path.c_str(), flags);
    }
  }
  if (fd_ >= 0) return OkStatus();
  if (errno == ENOENT) {
    if (options.create_if_missing && !options.read_only) {
      return NotFoundError("cannot create " + path +
                           ": its directory does not exist");
    }
    return NotFoundError(
        path + " does not exist" +
        (options.read_only ? "" : " (set create_if_missing to create it)"));
  }
  return LastErrnoStatus("open " + path);
}

Status Pmem2Region::Lock(bool read_only) {
  if (flock(fd_, (read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0) {
    return OkStatus();
  }
  if (errno != EWOULDBLOCK) return LastErrnoStatus("flock " + info_.path);
  if (read_only) {
    // An exclusive holder (a running server) must not stop inspection.
    info_.in_use_elsewhere = true;
    return OkStatus();
  }
  const FlockHolder holder = FindFlockHolder(fd_);
  std::string who = holder.pid > 0 ? "pid " + std::to_string(holder.pid)
                                   : std::string("pid unknown");
  if (holder.pid > 0 && !holder.exclusive) who += ", reading it";
  return BusyError(info_.path + " is in use by another process (" + who + ")");
}

Status Pmem2Region::CreateFile(const OpenOptions& options) {
  const int err =
      posix_fallocate(fd_, 0, static_cast<off_t>(options.create_size));
  if (err == 0) return OkStatus();
  if (err == ENOSPC) {
    return NoSpaceError("cannot create " + info_.path + " with " +
                        Bytes(options.create_size) + ": no space left on " +
                        fs_description_);
  }
  return ErrnoStatus(err, "posix_fallocate " + info_.path + " to " +
                              Bytes(options.create_size));
}

Status Pmem2Region::MakeSource() {
  const std::string& path = info_.path;
  int ret = pmem2_source_from_fd(&source_, fd_);
  if (ret != 0) return Pmem2Status(ret, "pmem2_source_from_fd " + path);
  size_t alignment = 0;
  size_t size = 0;
  ret = pmem2_source_alignment(source_, &alignment);
  if (ret != 0) return Pmem2Status(ret, "pmem2_source_alignment " + path);
  ret = pmem2_source_size(source_, &size);
  if (ret != 0) return Pmem2Status(ret, "pmem2_source_size " + path);
  info_.alignment = alignment;
  // A file whose size is not a multiple of the alignment maps its aligned
  // prefix; the tail is unused (and mapped by a later Grow()).
  info_.size = size / alignment * alignment;
  if (info_.size < kMinRegionSize) {
    return InvalidArgumentError(
        path + " holds " + Bytes(size) + " (alignment " + Bytes(alignment) +
        "); a region needs at least " + Bytes(kMinRegionSize));
  }
  return OkStatus();
}

Status Pmem2Region::Reserve(const OpenOptions& options) {
  // Device-dax cannot grow, and its mapping alignment (up to 1 GiB) is best
  // chosen by libpmem2 itself.
  if (info_.kind == BackingKind::kDevDax) return OkStatus();
  size_t want = options.reserve_size != 0
                    ? options.reserve_size
                    : std::max(kDefaultReserveSize, 4 * info_.size);
  want = RoundUp(std::max(want, info_.size), info_.alignment);
  // A 2 MiB-aligned base lets DAX filesystems serve PMD (huge page) faults.
  int ret = pmem2_vm_reservation_new(
      &reservation_, AlignedAddressHint(want, kHugeAlign), want);
  if (ret != 0) {  // the hinted range was taken meanwhile; let mmap choose
    ret = pmem2_vm_reservation_new(&reservation_, nullptr, want);
  }
  if (ret != 0) {
    return Pmem2Status(ret, "reserving " + Bytes(want) +
                                " of address space for " + info_.path);
  }
  reserved_ = want;
  return OkStatus();
}

Status Pmem2Region::MapRange(size_t offset, size_t length) {
  pmem2_config* raw = nullptr;
  int ret = pmem2_config_new(&raw);
  if (ret != 0) return Pmem2Status(ret, "pmem2_config_new");
  std::unique_ptr<pmem2_config, ConfigDeleter> cfg(raw);
  // Ask for the weakest guarantee and report what libpmem2 actually gave.
  ret = pmem2_config_set_required_store_granularity(cfg.get(),
                                                    PMEM2_GRANULARITY_PAGE);
  if (ret == 0) ret = pmem2_config_set_offset(cfg.get(), offset);
  if (ret == 0) ret = pmem2_config_set_length(cfg.get(), length);
  if (ret == 0 && info_.read_only) {
    ret = pmem2_config_set_protection(cfg.get(), PMEM2_PROT_READ);
  }
  if (ret == 0 && reservation_ != nullptr) {
    ret = pmem2_config_set_vm_reservation(cfg.get(), reservation_, offset);
  }
  if (ret != 0)
    return Pmem2Status(ret, "configuring the mapping of " + info_.path);
  pmem2_map* map = nullptr;
  ret = pmem2_map_new(&map, cfg.get(), source_);
  if (ret != 0) {
    return Pmem2Status(ret, "mapping " + Bytes(length) + " at offset " +
                                std::to_string(offset) + " of " + info_.path);
  }
  maps_.push_back(Mapping{offset, length, map});
  return OkStatus();
}

Status Pmem2Region::FillInfo(const OpenOptions& options) {
  pmem2_map* map = maps_.front().map;
  base_ = static_cast<char*>(pmem2_map_get_address(map));
  info_.granularity = FromPmem2(pmem2_map_get_store_granularity(map));
  // libpmem2 does not say whether MAP_SYNC took; the kernel's VmFlags do.
  // Without smaps, rely on libpmem2 falling back to page granularity exactly
  // when MAP_SYNC is refused.
  const int sync = MapSyncInEffect(base_);
  info_.map_sync = sync >= 0 ? sync == 1
                             : info_.kind == BackingKind::kFsDax &&
                                   info_.granularity != Granularity::kPage;
  int node = -1;
  if (pmem2_source_numa_node(source_, &node) != 0) node = -1;
  info_.numa_node = node;
  info_.persistence = Persistence(info_.granularity, info_.kind);
  persist_ = pmem2_get_persist_fn(map);
  flush_ = pmem2_get_flush_fn(map);
  drain_ = pmem2_get_drain_fn(map);
  memcpy_ = pmem2_get_memcpy_fn(map);
  memset_ = pmem2_get_memset_fn(map);
  sync_pages_ = info_.granularity == Granularity::kPage;
  page_size_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (!options.require_dax || info_.granularity != Granularity::kPage) {
    return OkStatus();
  }
  if (info_.kind == BackingKind::kFsDax) {
    return NotSupportedError(
        info_.path + " is on a DAX filesystem (" + fs_description_ +
        ") but libpmem2 could not map it with MAP_SYNC: persistence would "
        "be msync. Check the kernel's MAP_SYNC support for this filesystem");
  }
  if (info_.kind == BackingKind::kTmpfs) {
    return NotSupportedError(
        info_.path +
        " is on tmpfs (DRAM, no DAX): persistence would be "
        "msync. Set PMEM2_FORCE_GRANULARITY=CACHE_LINE to emulate DAX on "
        "DRAM, use /dev/daxX.Y, or accept page-cache persistence");
  }
  return NotSupportedError(
      info_.path + " is on a filesystem without DAX (" + fs_description_ +
      "): persistence would be msync. Mount it with -o dax (4 KiB "
      "filesystem blocks), use /dev/daxX.Y, or accept page-cache persistence");
}

void Pmem2Region::SyncPages(const void* addr, size_t len) {
  if (len == 0) return;
  const uintptr_t lo = reinterpret_cast<uintptr_t>(addr) & ~(page_size_ - 1);
  const uintptr_t hi = reinterpret_cast<uintptr_t>(addr) + len;
  int ret;
  do {
    ret = msync(reinterpret_cast<void*>(lo), hi - lo, MS_SYNC);
  } while (ret != 0 && errno == EINTR);
  if (ret == 0) return;
  const int err = errno;
  std::lock_guard<std::mutex> l(persist_error_mu_);
  if (!persist_error_.ok()) return;  // the first failure is reported
  persist_error_ = ErrnoStatus(err, "msync " + info_.path);
  persist_failed_.store(true, std::memory_order_release);
}

Status Pmem2Region::PersistError() const {
  if (!persist_failed_.load(std::memory_order_acquire)) return OkStatus();
  std::lock_guard<std::mutex> l(persist_error_mu_);
  return persist_error_;
}

void Pmem2Region::Persist(const void* addr, size_t len) {
  if (sync_pages_) return SyncPages(addr, len);
  persist_(addr, len);
}

void Pmem2Region::Flush(const void* addr, size_t len) {
  if (sync_pages_) return SyncPages(addr, len);
  flush_(addr, len);
}

void Pmem2Region::Drain() {
  if (!sync_pages_) drain_();  // msync is synchronous: nothing to wait for
}

void Pmem2Region::Copy(void* dst, const void* src, size_t len, unsigned flags) {
  if (!sync_pages_) return (void)memcpy_(dst, src, len, ToPmem2Flags(flags));
  // Durability: stores to the page cache, then msync of their pages unless
  // the caller flushes later (kMemNoFlush); a failure is recorded
  // (PersistError), never silent.
  std::memmove(dst, src, len);
  if (!(flags & kMemNoFlush)) SyncPages(dst, len);
}

void Pmem2Region::Set(void* dst, int c, size_t len, unsigned flags) {
  if (!sync_pages_) return (void)memset_(dst, c, len, ToPmem2Flags(flags));
  // Durability: as Copy().
  std::memset(dst, c, len);
  if (!(flags & kMemNoFlush)) SyncPages(dst, len);
}

Status Pmem2Region::DeepFlush(void* addr, size_t len) {
  char* const begin = static_cast<char*>(addr);
  char* const end = begin + len;
  for (const Mapping& m : maps_) {
    char* const lo = std::max(begin, base_ + m.offset);
    char* const hi = std::min(end, base_ + m.offset + m.length);
    if (lo >= hi) continue;
    const int ret = pmem2_deep_flush(m.map, lo, static_cast<size_t>(hi - lo));
    if (ret != 0) return Pmem2Status(ret, "pmem2_deep_flush " + info_.path);
  }
  return OkStatus();
}

Status Pmem2Region::Prefault(void* addr, size_t len) {
  // Whole pages: madvise wants a page-aligned start.
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t start = reinterpret_cast<uintptr_t>(addr) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(addr) + len;
  if (madvise(reinterpret_cast<void*>(start), end - start,
              MADV_POPULATE_WRITE) == 0) {
    return OkStatus();
  }
  const int err = errno;
  if (err == EINVAL) {
    return NotSupportedError(
        "MADV_POPULATE_WRITE on " + info_.path +
        " (Linux 5.14 or later, on a mapping that allows it)");
  }
  return ErrnoStatus(err, "madvise(MADV_POPULATE_WRITE) " + info_.path);
}

Status Pmem2Region::Grow(size_t new_size) {
  const std::string& path = info_.path;
  if (info_.kind == BackingKind::kDevDax) {
    return NotSupportedError(path + " is device-dax: its size (" +
                             Bytes(info_.size) +
                             ") is the device's and cannot grow; resize the "
                             "namespace with daxctl reconfigure-device -s");
  }
  if (info_.read_only) {
    return FailedPreconditionError("cannot grow " + path +
                                   ": it is open read-only");
  }
  new_size = RoundUp(new_size, info_.alignment);
  if (new_size <= info_.size) return OkStatus();
  if (new_size > reserved_) {
    return NoSpaceError("cannot grow " + path + " to " + Bytes(new_size) +
                        " without moving data(): only " + Bytes(reserved_) +
                        " of address space were reserved at open; reopen "
                        "with a larger OpenOptions::reserve_size");
  }
  const size_t old_size = info_.size;
  const int err = posix_fallocate(fd_, static_cast<off_t>(old_size),
                                  static_cast<off_t>(new_size - old_size));
  if (err == ENOSPC) {
    return NoSpaceError("cannot grow " + path + " to " + Bytes(new_size) +
                        ": no space left on " + fs_description_);
  }
  if (err != 0) {
    return ErrnoStatus(err,
                       "posix_fallocate " + path + " to " + Bytes(new_size));
  }
  DAXKV_RETURN_IF_ERROR(MapRange(old_size, new_size - old_size));
  const Granularity g =
      FromPmem2(pmem2_map_get_store_granularity(maps_.back().map));
  if (g != info_.granularity) {
    pmem2_map_delete(&maps_.back().map);
    maps_.pop_back();
    return InternalError("growing " + path + ": the new mapping has " +
                         GranularityName(g) + " granularity, the old one " +
                         GranularityName(info_.granularity));
  }
  info_.size = new_size;
  return OkStatus();
}

}  // namespace daxkv::dax
