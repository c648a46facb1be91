// Mapping: one mmap(2) of a chosen backing, for code that studies faults
// (daxkv-faultbench, tests) rather than stores data (that is Region).
//
// Backings: anonymous memory, memfd, a file on tmpfs, a page-cache file
// (MAP_SHARED or MAP_PRIVATE), device-dax, a file on an fsdax mount (with or
// without MAP_SYNC), and hugetlb. The mapping can be aligned (2 MiB, 1 GiB)
// so the kernel may map it with PMDs/PUDs, THP can be asked for or refused
// (MADV_HUGEPAGE / MADV_NOHUGEPAGE), and pages can be prefaulted
// (MAP_POPULATE, MADV_POPULATE_READ/WRITE) or dropped again
// (MADV_DONTNEED) so the next touch faults.
//
// Lifetime: the destructor unmaps, closes the file and removes any scratch
// file this object created. Thread-safety: thread-compatible; data() may be
// touched from any thread while the Mapping lives.
#ifndef DAXKV_PROBE_MAPPING_H_
#define DAXKV_PROBE_MAPPING_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "base/statusor.h"

namespace daxkv::probe {

enum class MappingBacking {
  kAnon,         // MAP_PRIVATE | MAP_ANONYMOUS
  kMemfd,        // memfd_create, MAP_SHARED
  kShmemFile,    // scratch file in options.path (default /dev/shm), MAP_SHARED
  kFileShared,   // scratch page-cache file in options.path (default /tmp)
  kFilePrivate,  // same, MAP_PRIVATE
  kDevDax,       // options.path = /dev/daxX.Y, MAP_SHARED
  kFsDax,        // scratch file in options.path (an fsdax mount), MAP_SHARED
  kFsDaxSync,    // same, MAP_SHARED_VALIDATE | MAP_SYNC
  kHugetlb,      // MAP_ANONYMOUS | MAP_HUGETLB (default huge page size)
};
const char* MappingBackingName(MappingBacking b);  // "anon", "devdax", ...

enum class ThpAdvice {
  kNone,       // leave the VMA alone (system default applies)
  kHugePage,   // MADV_HUGEPAGE
  kNoHugePage  // MADV_NOHUGEPAGE
};

struct MappingOptions {
  MappingBacking backing = MappingBacking::kAnon;
  size_t size = 0;  // REQUIRES: > 0, a multiple of 4 KiB (and of alignment)
  // Virtual address alignment (power of two). 0: the page size. For devdax
  // use the device's align; 2 MiB lets THP, shmem THP and DAX use PMDs.
  size_t alignment = 0;
  ThpAdvice thp = ThpAdvice::kNone;
  bool map_populate = false;  // MAP_POPULATE at mmap time
  bool read_only = false;     // PROT_READ only
  // Directory for scratch files (kShmemFile, kFile*, kFsDax*), or the device
  // path for kDevDax. Empty picks the default named above.
  std::string path;
  // For kMemfd/kFile*/kShmemFile/kFsDax*: write the file's blocks (zeros)
  // before mapping, so faults find allocated blocks / cached pages, not holes.
  bool preallocate = true;
  // kDevDax only: byte offset into the device (multiple of alignment).
  uint64_t device_offset = 0;
};

class Mapping {
 public:
  // Maps per `options`; errors name the backing, the path and the cause
  // (EOPNOTSUPP from MAP_SYNC on a non-DAX file is NotSupported, an empty
  // hugetlb pool is NoSpace).
  static StatusOr<std::unique_ptr<Mapping>> Create(
      const MappingOptions& options);

  ~Mapping();
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  char* data() const { return data_; }
  size_t size() const { return options_.size; }
  uint64_t begin() const { return reinterpret_cast<uint64_t>(data_); }
  uint64_t end() const { return begin() + size(); }
  const MappingOptions& options() const { return options_; }
  // The file behind the mapping ("" for anonymous memory).
  const std::string& file_path() const { return file_path_; }
  int fd() const { return fd_; }

  // MADV_POPULATE_READ / MADV_POPULATE_WRITE over [offset, offset+len)
  // (len 0 = to the end). NotSupported on kernels without them.
  Status PopulateRead(size_t offset = 0, size_t len = 0);
  Status PopulateWrite(size_t offset = 0, size_t len = 0);
  // MADV_DONTNEED: zaps the page tables, so the next touch faults again.
  // Anonymous/private pages are freed (reads return zeros); shared file and
  // DAX pages keep their contents.
  Status Discard(size_t offset = 0, size_t len = 0);
  // munmap + mmap of the same object at the same address, with MAP_POPULATE
  // when asked: the page tables start empty (or fully populated) again.
  // Private/anonymous contents are lost. REQUIRES: no other thread touches
  // the range meanwhile.
  Status Remap(bool map_populate);
  // mprotect(2) over a sub-range; prot is PROT_* bits.
  Status Protect(size_t offset, size_t len, int prot);
  // mprotect(2) of the whole mapping to PROT_READ, or PROT_READ|PROT_WRITE.
  Status SetWritable(bool writable);

 private:
  explicit Mapping(const MappingOptions& options) : options_(options) {}
  Status Open();
  Status Map();
  // mmap at `where` (MAP_FIXED) or anywhere (nullptr).
  StatusOr<char*> MapAt(void* where, bool map_populate);
  Status ApplyThpAdvice();
  Status Advise(int advice, size_t offset, size_t len, const char* name);

  MappingOptions options_;
  char* data_ = nullptr;
  int fd_ = -1;
  std::string file_path_;
  bool remove_file_ = false;
};

}  // namespace daxkv::probe

#endif  // DAXKV_PROBE_MAPPING_H_
