// Which kernel functions ran: the running kernel's own symbols
// (/proc/kallsyms) and call counts from kprobe events (tracefs
// kprobe_profile).
//
// KernelSymbols answers "does this kernel have function F, under which
// exact symbol" (static functions often carry a compiler suffix such as
// insert_pmd.isra.0; module functions name their module). KprobeCounters
// puts one kprobe event on each of a list of functions and reads how often
// each was entered: the probes live in a tracefs instance of their own with
// tracing off, so they count hits (kprobe_profile) without writing trace
// records or touching the top-level trace buffer.
//
// Needs root and tracefs (/sys/kernel/tracing) with CONFIG_KPROBE_EVENTS;
// Create() says which is missing. The counts are global: every process's
// calls count, so callers read them around work they know is alone (the
// lab guest) or treat them as an upper bound.
//
// Thread-safety: KernelSymbols is immutable after Load/Parse. A
// KprobeCounters object is thread-compatible; distinct objects (in one or
// several processes) use distinct event names and instances.
// Lifetime: ~KprobeCounters disables and removes its events and instance.
#ifndef DAXKV_PROBE_KERNEL_FUNCTIONS_H_
#define DAXKV_PROBE_KERNEL_FUNCTIONS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/statusor.h"

namespace daxkv::probe {

// One text symbol: `name` as callers ask for it, `symbol` as the kernel
// spells it (name or name.isra.0, ...), `module` empty for vmlinux.
struct KernelSymbol {
  std::string name;
  std::string symbol;
  std::string module;
  // The kprobe target: "symbol" or "module:symbol".
  std::string ProbeTarget() const {
    return module.empty() ? symbol : module + ":" + symbol;
  }
};

class KernelSymbols {
 public:
  // Reads /proc/kallsyms (names are readable without root; slow under
  // emulation, so callers keep the result).
  static StatusOr<KernelSymbols> Load();
  // Parses kallsyms-format text ("addr type name [module]"). For tests.
  static KernelSymbols Parse(const std::string& text);

  // The text symbol for `name`: an exact match first, else the one
  // compiler-suffixed variant (name.isra.0, name.constprop.0, ...; never
  // name.cold, a split-off cold path). nullopt when absent or when several
  // suffixed variants make the name ambiguous.
  std::optional<KernelSymbol> Find(const std::string& name) const;
  bool Has(const std::string& name) const { return Find(name).has_value(); }
  // The first of `names` this kernel has ("" when none).
  std::string FirstOf(const std::vector<std::string>& names) const;
  size_t size() const { return symbols_.size(); }

 private:
  // Text symbols by their base name (the part before the first '.').
  std::multimap<std::string, KernelSymbol> symbols_;
};

// Where tracefs is mounted ("" when it is not).
std::string TracefsDir();

class KprobeCounters {
 public:
  // Creates one kprobe event per function in `names` that `symbols` has
  // and the kernel accepts (names it lacks are in missing(), with why).
  // The events start disabled. Errors: not root, no tracefs, no
  // kprobe_events (CONFIG_KPROBE_EVENTS off): each with the reason.
  static StatusOr<std::unique_ptr<KprobeCounters>> Create(
      const KernelSymbols& symbols, const std::vector<std::string>& names);
  ~KprobeCounters();
  KprobeCounters(const KprobeCounters&) = delete;
  KprobeCounters& operator=(const KprobeCounters&) = delete;

  // Arms / disarms every event (disarmed probes cost nothing).
  Status Enable();
  Status Disable();
  // Hits per probed name since creation (kprobe_profile).
  StatusOr<std::map<std::string, uint64_t>> Read() const;

  // Names with a live probe, and names without one -> the reason.
  const std::vector<std::string>& probed() const { return probed_; }
  const std::map<std::string, std::string>& missing() const { return missing_; }

 private:
  KprobeCounters(std::string tracefs, std::string group);
  Status WriteEvents(const std::string& line) const;
  void RemoveAll();

  std::string tracefs_;
  std::string group_;     // kprobe event group, unique per object
  std::string instance_;  // tracefs instance directory holding the enables
  std::vector<std::string> probed_;
  std::map<std::string, std::string> event_of_;  // name -> event name
  std::map<std::string, std::string> missing_;
  bool enabled_ = false;
};

// The hits of `after` minus `before`, per name (names absent from `before`
// count from zero).
std::map<std::string, uint64_t> HitsBetween(
    const std::map<std::string, uint64_t>& before,
    const std::map<std::string, uint64_t>& after);

}  // namespace daxkv::probe

#endif  // DAXKV_PROBE_KERNEL_FUNCTIONS_H_
