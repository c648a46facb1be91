#include "probe/mapping.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/stat.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "probe/linux_compat.h"

namespace daxkv::probe {
namespace {

constexpr size_t kPageSize = 4096;

std::string Errno(int err) { return std::strerror(err); }

bool IsScratchFile(MappingBacking b) {
  return b == MappingBacking::kShmemFile || b == MappingBacking::kFileShared ||
         b == MappingBacking::kFilePrivate || b == MappingBacking::kFsDax ||
         b == MappingBacking::kFsDaxSync;
}

std::string DefaultDir(MappingBacking b) {
  return b == MappingBacking::kShmemFile ? "/dev/shm" : "/tmp";
}

// Writes zeros over [0, size) so every block is allocated and, on a page
// cache filesystem, cached.
Status FillZeros(int fd, size_t size, const std::string& path) {
  std::vector<char> zeros(size_t{1} << 20, 0);
  for (size_t off = 0; off < size;) {
    size_t n = std::min(zeros.size(), size - off);
    ssize_t w = pwrite(fd, zeros.data(), n, static_cast<off_t>(off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      return IOError("write zeros to " + path + " at " + std::to_string(off) +
                     ": " + Errno(w < 0 ? errno : EIO));
    }
    off += static_cast<size_t>(w);
  }
  return OkStatus();
}

// A page-cache file must sit on a block-backed filesystem and a shmem file
// on tmpfs; otherwise the case would measure the other backing.
Status CheckFilesystem(MappingBacking b, int fd, const std::string& dir) {
  struct statfs fs {};
  if (fstatfs(fd, &fs) != 0) {
    return IOError("fstatfs in " + dir + ": " + Errno(errno));
  }
  bool shmem = fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC;
  if ((b == MappingBacking::kFileShared || b == MappingBacking::kFilePrivate) &&
      shmem) {
    return NotSupportedError(dir +
                             " is tmpfs/ramfs: a page-cache file "
                             "needs a block-backed filesystem");
  }
  if (b == MappingBacking::kShmemFile && fs.f_type != TMPFS_MAGIC) {
    return NotSupportedError(dir + " is not tmpfs");
  }
  return OkStatus();
}

// A file on an fsdax mount is DAX only if the inode says so (dax=inode
// mounts decide per file): statx STATX_ATTR_DAX (Linux 5.8+).
Status CheckDaxFile(int fd, const std::string& path) {
  struct statx stx {};
  if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) != 0) {
    return IOError("statx " + path + ": " + Errno(errno));
  }
  if (!(stx.stx_attributes_mask & STATX_ATTR_DAX)) {
    return NotSupportedError("statx on " + path +
                             " cannot report STATX_ATTR_DAX");
  }
  if (!(stx.stx_attributes & STATX_ATTR_DAX)) {
    return NotSupportedError(path +
                             " is not a DAX file (mount the "
                             "filesystem with -o dax on a pmem device)");
  }
  return OkStatus();
}

}  // namespace

const char* MappingBackingName(MappingBacking b) {
  switch (b) {
    case MappingBacking::kAnon:
      return "anon";
    case MappingBacking::kMemfd:
      return "memfd";
    case MappingBacking::kShmemFile:
      return "shmem-file";
    case MappingBacking::kFileShared:
      return "file-shared";
    case MappingBacking::kFilePrivate:
      return "file-private";
    case MappingBacking::kDevDax:
      return "devdax";
    case MappingBacking::kFsDax:
      return "fsdax";
    case MappingBacking::kFsDaxSync:
      return "fsdax-sync";
    case MappingBacking::kHugetlb:
      return "hugetlb";
  }
  return "unknown";
}

StatusOr<std::unique_ptr<Mapping>> Mapping::Create(
    const MappingOptions& options) {
  size_t align = options.alignment ? options.alignment : kPageSize;
  if (options.size == 0 || options.size % kPageSize ||
      (align & (align - 1)) != 0) {
    return InvalidArgumentError(
        std::string("Mapping of ") + MappingBackingName(options.backing) +
        ": size " + std::to_string(options.size) + " / alignment " +
        std::to_string(align) + " must be non-zero page multiples");
  }
  std::unique_ptr<Mapping> m(new Mapping(options));
  m->options_.alignment = align;
  DAXKV_RETURN_IF_ERROR(m->Open());
  DAXKV_RETURN_IF_ERROR(m->Map());
  return m;
}

