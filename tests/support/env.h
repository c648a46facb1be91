// Environment variables a test reads: the lab and CI point tests at real
// hardware with them (DAXKV_TEST_DEVDAX, DAXKV_TEST_FSDAX_DIR, ...).
#ifndef DAXKV_TESTS_SUPPORT_ENV_H_
#define DAXKV_TESTS_SUPPORT_ENV_H_

#include <cstdlib>

namespace daxkv::testing {

// The value of `name`, or null when it is unset or empty.
inline const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

}  // namespace daxkv::testing

#endif  // DAXKV_TESTS_SUPPORT_ENV_H_
