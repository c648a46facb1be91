#include "dax/file_replace.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "dax/errors.h"
#include "dax/scoped_fd.h"

namespace daxkv::dax {
namespace {

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return LastErrnoStatus("write " + what);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Status ReplaceFileDurably(const std::string& path, std::string_view contents) {
  static std::atomic<uint64_t> seq{0};
  const std::string tmp = path + ".tmp-" + std::to_string(getpid()) + "-" +
                          std::to_string(seq.fetch_add(1));
  struct stat st {};
  const mode_t mode =
      stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
  {
    ScopedFd fd(
        open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (!fd.valid()) return LastErrnoStatus("open " + tmp);
    Status s = WriteAll(fd.get(), contents, tmp);
    if (s.ok() && fsync(fd.get()) != 0) s = LastErrnoStatus("fsync " + tmp);
    if (!s.ok()) {
      unlink(tmp.c_str());
      return s;
    }
  }
  // Durability: a crash before this rename leaves the old file (and a
  // stray temporary); after it, the new one, made durable by the
  // directory's fsync below.
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = LastErrnoStatus("rename " + tmp + " to " + path);
    unlink(tmp.c_str());
    return s;
  }
  const std::string dir = DirectoryOf(path);
  ScopedFd dfd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd.valid()) return LastErrnoStatus("open " + dir);
  if (fsync(dfd.get()) != 0) return LastErrnoStatus("fsync " + dir);
  return OkStatus();
}

}  // namespace daxkv::dax
