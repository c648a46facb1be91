// daxkv-inspect: devices, pools, page state and the DAX fault path.
#include <iostream>
#include <string>
#include <vector>

#include "tools/inspect/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return daxkv::inspect::RunInspect(args, std::cout, std::cerr);
}
