// RedactedArgs (kv/command.h): what the slow log and MONITOR show of a
// command's arguments.
#include <span>
#include <string_view>
#include <vector>

#include "kv/command.h"

namespace daxkv::kv {
namespace {

constexpr std::string_view kRedacted = "(redacted)";

// The config values CONFIG SET hides (Redis's sensitive configs).
bool IsSecretConfig(std::string_view name) {
  return EqualsIgnoreCase(name, "requirepass") ||
         EqualsIgnoreCase(name, "masterauth");
}

// Redacts args[i + 1 .. i + n] (those that exist).
void RedactAfter(std::vector<std::string_view>& args, size_t i, size_t n) {
  for (size_t k = i + 1; k <= i + n && k < args.size(); ++k) {
    args[k] = kRedacted;
  }
}

}  // namespace

// Passwords are redacted wherever Redis redacts them, and also where Redis
// keeps one by mistake (HELLO with a bad protocol version fails before
// Redis redacts its AUTH).
std::vector<std::string_view> RedactedArgs(
    const CommandSpec& spec, std::span<const std::string_view> argv) {
  std::vector<std::string_view> args(argv.begin(), argv.end());
  if (spec.name == "auth") {
    RedactAfter(args, 0, args.size());
  } else if (spec.name == "hello") {
    for (size_t i = 2; i < args.size(); ++i) {
      if (EqualsIgnoreCase(args[i], "auth")) {
        RedactAfter(args, i, 2);
        i += 2;
      } else if (EqualsIgnoreCase(args[i], "setname")) {
        ++i;
      }
    }
  } else if (spec.name == "config" && args.size() > 1 &&
             EqualsIgnoreCase(args[1], "set")) {
    for (size_t i = 2; i + 1 < args.size(); i += 2) {
      if (IsSecretConfig(args[i])) RedactAfter(args, i, 1);
    }
  } else if (spec.name == "migrate") {
    for (size_t i = 6; i < args.size(); ++i) {
      if (EqualsIgnoreCase(args[i], "auth")) {
        RedactAfter(args, i, 1);
        ++i;
      } else if (EqualsIgnoreCase(args[i], "auth2")) {
        RedactAfter(args, i, 2);
        i += 2;
      }
    }
  }
  return args;
}

}  // namespace daxkv::kv
