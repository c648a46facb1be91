#include "probe/kernel_functions.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "dax/scoped_fd.h"

namespace daxkv::probe {
namespace {

constexpr size_t kMaxEventName = 63;

std::string Errno(int err) { return std::strerror(err); }

bool IsDir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// Writes `text` to a tracefs control file; the kernel's errno on failure.
Status WriteControl(const std::string& path, const std::string& text,
                    bool append) {
  dax::ScopedFd fd(
      open(path.c_str(), O_WRONLY | O_CLOEXEC | (append ? O_APPEND : O_TRUNC)));
  if (fd.get() < 0) return IOError("open " + path + ": " + Errno(errno));
  ssize_t n = write(fd.get(), text.data(), text.size());
  if (n != static_cast<ssize_t>(text.size())) {
    return IOError("write '" + text + "' to " + path + ": " +
                   (n < 0 ? Errno(errno) : "short write"));
  }
  return OkStatus();
}

// A compiler-made variant whose entry is the function's own entry:
// interprocedural clones (.isra.N, .constprop.N). Not .cold / .part.N
// (pieces split out of the body) nor .localalias.
bool IsEntryVariant(const std::string& suffix) {
  return suffix.find("cold") == std::string::npos &&
         suffix.find("part") == std::string::npos &&
         suffix.find("localalias") == std::string::npos;
}

std::string EventName(const std::string& name, int serial) {
  std::string e = "dx" + std::to_string(getpid()) + "_" +
                  std::to_string(serial) + "_" + name;
  for (char& c : e) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return e.substr(0, kMaxEventName);
}

std::atomic<int> g_serial{0};

}  // namespace

KernelSymbols KernelSymbols::Parse(const std::string& text) {
  KernelSymbols s;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string addr, type, symbol, module;
    if (!(fields >> addr >> type >> symbol)) continue;
    if (type != "t" && type != "T") continue;
    fields >> module;  // "[ext4]" or nothing
    if (module.size() >= 2 && module.front() == '[' && module.back() == ']') {
      module = module.substr(1, module.size() - 2);
    } else {
      module.clear();
    }
    size_t dot = symbol.find('.');
    std::string base = symbol.substr(0, dot);
    if (dot != std::string::npos && !IsEntryVariant(symbol.substr(dot))) {
      continue;
    }
    s.symbols_.emplace(base, KernelSymbol{base, symbol, module});
  }
  return s;
}

StatusOr<KernelSymbols> KernelSymbols::Load() {
  std::ifstream in("/proc/kallsyms");
  if (!in) return IOError("cannot read /proc/kallsyms: " + Errno(errno));
  std::stringstream text;
  text << in.rdbuf();
  KernelSymbols s = Parse(text.str());
  if (s.symbols_.empty()) {
    return NotFoundError("/proc/kallsyms lists no text symbols");
  }
  return s;
}

std::optional<KernelSymbol> KernelSymbols::Find(const std::string& name) const {
  auto [lo, hi] = symbols_.equal_range(name);
  std::optional<KernelSymbol> exact;
  std::optional<KernelSymbol> variant;
  int exact_count = 0;
  int variant_count = 0;
  for (auto it = lo; it != hi; ++it) {
    if (it->second.symbol == name) {
      ++exact_count;
      exact = it->second;
    } else {
      ++variant_count;
      variant = it->second;
    }
  }
  if (exact_count == 1) return exact;
  if (exact_count == 0 && variant_count == 1) return variant;
  return std::nullopt;  // absent, or ambiguous for a kprobe by name
}

std::string KernelSymbols::FirstOf(
    const std::vector<std::string>& names) const {
  for (const std::string& n : names) {
    if (Has(n)) return n;
  }
  return "";
}

std::string TracefsDir() {
  for (const char* dir : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
    if (Exists(std::string(dir) + "/kprobe_events") ||
        Exists(std::string(dir) + "/trace")) {
      return dir;
    }
  }
  return "";
}

KprobeCounters::KprobeCounters(std::string tracefs, std::string group)
    : tracefs_(std::move(tracefs)), group_(std::move(group)) {
  instance_ = tracefs_ + "/instances/" + group_;
}

