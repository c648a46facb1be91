// Helpers shared by the daxkv-inspect tests in tools_test.
#ifndef DAXKV_TESTS_TOOLS_INSPECT_TEST_UTIL_H_
#define DAXKV_TESTS_TOOLS_INSPECT_TEST_UTIL_H_

#include <sstream>
#include <string>
#include <vector>

#include "tools/inspect/cli.h"

namespace daxkv::inspect {

// Runs one daxkv-inspect invocation in-process; returns its exit code.
inline int RunTool(const std::vector<std::string>& argv, std::string* out,
                   std::string* err) {
  std::ostringstream o;
  std::ostringstream e;
  int rc = RunInspect(argv, o, e);
  *out = o.str();
  *err = e.str();
  return rc;
}

}  // namespace daxkv::inspect

#endif  // DAXKV_TESTS_TOOLS_INSPECT_TEST_UTIL_H_
