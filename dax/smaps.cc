#include "dax/smaps.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "dax/scoped_fd.h"

namespace daxkv::dax {
namespace {

std::string Errno(int err) { return std::strerror(err); }

uint64_t ParseKb(const std::string& rest) {
  return std::strtoull(rest.c_str(), nullptr, 10);
}

// Assigns one "Key:   123 kB" smaps line to its field; false if unknown.
void AssignSmapsField(SmapsVma& v, const std::string& key,
                      const std::string& rest) {
  struct Field {
    const char* name;
    uint64_t SmapsVma::*member;
  };
  static const Field kFields[] = {
      {"Size", &SmapsVma::size_kb},
      {"KernelPageSize", &SmapsVma::kernel_page_size_kb},
      {"MMUPageSize", &SmapsVma::mmu_page_size_kb},
      {"Rss", &SmapsVma::rss_kb},
      {"Pss", &SmapsVma::pss_kb},
      {"Shared_Clean", &SmapsVma::shared_clean_kb},
      {"Shared_Dirty", &SmapsVma::shared_dirty_kb},
      {"Private_Clean", &SmapsVma::private_clean_kb},
      {"Private_Dirty", &SmapsVma::private_dirty_kb},
      {"Referenced", &SmapsVma::referenced_kb},
      {"Anonymous", &SmapsVma::anonymous_kb},
      {"AnonHugePages", &SmapsVma::anon_huge_pages_kb},
      {"ShmemPmdMapped", &SmapsVma::shmem_pmd_mapped_kb},
      {"FilePmdMapped", &SmapsVma::file_pmd_mapped_kb},
      {"Swap", &SmapsVma::swap_kb},
      {"Locked", &SmapsVma::locked_kb},
  };
  if (key == "VmFlags") {
    size_t b = rest.find_first_not_of(' ');
    v.vm_flags = b == std::string::npos ? "" : rest.substr(b);
    return;
  }
  for (const Field& f : kFields) {
    if (key == f.name) v.*(f.member) = ParseKb(rest);
  }
}

// "7f00-7f80 rw-s 00000000 00:05 1234   /path" -> a new SmapsVma.
bool ParseVmaHeader(const std::string& line, SmapsVma& v) {
  std::istringstream in(line);
  std::string range, perms, offset, dev, inode;
  if (!(in >> range >> perms >> offset >> dev >> inode)) return false;
  size_t dash = range.find('-');
  if (dash == std::string::npos) return false;
  char* endp = nullptr;
  v.start = std::strtoull(range.c_str(), &endp, 16);
  if (endp != range.c_str() + dash) return false;
  v.end = std::strtoull(range.c_str() + dash + 1, nullptr, 16);
  v.perms = perms;
  std::string path;
  std::getline(in, path);
  size_t b = path.find_first_not_of(' ');
  v.pathname = b == std::string::npos ? "" : path.substr(b);
  return true;
}

}  // namespace

std::string ProcPath(pid_t pid, const char* leaf) {
  return pid == 0 ? std::string("/proc/self/") + leaf
                  : "/proc/" + std::to_string(pid) + "/" + leaf;
}

StatusOr<std::string> ReadWholeFile(const std::string& path) {
  ScopedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return IOError("open " + path + ": " + Errno(errno));
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IOError("read " + path + ": " + Errno(errno));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

std::vector<SmapsVma> ParseSmaps(const std::string& text) {
  std::vector<SmapsVma> vmas;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    size_t space = line.find(' ');
    bool is_field = colon != std::string::npos &&
                    (space == std::string::npos || colon < space);
    if (!is_field) {
      SmapsVma v;
      if (ParseVmaHeader(line, v)) vmas.push_back(std::move(v));
      continue;
    }
    if (vmas.empty()) continue;
    AssignSmapsField(vmas.back(), line.substr(0, colon),
                     line.substr(colon + 1));
  }
  return vmas;
}

StatusOr<SmapsVma> ReadSmapsVma(uint64_t addr, pid_t pid) {
  std::string path = ProcPath(pid, "smaps");
  DAXKV_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  for (SmapsVma& v : ParseSmaps(text)) {
    if (addr >= v.start && addr < v.end) return std::move(v);
  }
  std::ostringstream msg;
  msg << path << ": no VMA contains 0x" << std::hex << addr;
  return NotFoundError(msg.str());
}

StatusOr<uint64_t> ReadResidentBytes(pid_t pid) {
  const std::string path = ProcPath(pid, "statm");
  DAXKV_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  std::istringstream in(text);
  uint64_t size_pages = 0;
  uint64_t resident_pages = 0;
  if (!(in >> size_pages >> resident_pages)) {
    return IOError(path + ": unexpected contents: " + text);
  }
  return resident_pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace daxkv::dax
