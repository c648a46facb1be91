// userfaultfd cases: MISSING + UFFDIO_COPY / UFFDIO_ZEROPAGE on anonymous
// memory, MINOR + UFFDIO_CONTINUE on shmem (seed 000), each fault a round
// trip to a handler thread; and UFFDIO_MOVE vs UFFDIO_COPY (seed 002).
#include <cstring>
#include <string>
#include <vector>

#include "bench/faultbench/case_util.h"
#include "bench/faultbench/fault_check.h"
#include "bench/faultbench/seed_cases.h"
#include "probe/linux_compat.h"
#include "probe/mapping.h"
#include "probe/page_state.h"
#include "probe/uffd.h"

namespace daxkv::faultbench {
namespace {

using probe::MappingBacking;
using probe::UffdFault;
using probe::Userfaultfd;

enum class Resolve { kCopy, kZeroPage, kContinue };

StatusOr<std::unique_ptr<probe::Mapping>> MapFor(MappingBacking b,
                                                 size_t size) {
  probe::MappingOptions o;
  o.backing = b;
  o.size = size;
  o.thp = probe::ThpAdvice::kNoHugePage;
  return probe::Mapping::Create(o);
}

// Uffd region size: round trips are ~5x a plain fault (and far more under
// emulation, where --short runs), so a quarter, an eighth in short mode.
size_t UffdBytes() {
  size_t div = settings().short_mode ? 8 : 4;
  return std::max(settings().region_bytes / div, kMiB);
}

probe::UffdHandler::Resolver MakeResolver(Resolve how, const char* src_page) {
  return [how, src_page](Userfaultfd& u, const UffdFault& f) -> Status {
    void* page = reinterpret_cast<void*>(f.address & ~uint64_t{k4K - 1});
    Status s = how == Resolve::kCopy       ? u.Copy(page, src_page, k4K)
               : how == Resolve::kZeroPage ? u.ZeroPage(page, k4K)
                                           : u.Continue(page, k4K);
    // EEXIST: another path mapped the page first; the faulter will retry.
    return s.code() == StatusCode::kAlreadyExists ? OkStatus() : s;
  };
}

void RunUffdFault(benchmark::State& state, const std::string& name,
                  Resolve how) {
  const bool minor = how == Resolve::kContinue;
  const size_t size = UffdBytes();
  uint64_t features = minor ? UFFD_FEATURE_MINOR_SHMEM : 0;
  StatusOr<std::unique_ptr<Userfaultfd>> uffd = Userfaultfd::Open(features);
  if (!uffd.ok()) return SkipCase(state, uffd.status().ToString());
  auto m = MapFor(minor ? MappingBacking::kMemfd : MappingBacking::kAnon, size);
  if (!m.ok()) return SkipCase(state, m.status().ToString());
  Status reg = (*uffd)->Register(
      (*m)->data(), size, minor ? probe::kUffdMinor : probe::kUffdMissing);
  if (!reg.ok()) return SkipCase(state, reg.ToString());
  std::vector<char> src(k4K, 0x5a);
  auto handler =
      probe::UffdHandler::Start(uffd->get(), MakeResolver(how, src.data()));
  if (!handler.ok()) return SkipCase(state, handler.status().ToString());
  const std::string model =
      minor ? "1 MINOR fault per 4 KiB page (fault-around off under uffd)"
            : "1 MISSING fault per 4 KiB page";
  // The handler's round-trip count is exact and the primary evidence. The
  // thread's own counter sees each uffd fault as a retried (major) fault,
  // and now and then misses one (a retry that completes under the per-VMA
  // lock is not accounted), so it gets slack below as well as above.
  const std::vector<FaultExpectation> expected = {OnePer(size, k4K, model)};
  FaultExpectation thread_faults = OnePer(size, k4K, model);
  thread_faults.min -=
      std::min(thread_faults.min, thread_faults.max - thread_faults.min);
  CaseStats stats(size / k4K);
  for (auto _ : state) {
    Status s = (*m)->Discard();
    if (!s.ok()) {
      SkipCase(state, s.ToString());
      break;
    }
    uint64_t handled0 = (*handler)->faults_handled();
    std::vector<uint64_t>& samples = stats.samples();
    FaultWindow w;
    uint64_t sink = 0;
    for (size_t off = 0; off < size; off += k4K) {
      uint64_t t0 = NowNs();
      sink += *static_cast<volatile char*>((*m)->data() + off);
      if (samples.size() < samples.capacity()) samples.push_back(NowNs() - t0);
    }
    uint64_t ns = w.ElapsedNs(), faults = w.Faults();
    benchmark::DoNotOptimize(sink);
    uint64_t handled = (*handler)->faults_handled() - handled0;
    Status check = CheckFaults(name, faults, {thread_faults});
    if (check.ok()) {
      check = CheckFaults(name + " (handler round trips)", handled, expected);
    }
    if (check.ok() && how == Resolve::kCopy && (*m)->data()[k4K] != 0x5a) {
      check = InternalError("UFFDIO_COPY page does not hold the source bytes");
    }
    if (!check.ok()) {
      FailCase(state, check);
      break;
    }
    state.SetIterationTime(static_cast<double>(ns) * 1e-9);
    // No CPU figure: the round trip's work is on the handler thread.
    stats.Add(ns, faults, size, handled);
    state.SetLabel("model: " + model);
  }
  stats.Publish(state);
}

// Fills every page of `m` so it is present and exclusively ours.
void WriteAll(probe::Mapping& m, char value) {
  for (size_t off = 0; off < m.size(); off += k4K) m.data()[off] = value;
}

// Moves (or copies) `size` bytes from src to dst, per page or in one call.
Status Transfer(Userfaultfd& u, char* dst, char* src, size_t size, bool move,
                bool bulk) {
  const size_t step = bulk ? size : k4K;
  for (size_t off = 0; off < size; off += step) {
    if (move) {
      DAXKV_ASSIGN_OR_RETURN(size_t moved, u.Move(dst + off, src + off, step));
      if (moved != step) {
        return InternalError("UFFDIO_MOVE moved " + std::to_string(moved) +
                             " of " + std::to_string(step) + " bytes");
      }
    } else {
      DAXKV_RETURN_IF_ERROR(u.Copy(dst + off, src + off, step));
    }
  }
  return OkStatus();
}

// After a transfer every dst page must be present with the source bytes,
// and after a move no src page may remain.
Status VerifyTransfer(const probe::Mapping& dst, const probe::Mapping& src,
                      bool move) {
  probe::PageScanOptions present;
  present.category_mask = probe::kPageIsPresent;
  DAXKV_ASSIGN_OR_RETURN(probe::PageScanResult d,
                         probe::ScanPages(dst.begin(), dst.end(), present));
  uint64_t pages = dst.size() / k4K;
  if (d.CountPages(probe::kPageIsPresent) != pages || dst.data()[0] != 7) {
    return FailedPreconditionError("destination not fully populated");
  }
  if (!move) return OkStatus();
  DAXKV_ASSIGN_OR_RETURN(probe::PageScanResult s,
                         probe::ScanPages(src.begin(), src.end(), present));
  if (s.CountPages(probe::kPageIsPresent) != 0) {
    return FailedPreconditionError("UFFDIO_MOVE left pages at the source");
  }
  return OkStatus();
}

void RunMoveCopy(benchmark::State& state, const std::string& name, bool move,
                 bool bulk) {
  const size_t size = settings().region_bytes;
  auto uffd = Userfaultfd::Open(move ? UFFD_FEATURE_MOVE : 0);
  if (!uffd.ok()) return SkipCase(state, uffd.status().ToString());
  auto src = MapFor(MappingBacking::kAnon, size);
  auto dst = MapFor(MappingBacking::kAnon, size);
  if (!src.ok() || !dst.ok()) {
    return SkipCase(state, (src.ok() ? dst : src).status().ToString());
  }
  Status reg = (*uffd)->Register((*dst)->data(), size, probe::kUffdMissing);
  if (!reg.ok()) return SkipCase(state, reg.ToString());
  CaseStats stats(0);
  for (auto _ : state) {
    Status s = (*dst)->Discard();
    if (s.ok()) WriteAll(**src, 7);
    if (!s.ok()) {
      SkipCase(state, s.ToString());
      break;
    }
    FaultWindow w;
    s = Transfer(**uffd, (*dst)->data(), (*src)->data(), size, move, bulk);
    uint64_t ns = w.ElapsedNs(), faults = w.Faults(), cpu_ns = w.CpuNs();
    if (s.ok()) s = CheckFaults(name, faults, {NoFaults("ioctl only")});
    if (s.ok()) s = VerifyTransfer(**dst, **src, move);
    if (!s.ok()) {
      FailCase(state, s);
      break;
    }
    state.SetIterationTime(static_cast<double>(ns) * 1e-9);
    stats.Add(ns, faults, size, bulk ? 1 : size / k4K, cpu_ns);
  }
  stats.Publish(state);
}

}  // namespace

void RegisterUffdCases() {
  RegisterCase("uffd/anon/4k/missing_copy",
               [](benchmark::State& s, const std::string& n) {
                 RunUffdFault(s, n, Resolve::kCopy);
               });
  RegisterCase("uffd/anon/4k/missing_zeropage",
               [](benchmark::State& s, const std::string& n) {
                 RunUffdFault(s, n, Resolve::kZeroPage);
               });
  RegisterCase("uffd/memfd/4k/minor_continue",
               [](benchmark::State& s, const std::string& n) {
                 RunUffdFault(s, n, Resolve::kContinue);
               });
  for (bool bulk : {false, true}) {
    std::string suffix = bulk ? "/bulk" : "/per_page";
    RegisterCase("uffd/anon/4k/move" + suffix,
                 [bulk](benchmark::State& s, const std::string& n) {
                   RunMoveCopy(s, n, true, bulk);
                 });
    RegisterCase("uffd/anon/4k/copy" + suffix,
                 [bulk](benchmark::State& s, const std::string& n) {
                   RunMoveCopy(s, n, false, bulk);
                 });
  }
}

}  // namespace daxkv::faultbench
