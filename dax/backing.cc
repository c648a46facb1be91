#include "dax/backing.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "dax/errors.h"
#include "dax/smaps.h"

namespace daxkv::dax {
namespace {

struct MountEntry {
  std::string mount_point;
  std::string options;  // per-mount and superblock options, comma-joined
  std::string fs_type;
  std::string source;
};

// Finds the /proc/self/mountinfo line for device `dev` whose mount point is
// the longest prefix of `canonical` (bind mounts share a device).
bool FindMount(dev_t dev, const std::string& canonical, MountEntry* out) {
  std::ifstream in("/proc/self/mountinfo");
  const std::string want =
      std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
  std::string line;
  bool found = false;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point, mount_opts, field;
    fields >> id >> parent >> devno >> root >> mount_point >> mount_opts;
    if (devno != want) continue;
    while (fields >> field && field != "-") {
    }
    MountEntry entry;
    std::string super_opts;
    fields >> entry.fs_type >> entry.source >> super_opts;
    entry.mount_point = mount_point;
    entry.options = mount_opts + "," + super_opts;
    const bool prefix = canonical.rfind(mount_point, 0) == 0;
    if (!found || (prefix && mount_point.size() > out->mount_point.size())) {
      *out = entry;
      found = true;
    }
  }
  return found;
}

bool HasDaxOption(const std::string& options) {
  std::istringstream in(options);
  std::string opt;
  while (std::getline(in, opt, ',')) {
    if (opt == "dax" || opt == "dax=always") return true;
  }
  return false;
}

// statx reports whether this inode is in DAX state right now, which covers
// per-file dax (ext4/xfs dax=inode) that mount options cannot show.
int StatxDax(int fd) {
  struct statx stx = {};
  if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) != 0) return -1;
  if ((stx.stx_attributes_mask & STATX_ATTR_DAX) == 0) return -1;
  return (stx.stx_attributes & STATX_ATTR_DAX) != 0 ? 1 : 0;
}

std::string Canonical(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) return path;
  return buf;
}

}  // namespace

Status CheckMappable(const struct stat& st, const std::string& path) {
  if (S_ISREG(st.st_mode)) return OkStatus();
  if (S_ISCHR(st.st_mode)) {
    if (IsDevDax(st.st_rdev)) return OkStatus();
    return InvalidArgumentError(
        path + " is a character device but not device-dax (/dev/daxX.Y); " +
        "use a devdax namespace (ndctl create-namespace -m devdax) or a file");
  }
  const char* what = S_ISDIR(st.st_mode)    ? "a directory"
                     : S_ISBLK(st.st_mode)  ? "a block device (use a file on a "
                                              "filesystem mounted on it)"
                     : S_ISFIFO(st.st_mode) ? "a FIFO"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "not a regular file";
  return InvalidArgumentError(path + " is " + what +
                              ", not a pool file or /dev/daxX.Y");
}

namespace {

StatusOr<Backing> ClassifyRegular(int fd, const struct stat& st,
                                  const std::string& path) {
  Backing backing;
  MountEntry mount;
  if (FindMount(st.st_dev, Canonical(path), &mount)) {
    backing.fs_type = mount.fs_type;
    backing.fs_source = mount.source;
    backing.mount_point = mount.mount_point;
  }
  struct statfs sfs = {};
  const bool have_statfs =
      fd >= 0 ? fstatfs(fd, &sfs) == 0 : statfs(path.c_str(), &sfs) == 0;
  if (have_statfs && sfs.f_type == TMPFS_MAGIC) {
    backing.kind = BackingKind::kTmpfs;
    return backing;
  }
  int dax = fd >= 0 ? StatxDax(fd) : -1;
  if (dax < 0) dax = HasDaxOption(mount.options) ? 1 : 0;
  backing.dax = dax == 1;
  backing.kind = backing.dax ? BackingKind::kFsDax : BackingKind::kFile;
  return backing;
}

// `fd` may be -1 (then statx and fstatfs give way to path-based checks).
StatusOr<Backing> ClassifyStat(int fd, const struct stat& st,
                               const std::string& path) {
  DAXKV_RETURN_IF_ERROR(CheckMappable(st, path));
  if (S_ISREG(st.st_mode)) return ClassifyRegular(fd, st, path);
  Backing backing;
  backing.kind = BackingKind::kDevDax;
  backing.dax = true;
  return backing;
}

}  // namespace

std::string Backing::FilesystemDescription() const {
  if (fs_type.empty()) return "unknown filesystem";
  return fs_type + " on " + fs_source;
}

bool IsDevDax(dev_t rdev) {
  const std::string link = "/sys/dev/char/" + std::to_string(major(rdev)) +
                           ":" + std::to_string(minor(rdev)) + "/subsystem";
  char target[PATH_MAX];
  const ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
  if (n <= 0) return false;
  target[n] = '\0';
  const std::string subsystem(target);
  const size_t slash = subsystem.rfind('/');
  const std::string name =
      slash == std::string::npos ? subsystem : subsystem.substr(slash + 1);
  return name == "dax";
}

FlockHolder FindFlockHolder(int fd) {
  FlockHolder holder;
  struct stat st = {};
  if (fstat(fd, &st) != 0) return holder;
  char want[64];
  snprintf(want, sizeof(want), "%02x:%02x:%lu", major(st.st_dev),
           minor(st.st_dev), static_cast<unsigned long>(st.st_ino));
  std::ifstream in("/proc/locks");
  std::string line;
  while (std::getline(in, line)) {
    // "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF"; waiters have "->".
    std::istringstream fields(line);
    std::string id, type, mode, access, pid, dev_ino;
    fields >> id >> type;
    if (type == "->") continue;
    fields >> mode >> access >> pid >> dev_ino;
    if (type != "FLOCK" || dev_ino != want) continue;
    const bool exclusive = access == "WRITE";
    if (holder.pid < 0 || (exclusive && !holder.exclusive)) {
      holder.pid = std::atoi(pid.c_str());
      holder.exclusive = exclusive;
    }
  }
  return holder;
}

int MapSyncInEffect(const void* addr) {
  auto vma = ReadSmapsVma(reinterpret_cast<uintptr_t>(addr));
  if (!vma.ok() || vma->vm_flags.empty()) return -1;
  std::istringstream flags(vma->vm_flags);
  std::string flag;
  while (flags >> flag) {
    if (flag == "sf") return 1;
  }
  return 0;
}

StatusOr<Backing> ClassifyPath(const std::string& path) {
  struct stat st = {};
  if (stat(path.c_str(), &st) != 0) return LastErrnoStatus("stat " + path);
  // Without a descriptor (no read permission) the mount options decide.
  const int fd =
      S_ISREG(st.st_mode) ? open(path.c_str(), O_RDONLY | O_CLOEXEC) : -1;
  StatusOr<Backing> result = ClassifyStat(fd, st, path);
  if (fd >= 0) close(fd);
  return result;
}

StatusOr<Backing> ClassifyFd(int fd, const std::string& path) {
  struct stat st = {};
  if (fstat(fd, &st) != 0) return LastErrnoStatus("fstat " + path);
  return ClassifyStat(fd, st, path);
}

}  // namespace daxkv::dax