Status Mapping::Open() {
  const MappingBacking b = options_.backing;
  const char* name = MappingBackingName(b);
  if (b == MappingBacking::kAnon || b == MappingBacking::kHugetlb) {
    return OkStatus();
  }
  if (b == MappingBacking::kMemfd) {
    fd_ = memfd_create("daxkv-mapping", MFD_CLOEXEC);
    if (fd_ < 0) return IOError(std::string("memfd_create: ") + Errno(errno));
  } else if (b == MappingBacking::kDevDax) {
    file_path_ = options_.path;
    if (file_path_.empty()) {
      return InvalidArgumentError("devdax mapping needs a device path");
    }
    fd_ = open(file_path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) return IOError("open " + file_path_ + ": " + Errno(errno));
    return OkStatus();
  } else {
    std::string dir = options_.path.empty() ? DefaultDir(b) : options_.path;
    std::string tmpl = dir + "/daxkv-mapping-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    fd_ = mkostemp(buf.data(), O_CLOEXEC);
    if (fd_ < 0) {
      return IOError(std::string("create scratch file for ") + name + " in " +
                     dir + ": " + Errno(errno));
    }
    file_path_ = buf.data();
    remove_file_ = true;
    DAXKV_RETURN_IF_ERROR(CheckFilesystem(b, fd_, dir));
  }
  if (ftruncate(fd_, static_cast<off_t>(options_.size)) != 0) {
    return IOError("ftruncate " + (file_path_.empty() ? "memfd" : file_path_) +
                   ": " + Errno(errno));
  }
  if (b == MappingBacking::kFsDax || b == MappingBacking::kFsDaxSync) {
    DAXKV_RETURN_IF_ERROR(CheckDaxFile(fd_, file_path_));
    // One fallocate asks for contiguous (ideally 2 MiB-aligned) extents,
    // without which the filesystem cannot map PMDs.
    if (fallocate(fd_, 0, 0, static_cast<off_t>(options_.size)) != 0) {
      return IOError("fallocate " + file_path_ + ": " + Errno(errno));
    }
  }
  if (options_.preallocate &&
      (IsScratchFile(b) || b == MappingBacking::kMemfd)) {
    DAXKV_RETURN_IF_ERROR(FillZeros(fd_, options_.size, file_path_));
    if ((b == MappingBacking::kFsDax || b == MappingBacking::kFsDaxSync) &&
        fsync(fd_) != 0) {
      return IOError("fsync " + file_path_ + ": " + Errno(errno));
    }
  }
  return OkStatus();
}

StatusOr<char*> Mapping::MapAt(void* where, bool map_populate) {
  const MappingBacking b = options_.backing;
  int prot = PROT_READ | (options_.read_only ? 0 : PROT_WRITE);
  int flags = MAP_SHARED;
  off_t offset = 0;
  switch (b) {
    case MappingBacking::kAnon:
      flags = MAP_PRIVATE | MAP_ANONYMOUS;
      break;
    case MappingBacking::kHugetlb:
      flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB;
      break;
    case MappingBacking::kFilePrivate:
      flags = MAP_PRIVATE;
      break;
    case MappingBacking::kFsDaxSync:
      flags = MAP_SHARED_VALIDATE | MAP_SYNC;
      break;
    case MappingBacking::kDevDax:
      offset = static_cast<off_t>(options_.device_offset);
      break;
    default:
      break;
  }
  if (map_populate) flags |= MAP_POPULATE;
  if (where != nullptr) flags |= MAP_FIXED;
  // MAP_POPULATE faults pages in inside mmap(), before MADV_NOHUGEPAGE can
  // mark the VMA: for a 4 KiB request, switch THP (DAX PMDs included) off
  // for the process around the call so the populate maps PTEs.
  bool thp_was_on = map_populate && options_.thp == ThpAdvice::kNoHugePage &&
                    prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 0 &&
                    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0;
  void* p = mmap(where, options_.size, prot, flags, fd_, offset);
  int err = errno;
  if (thp_was_on) prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0);
  if (p != MAP_FAILED) return static_cast<char*>(p);
  std::string what = std::string("mmap ") + MappingBackingName(b) + " " +
                     (file_path_.empty() ? "" : file_path_ + " ") +
                     std::to_string(options_.size) + " bytes: " + Errno(err);
  if (err == EOPNOTSUPP || (b == MappingBacking::kFsDaxSync && err == EINVAL)) {
    return NotSupportedError(what);
  }
  if (b == MappingBacking::kHugetlb && err == ENOMEM) {
    return NoSpaceError(what + " (hugetlb pool empty? vm.nr_hugepages)");
  }
  return IOError(what);
}

