#include "tools/inspect/cli.h"

namespace daxkv::inspect {
namespace {

const std::set<std::string> kValueOptions = {
    "offset", "length", "pid", "addr", "touch", "path", "uuid", "segment_size"};
const std::set<std::string> kFlagOptions = {
    "json", "check", "repair", "help", "clear-soft-dirty", "pagemap-read"};

// Which options each subcommand accepts; anything else is a usage error.
const std::map<std::string, std::set<std::string>> kAllowed = {
    {"devices", {"json", "help"}},
    {"fault-path", {"json", "help", "path", "length"}},
    {"pages",
     {"json", "help", "offset", "length", "pid", "addr", "touch",
      "clear-soft-dirty", "pagemap-read"}},
    {"pool", {"json", "help", "check", "repair", "uuid", "segment_size"}},
};

bool CheckAllowed(const Args& args, std::string* error) {
  auto it = kAllowed.find(args.command);
  if (it == kAllowed.end()) {
    *error = "unknown command '" + args.command +
             "' (expected devices, pool, pages or fault-path)";
    return false;
  }
  auto check = [&](const std::string& name) {
    if (it->second.count(name) == 0) {
      *error = "'" + args.command + "' does not take --" + name;
      return false;
    }
    return true;
  };
  for (const std::string& f : args.flags) {
    if (!check(f)) return false;
  }
  for (const auto& [name, value] : args.values) {
    if (!check(name)) return false;
  }
  return true;
}

}  // namespace

std::string Args::Value(const std::string& name,
                        const std::string& fallback) const {
  auto it = values.find(name);
  return it == values.end() ? fallback : it->second;
}

bool ParseArgs(const std::vector<std::string>& argv, Args* args,
               std::string* error) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      if (args->command.empty())
        args->command = a;
      else
        args->positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    std::string value;
    size_t eq = name.find('=');
    bool has_value = eq != std::string::npos;
    if (has_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (kFlagOptions.count(name) > 0 && !has_value) {
      args->flags.insert(name);
    } else if (kValueOptions.count(name) > 0) {
      if (!has_value) {
        if (i + 1 >= argv.size()) {
          *error = "--" + name + " needs a value";
          return false;
        }
        value = argv[++i];
      }
      args->values[name] = value;
    } else {
      *error = "unknown option '" + a + "'";
      return false;
    }
  }
  if (args->command.empty()) {
    if (args->Has("help")) return true;
    *error = "no command given";
    return false;
  }
  return CheckAllowed(*args, error);
}

void PrintUsage(std::ostream& out) {
  out << "usage: daxkv-inspect COMMAND [options]\n"
         "\n"
         "  devices [--json]\n"
         "      NVDIMM buses (e820 / ACPI.NFIT / virtio-pmem), regions,\n"
         "      namespaces, dax devices, fsdax mounts and bad blocks.\n"
         "  pool PATH [--check] [--repair] [--json] [--uuid U]\n"
         "        [--segment_size N]\n"
         "      superblock, geometry, segments, keys; --check verifies every\n"
         "      checksum read-only (exit 0 clean, 1 repairable, 4\n"
         "      unrecoverable, 8 operational error); --repair fixes, and\n"
         "      rebuilds lost superblocks from the segments (--uuid and\n"
         "      --segment_size pick a rebuild when the segments allow "
         "several).\n"
         "  pages PATH [--offset N] [--length N] [--touch read|write]\n"
         "        [--clear-soft-dirty] [--pagemap-read] [--json]\n"
         "  pages --pid PID --addr START-END [--pagemap-read] [--json]\n"
         "      page state as run-length ranges and a picture (PAGEMAP_SCAN,\n"
         "      or /proc/PID/pagemap where missing or with --pagemap-read).\n"
         "  fault-path [--path DEVICE|FSDAX_DIR|FILE] [--json]\n"
         "      legacy (devmap, no refcount) or refcounted (6.15+) DAX\n"
         "      faults, from evidence where a DAX device is present.\n"
         "\n"
         "Read-only unless --touch write or --repair. Sizes: 4096, 0x1000,\n"
         "64M, 1GiB (binary units K/M/G/T, any case, optional B/iB).\n";
}

int RunInspect(const std::vector<std::string>& argv, std::ostream& out,
               std::ostream& err) {
  Args args;
  std::string error;
  if (!ParseArgs(argv, &args, &error)) {
    err << "daxkv-inspect: " << error << "\n";
    PrintUsage(err);
    return kExitUsage;
  }
  if (args.Has("help")) {
    PrintUsage(out);
    return kExitOk;
  }
  if (args.command == "devices") return RunDevices(args, out, err);
  if (args.command == "fault-path") return RunFaultPath(args, out, err);
  if (args.command == "pages") return RunPages(args, out, err);
  return RunPool(args, out, err);
}

}  // namespace daxkv::inspect
