// Shared helpers for the Region tests: unique pool paths that are removed
// afterwards, and the PMEM2_FORCE_GRANULARITY switch.
#ifndef DAXKV_TESTS_DAX_REGION_TEST_UTIL_H_
#define DAXKV_TESTS_DAX_REGION_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "dax/region.h"
#include "tests/support/env.h"

namespace daxkv::dax::testing {

using ::daxkv::testing::Env;

// Sets or clears PMEM2_FORCE_GRANULARITY for this scope; libpmem2 reads it
// at mapping time.
class ScopedForceGranularity {
 public:
  explicit ScopedForceGranularity(const char* value) {
    if (const char* old = std::getenv(kName)) old_ = old, had_ = true;
    if (value != nullptr) {
      setenv(kName, value, 1);
    } else {
      unsetenv(kName);
    }
  }
  ~ScopedForceGranularity() {
    if (had_) {
      setenv(kName, old_.c_str(), 1);
    } else {
      unsetenv(kName);
    }
  }

 private:
  static constexpr const char* kName = "PMEM2_FORCE_GRANULARITY";
  std::string old_;
  bool had_ = false;
};

inline OpenOptions CreateOptions(size_t size) {
  OpenOptions o;
  o.create_if_missing = true;
  o.create_size = size;
  return o;
}

inline OpenOptions ReadOnlyOptions() {
  OpenOptions o;
  o.read_only = true;
  return o;
}

// Hands out unique paths under a directory and unlinks them on destruction.
class TempPaths {
 public:
  std::string Make(const std::string& dir) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "." +
                       info->name() + "." + std::to_string(getpid()) + "." +
                       std::to_string(paths_.size());
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    paths_.push_back(dir + "/daxkv-test-" + name);
    unlink(paths_.back().c_str());
    return paths_.back();
  }
  ~TempPaths() {
    for (const std::string& p : paths_) unlink(p.c_str());
  }

 private:
  std::vector<std::string> paths_;
};

}  // namespace daxkv::dax::testing

#endif  // DAXKV_TESTS_DAX_REGION_TEST_UTIL_H_