Status Mapping::Map() {
  const size_t size = options_.size;
  const size_t align = options_.alignment;
  // Reserve size + align of address space, then place the real mapping at
  // the aligned address inside it with MAP_FIXED.
  size_t reserve = size + align;
  void* r = mmap(nullptr, reserve, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) {
    return NoSpaceError("reserve " + std::to_string(reserve) +
                        " bytes of address space: " + Errno(errno));
  }
  uintptr_t base = reinterpret_cast<uintptr_t>(r);
  uintptr_t aligned = (base + align - 1) & ~(uintptr_t{align} - 1);
  StatusOr<char*> p =
      MapAt(reinterpret_cast<void*>(aligned), options_.map_populate);
  if (!p.ok()) {
    munmap(r, reserve);
    return p.status();
  }
  if (aligned > base) munmap(r, aligned - base);
  uintptr_t tail = aligned + size;
  if (base + reserve > tail) {
    munmap(reinterpret_cast<void*>(tail), base + reserve - tail);
  }
  data_ = *p;
  return ApplyThpAdvice();
}

Status Mapping::ApplyThpAdvice() {
  if (options_.thp == ThpAdvice::kHugePage) {
    return Advise(MADV_HUGEPAGE, 0, options_.size, "MADV_HUGEPAGE");
  }
  if (options_.thp == ThpAdvice::kNoHugePage) {
    return Advise(MADV_NOHUGEPAGE, 0, options_.size, "MADV_NOHUGEPAGE");
  }
  return OkStatus();
}

Status Mapping::Remap(bool map_populate) {
  // MAP_FIXED replaces the old mapping atomically: no window in which
  // another mmap could take the address.
  DAXKV_ASSIGN_OR_RETURN(char* p, MapAt(data_, map_populate));
  data_ = p;
  return ApplyThpAdvice();
}

Mapping::~Mapping() {
  if (data_ != nullptr) munmap(data_, options_.size);
  if (fd_ >= 0) close(fd_);
  if (remove_file_) unlink(file_path_.c_str());
}

Status Mapping::Advise(int advice, size_t offset, size_t len,
                       const char* name) {
  if (len == 0) len = options_.size - offset;
  if (offset + len > options_.size) {
    return InvalidArgumentError(std::string(name) + ": range past the end");
  }
  if (madvise(data_ + offset, len, advice) != 0) {
    int err = errno;
    std::string what = std::string(name) + " on " +
                       MappingBackingName(options_.backing) +
                       " mapping: " + Errno(err);
    return err == EINVAL ? NotSupportedError(what) : IOError(what);
  }
  return OkStatus();
}

Status Mapping::PopulateRead(size_t offset, size_t len) {
  return Advise(MADV_POPULATE_READ, offset, len, "MADV_POPULATE_READ");
}

Status Mapping::PopulateWrite(size_t offset, size_t len) {
  return Advise(MADV_POPULATE_WRITE, offset, len, "MADV_POPULATE_WRITE");
}

Status Mapping::Discard(size_t offset, size_t len) {
  return Advise(MADV_DONTNEED, offset, len, "MADV_DONTNEED");
}

Status Mapping::Protect(size_t offset, size_t len, int prot) {
  if (offset + len > options_.size) {
    return InvalidArgumentError("mprotect: range past the end");
  }
  if (mprotect(data_ + offset, len, prot) != 0) {
    return IOError(std::string("mprotect ") +
                   MappingBackingName(options_.backing) + ": " + Errno(errno));
  }
  return OkStatus();
}

Status Mapping::SetWritable(bool writable) {
  return Protect(0, options_.size, PROT_READ | (writable ? PROT_WRITE : 0));
}

}  // namespace daxkv::probe
