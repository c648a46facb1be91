// daxkv-inspect's command line: parsing, dispatch and the exit codes every
// subcommand shares. Each Run* function writes its answer to `out`
// (human text, or one JSON document with --json) and diagnostics to `err`,
// and returns the process exit code; none of them exits or throws.
#ifndef DAXKV_TOOLS_INSPECT_CLI_H_
#define DAXKV_TOOLS_INSPECT_CLI_H_

#include <cstdint>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "base/byte_size.h"  // ParseByteSize, for the size options

namespace daxkv::inspect {

// Exit codes follow fsck(8) so scripts can treat `pool --check` like fsck.
inline constexpr int kExitOk = 0;
inline constexpr int kExitErrorsRepairable = 1;  // pool --check only
inline constexpr int kExitUnrecoverable = 4;     // pool --check only
inline constexpr int kExitOperational = 8;       // could not do the job
inline constexpr int kExitUsage = 16;            // bad command line

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;  // --offset=N, --pid N, ...
  std::set<std::string> flags;                // --json, --check, ...

  bool Has(const std::string& flag) const { return flags.count(flag) > 0; }
  // The value of --name, or `fallback` when absent.
  std::string Value(const std::string& name,
                    const std::string& fallback = "") const;
};

// Parses argv[1..] (the program name excluded). On error returns false and
// sets `error` to a one-line message naming the offending argument.
bool ParseArgs(const std::vector<std::string>& argv, Args* args,
               std::string* error);

// Runs one whole invocation: argv excludes the program name.
int RunInspect(const std::vector<std::string>& argv, std::ostream& out,
               std::ostream& err);

int RunDevices(const Args& args, std::ostream& out, std::ostream& err);
int RunFaultPath(const Args& args, std::ostream& out, std::ostream& err);
int RunPages(const Args& args, std::ostream& out, std::ostream& err);
int RunPool(const Args& args, std::ostream& out, std::ostream& err);

void PrintUsage(std::ostream& out);

}  // namespace daxkv::inspect

#endif  // DAXKV_TOOLS_INSPECT_CLI_H_
