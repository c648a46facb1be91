#include "probe/dirty_tracking.h"

#include <signal.h>
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include "probe/linux_compat.h"
#include "probe/page_state.h"
#include "probe/uffd.h"

namespace daxkv::probe {
namespace {

constexpr size_t kPageSize = 4096;

class WpAsyncTracker : public DirtyTracker {
 public:
  WpAsyncTracker(std::unique_ptr<Userfaultfd> uffd, uint64_t start,
                 uint64_t end)
      : uffd_(std::move(uffd)), start_(start), end_(end) {}
  DirtyTrackingMethod method() const override {
    return DirtyTrackingMethod::kWpAsync;
  }
  Status Reset() override {
    PageScanOptions o;
    o.write_protect = true;  // zero masks: every page is protected
    o.return_mask = 0;
    return ScanPages(start_, end_, o).status();
  }
  StatusOr<uint64_t> Collect() override {
    PageScanOptions o;
    o.write_protect = true;
    o.category_mask = kPageIsWritten;
    o.return_mask = kPageIsWritten;
    DAXKV_ASSIGN_OR_RETURN(PageScanResult r, ScanPages(start_, end_, o));
    return r.CountPages(kPageIsWritten);
  }

 private:
  std::unique_ptr<Userfaultfd> uffd_;
  uint64_t start_, end_;
};

class SoftDirtyTracker : public DirtyTracker {
 public:
  SoftDirtyTracker(uint64_t start, uint64_t end) : start_(start), end_(end) {}
  DirtyTrackingMethod method() const override {
    return DirtyTrackingMethod::kSoftDirty;
  }
  Status Reset() override { return ClearSoftDirty(); }
  StatusOr<uint64_t> Collect() override {
    DAXKV_ASSIGN_OR_RETURN(std::vector<PagemapEntry> entries,
                           ReadPagemap(start_, end_));
    uint64_t n = 0;
    for (const PagemapEntry& e : entries) n += e.soft_dirty;
    DAXKV_RETURN_IF_ERROR(ClearSoftDirty());
    return n;
  }

 private:
  uint64_t start_, end_;
};

// The one live mprotect tracker; the SIGSEGV handler reads it.
std::atomic<class MprotectTracker*> g_mprotect_tracker{nullptr};

class MprotectTracker : public DirtyTracker {
 public:
  MprotectTracker(char* addr, size_t len)
      : addr_(addr), len_(len), written_(len / kPageSize) {}
  ~MprotectTracker() override {
    mprotect(addr_, len_, PROT_READ | PROT_WRITE);
    sigaction(SIGSEGV, &old_, nullptr);
    g_mprotect_tracker.store(nullptr);
  }
  Status Install() {
    MprotectTracker* expected = nullptr;
    if (!g_mprotect_tracker.compare_exchange_strong(expected, this)) {
      return FailedPreconditionError("another mprotect tracker is live");
    }
    struct sigaction sa {};
    sa.sa_sigaction = &MprotectTracker::OnSegv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &old_) != 0) {
      g_mprotect_tracker.store(nullptr);
      return IOError(std::string("sigaction SIGSEGV: ") + std::strerror(errno));
    }
    return OkStatus();
  }
  DirtyTrackingMethod method() const override {
    return DirtyTrackingMethod::kMprotect;
  }
  Status Reset() override {
    for (auto& w : written_) w.store(0, std::memory_order_relaxed);
    if (mprotect(addr_, len_, PROT_READ) != 0) {
      return IOError(std::string("mprotect PROT_READ: ") +
                     std::strerror(errno));
    }
    return OkStatus();
  }
  StatusOr<uint64_t> Collect() override {
    uint64_t n = 0;
    for (auto& w : written_) n += w.load(std::memory_order_relaxed);
    DAXKV_RETURN_IF_ERROR(Reset());
    return n;
  }

 private:
  static void OnSegv(int sig, siginfo_t* info, void* ctx) {
    MprotectTracker* t = g_mprotect_tracker.load();
    char* a = static_cast<char*>(info->si_addr);
    if (t == nullptr || a < t->addr_ || a >= t->addr_ + t->len_) {
      // Not ours: restore the default action and let it fire again.
      signal(SIGSEGV, SIG_DFL);
      return;
    }
    size_t page = static_cast<size_t>(a - t->addr_) / kPageSize;
    t->written_[page].store(1, std::memory_order_relaxed);
    mprotect(t->addr_ + page * kPageSize, kPageSize, PROT_READ | PROT_WRITE);
  }

  char* addr_;
  size_t len_;
  std::vector<std::atomic<uint8_t>> written_;
  struct sigaction old_ {};
};

// Soft-dirty needs CONFIG_MEM_SOFT_DIRTY: without it bit 55 is never set,
// not even on a page just written. REQUIRES: the page at `start` was written.
Status ProbeSoftDirty(uint64_t start) {
  DAXKV_ASSIGN_OR_RETURN(std::vector<PagemapEntry> e,
                         ReadPagemap(start, start + kPageSize));
  if (!e[0].soft_dirty) {
    return NotSupportedError(
        "soft-dirty: a freshly written page has no soft-dirty bit (kernel "
        "without CONFIG_MEM_SOFT_DIRTY)");
  }
  return OkStatus();
}

}  // namespace

const char* DirtyTrackingMethodName(DirtyTrackingMethod m) {
  switch (m) {
    case DirtyTrackingMethod::kWpAsync:
      return "pagemap_scan_wp_async";
    case DirtyTrackingMethod::kSoftDirty:
      return "soft_dirty";
    case DirtyTrackingMethod::kMprotect:
      return "mprotect_sigsegv";
  }
  return "unknown";
}

StatusOr<std::unique_ptr<DirtyTracker>> DirtyTracker::Create(
    DirtyTrackingMethod method, void* addr, size_t len) {
  uint64_t start = reinterpret_cast<uint64_t>(addr);
  if (len == 0 || start % kPageSize || len % kPageSize) {
    return InvalidArgumentError("DirtyTracker: range not page-aligned");
  }
  std::unique_ptr<DirtyTracker> t;
  if (method == DirtyTrackingMethod::kWpAsync) {
    DAXKV_ASSIGN_OR_RETURN(
        std::unique_ptr<Userfaultfd> uffd,
        Userfaultfd::Open(UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED));
    DAXKV_RETURN_IF_ERROR(uffd->Register(addr, len, kUffdWriteProtect));
    if (!PagemapScanAvailable()) {
      return NotSupportedError("WP_ASYNC tracking needs PAGEMAP_SCAN");
    }
    t = std::make_unique<WpAsyncTracker>(std::move(uffd), start, start + len);
  } else if (method == DirtyTrackingMethod::kSoftDirty) {
    static_cast<volatile char*>(addr)[0] = static_cast<char*>(addr)[0];
    DAXKV_RETURN_IF_ERROR(ProbeSoftDirty(start));
    t = std::make_unique<SoftDirtyTracker>(start, start + len);
  } else {
    auto m = std::make_unique<MprotectTracker>(static_cast<char*>(addr), len);
    DAXKV_RETURN_IF_ERROR(m->Install());
    t = std::move(m);
  }
  DAXKV_RETURN_IF_ERROR(t->Reset());
  return t;
}

}  // namespace daxkv::probe
