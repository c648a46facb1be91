// Classifies what lies behind a path before it is mapped: a device-dax
// character device, a file on a DAX filesystem, a tmpfs file or an ordinary
// page-cache file. Also describes the filesystem for error messages
// ("ext4 on /dev/sda1 at /").
//
// Thread-safety: all functions are thread-safe (they read /proc and /sys).
#ifndef DAXKV_DAX_BACKING_H_
#define DAXKV_DAX_BACKING_H_

#include <sys/stat.h>

#include <string>

#include "base/statusor.h"
#include "dax/region.h"

namespace daxkv::dax {

struct Backing {
  BackingKind kind = BackingKind::kFile;
  // From /proc/self/mountinfo; empty for devdax or when not found.
  std::string fs_type;      // "ext4", "tmpfs", "xfs"
  std::string fs_source;    // "/dev/pmem0", "tmpfs"
  std::string mount_point;  // "/mnt/pmem"
  // The file has the DAX attribute (statx STATX_ATTR_DAX), or, on kernels
  // without that attribute, its mount carries a dax option.
  bool dax = false;

  // "ext4 on /dev/sda1" (or "unknown filesystem").
  std::string FilesystemDescription() const;
};

// Classifies an existing path (follows symlinks). Errors: NotFound when the
// path is missing; InvalidArgument for a directory, a character device that
// is not device-dax, a block device, a FIFO or a socket.
StatusOr<Backing> ClassifyPath(const std::string& path);

// Same for an open descriptor of `path` (no race between check and open).
StatusOr<Backing> ClassifyFd(int fd, const std::string& path);

// OK for a regular file or a device-dax character device; otherwise the
// InvalidArgument that ClassifyPath() would return.
Status CheckMappable(const struct stat& st, const std::string& path);

// Who holds a flock on the file open as `fd`, from /proc/locks.
struct FlockHolder {
  int pid = -1;  // as seen in this pid namespace; -1 when unknown
  bool exclusive = false;
};
// Prefers an exclusive holder over shared ones; pid -1 when no lock is
// listed or /proc/locks is unreadable.
FlockHolder FindFlockHolder(int fd);

// Whether the mapping containing `addr` has synchronous page faults
// (MAP_SYNC: "sf" in /proc/self/smaps VmFlags): 1 yes, 0 no, -1 unknown.
int MapSyncInEffect(const void* addr);

// True when the character device `rdev` belongs to the "dax" subsystem.
bool IsDevDax(dev_t rdev);

}  // namespace daxkv::dax

#endif  // DAXKV_DAX_BACKING_H_