StatusOr<std::unique_ptr<KprobeCounters>> KprobeCounters::Create(
    const KernelSymbols& symbols, const std::vector<std::string>& names) {
  if (geteuid() != 0) {
    return FailedPreconditionError("kprobe events need root");
  }
  std::string tracefs = TracefsDir();
  if (tracefs.empty()) {
    return NotSupportedError(
        "tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)");
  }
  if (!Exists(tracefs + "/kprobe_events")) {
    return NotSupportedError(tracefs +
                             " has no kprobe_events: kernel built without "
                             "CONFIG_KPROBE_EVENTS");
  }
  const int serial = g_serial.fetch_add(1);
  std::unique_ptr<KprobeCounters> k(new KprobeCounters(
      tracefs,
      "daxkv_" + std::to_string(getpid()) + "_" + std::to_string(serial)));
  for (const std::string& name : names) {
    std::optional<KernelSymbol> sym = symbols.Find(name);
    if (!sym) {
      k->missing_[name] = "not a (unique) text symbol in /proc/kallsyms";
      continue;
    }
    std::string event = EventName(name, serial);
    Status s = k->WriteEvents("p:" + k->group_ + "/" + event + " " +
                              sym->ProbeTarget() + "\n");
    if (!s.ok()) {
      k->missing_[name] = "kprobe refused: " + s.ToString();
      continue;
    }
    k->probed_.push_back(name);
    k->event_of_[name] = event;
  }
  if (k->probed_.empty()) {
    return NotFoundError("no kprobe could be placed on any of " +
                         std::to_string(names.size()) + " functions");
  }
  if (mkdir(k->instance_.c_str(), 0700) != 0 && errno != EEXIST) {
    return IOError("mkdir " + k->instance_ + ": " + Errno(errno));
  }
  // Tracing off in our own instance: the probes count hits
  // (kprobe_profile) but record nothing.
  DAXKV_RETURN_IF_ERROR(WriteControl(k->instance_ + "/tracing_on", "0", false));
  return k;
}

KprobeCounters::~KprobeCounters() { RemoveAll(); }

Status KprobeCounters::WriteEvents(const std::string& line) const {
  return WriteControl(tracefs_ + "/kprobe_events", line, true);
}

Status KprobeCounters::Enable() {
  DAXKV_RETURN_IF_ERROR(
      WriteControl(instance_ + "/events/" + group_ + "/enable", "1", false));
  enabled_ = true;
  return OkStatus();
}

Status KprobeCounters::Disable() {
  if (!enabled_) return OkStatus();
  DAXKV_RETURN_IF_ERROR(
      WriteControl(instance_ + "/events/" + group_ + "/enable", "0", false));
  enabled_ = false;
  return OkStatus();
}

void KprobeCounters::RemoveAll() {
  (void)Disable();
  if (IsDir(instance_)) rmdir(instance_.c_str());
  for (const auto& [name, event] : event_of_) {
    (void)WriteEvents("-:" + group_ + "/" + event + "\n");
  }
}

StatusOr<std::map<std::string, uint64_t>> KprobeCounters::Read() const {
  std::ifstream in(tracefs_ + "/kprobe_profile");
  if (!in) {
    return IOError("cannot read " + tracefs_ +
                   "/kprobe_profile: " + Errno(errno));
  }
  std::map<std::string, uint64_t> by_event;
  std::string event;
  uint64_t hits = 0;
  uint64_t missed = 0;
  while (in >> event >> hits >> missed) by_event[event] = hits;
  std::map<std::string, uint64_t> out;
  for (const auto& [name, ev] : event_of_) {
    auto it = by_event.find(ev);
    if (it == by_event.end()) {
      return InternalError("kprobe_profile has no line for " + ev);
    }
    out[name] = it->second;
  }
  return out;
}

std::map<std::string, uint64_t> HitsBetween(
    const std::map<std::string, uint64_t>& before,
    const std::map<std::string, uint64_t>& after) {
  std::map<std::string, uint64_t> out;
  for (const auto& [name, n] : after) {
    auto it = before.find(name);
    uint64_t b = it == before.end() ? 0 : it->second;
    out[name] = n >= b ? n - b : 0;
  }
  return out;
}

}  // namespace daxkv::probe
