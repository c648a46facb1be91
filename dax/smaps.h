// Reading /proc/PID/smaps: the kernel's per-VMA accounting of a mapping
// (Rss, Pss, shared/private, PMD-mapped bytes, VmFlags). The region code
// uses it to check that MAP_SYNC is in effect; the kernel probes use it as
// fault-path evidence.
//
// Thread-safety: every function is safe to call from any thread.
#ifndef DAXKV_DAX_SMAPS_H_
#define DAXKV_DAX_SMAPS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/statusor.h"

namespace daxkv::dax {

// Totals for one VMA from /proc/PID/smaps, in kB as the kernel prints them.
struct SmapsVma {
  uint64_t start = 0;
  uint64_t end = 0;
  std::string perms;     // "rw-s"
  std::string pathname;  // "" for anonymous, "[heap]", "/dev/dax0.0", ...
  uint64_t size_kb = 0;
  uint64_t kernel_page_size_kb = 0;
  uint64_t mmu_page_size_kb = 0;
  uint64_t rss_kb = 0;
  uint64_t pss_kb = 0;
  uint64_t shared_clean_kb = 0;
  uint64_t shared_dirty_kb = 0;
  uint64_t private_clean_kb = 0;
  uint64_t private_dirty_kb = 0;
  uint64_t referenced_kb = 0;
  uint64_t anonymous_kb = 0;
  uint64_t anon_huge_pages_kb = 0;
  uint64_t shmem_pmd_mapped_kb = 0;
  uint64_t file_pmd_mapped_kb = 0;
  uint64_t swap_kb = 0;
  uint64_t locked_kb = 0;
  std::string vm_flags;  // "rd wr sh mr mw me ms dd"
};

// The VMA of process `pid` containing `addr`; NotFound when none does.
StatusOr<SmapsVma> ReadSmapsVma(uint64_t addr, pid_t pid = 0);
// Parses smaps-format text (every VMA). Exposed for tests.
std::vector<SmapsVma> ParseSmaps(const std::string& text);

// Resident bytes of process `pid` (0: this one), from /proc/PID/statm:
// what INFO's used_memory_rss reports. The pool's own mapping counts as far
// as its pages are resident (file-backed and shmem pools; device-dax pages
// are not counted by the kernel).
StatusOr<uint64_t> ReadResidentBytes(pid_t pid = 0);

// "/proc/self/<leaf>" for pid 0, else "/proc/<pid>/<leaf>".
std::string ProcPath(pid_t pid, const char* leaf);
// The whole of a (/proc) file; IOError naming the path on failure.
StatusOr<std::string> ReadWholeFile(const std::string& path);

}  // namespace daxkv::dax

#endif  // DAXKV_DAX_SMAPS_H_
