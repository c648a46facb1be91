// daxkv-faultbench: what a page fault costs on each backing and mapping
// granularity, and what the seed paths (uffd MINOR/MOVE, PAGEMAP_SCAN,
// early COW at fork) cost next to their alternatives. Every figure is
// validated against the fault count it claims; see docs/faultbench.md.
#include <benchmark/benchmark.h>
#include <gflags/gflags.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bench/faultbench/case_util.h"
#include "bench/faultbench/context.h"
#include "bench/faultbench/seed_cases.h"
#include "bench/faultbench/touch_cases.h"

DEFINE_string(devdax, "", "device-dax to measure, e.g. /dev/dax0.0");
DEFINE_string(fsdax, "", "directory on an fsdax (-o dax) mount");
DEFINE_string(file_dir, "/tmp",
              "directory on a block-backed filesystem for the page-cache "
              "file cases (tmpfs is refused)");
DEFINE_bool(short, false, "small regions, fewer repetitions (lab/CI)");
DEFINE_uint64(region_mb, 0, "MiB touched per case (default 64, short 8)");
DEFINE_int32(repetitions, 0, "repetitions per case (default 5, short 3)");
DEFINE_string(kernel_functions, "auto",
              "kernel-function evidence of the DAX cases from kprobe events "
              "(root, tracefs): auto = when available, on = a DAX case "
              "without it fails, off");

namespace {

// The flags defined in this file, then Google Benchmark's own help:
// benchmark::Initialize answers --help itself and exits, so ours come
// first.
void PrintHelp(const char* argv0) {
  std::printf(
      "daxkv-faultbench: what a page fault costs, validated; see "
      "docs/faultbench.md.\n\nUsage: %s [--devdax=/dev/daxX.Y] "
      "[--fsdax=DIR] [--short] [--json=PATH] [flags]\n\n"
      "daxkv-faultbench flags:\n",
      argv0);
  std::vector<gflags::CommandLineFlagInfo> flags;
  gflags::GetAllFlags(&flags);
  for (const gflags::CommandLineFlagInfo& f : flags) {
    if (f.filename.find("faultbench_main") == std::string::npos) continue;
    std::printf("  --%s=%s (default: %s)\n      %s\n", f.name.c_str(),
                f.type.c_str(),
                f.default_value.empty() ? "\"\"" : f.default_value.c_str(),
                f.description.c_str());
  }
  std::printf(
      "  --json=PATH\n      shorthand for --benchmark_out=PATH "
      "--benchmark_out_format=json\n\nGoogle Benchmark flags:\n");
  std::fflush(stdout);
}

bool WantsHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h" || a == "--helpfull") return true;
  }
  return false;
}

}  // namespace

// --json=PATH is shorthand for --benchmark_out=PATH
// --benchmark_out_format=json; it must be seen before benchmark parses argv.
std::vector<char*> ExpandJsonFlag(int argc, char** argv,
                                  std::vector<std::string>& storage) {
  std::vector<char*> out;
  storage.reserve(2 * static_cast<size_t>(argc));
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--json=", 0) == 0) {
      storage.push_back("--benchmark_out=" + a.substr(7));
      out.push_back(storage.back().data());
      storage.push_back("--benchmark_out_format=json");
      out.push_back(storage.back().data());
    } else {
      out.push_back(argv[i]);
    }
  }
  out.push_back(nullptr);
  return out;
}

int main(int argc_in, char** argv_in) {
  std::vector<std::string> storage;
  std::vector<char*> args = ExpandJsonFlag(argc_in, argv_in, storage);
  int argc = static_cast<int>(args.size()) - 1;
  char** argv = args.data();
  if (WantsHelp(argc, argv)) PrintHelp(argv[0]);
  benchmark::Initialize(&argc, argv);
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  using daxkv::faultbench::kMiB;
  daxkv::faultbench::Settings s;
  s.devdax = FLAGS_devdax;
  s.fsdax = FLAGS_fsdax;
  s.file_dir = FLAGS_file_dir;
  s.short_mode = FLAGS_short;
  s.region_bytes =
      (FLAGS_region_mb ? FLAGS_region_mb : (FLAGS_short ? 8 : 64)) * kMiB;
  s.repetitions = FLAGS_repetitions ? FLAGS_repetitions : (FLAGS_short ? 3 : 5);
  s.iterations = FLAGS_short ? 1 : 3;
  if (!daxkv::faultbench::ParseEvidenceMode(FLAGS_kernel_functions,
                                            &s.kernel_functions)) {
    std::fprintf(stderr,
                 "daxkv-faultbench: --kernel_functions takes auto, on or off, "
                 "not '%s'\n",
                 FLAGS_kernel_functions.c_str());
    return 2;
  }
  daxkv::faultbench::SetSettings(s);
  daxkv::faultbench::AddRunContext();
  daxkv::faultbench::RegisterTouchCases();
  daxkv::faultbench::RegisterSeedCases();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  int failures = daxkv::faultbench::ValidationFailures();
  if (failures > 0) {
    std::fprintf(stderr,
                 "daxkv-faultbench: %d case run(s) FAILED validation; their "
                 "figures were not reported\n",
                 failures);
    return 1;
  }
  return 0;
}
