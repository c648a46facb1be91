// Redis 7.0's key specifications of the commands whose keys move with
// their arguments (COMMAND INFO's "movablekeys": numkeys forms, XREAD's
// STREAMS, GEORADIUS's STORE and STOREDIST, SORT's STORE), as COMMAND INFO
// lists them, and the keys they name in a request, as COMMAND GETKEYS
// finds them (Redis's getKeysFromCommandWithSpecs). MIGRATE, whose specs
// came first, keeps its own (kv/cmd_migrate.cc).
//
// Thread-safety: immutable data and pure functions.
#ifndef DAXKV_KV_KEY_SPECS_H_
#define DAXKV_KV_KEY_SPECS_H_

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "kv/command.h"

namespace daxkv::kv {

struct MovableKeys {
  std::string_view command;  // lower case
  std::span<const KeySpecDoc> specs;
  // Redis's no_mandatory_keys (scripts): a request naming no key is fine.
  bool optional = false;
  // When a spec cannot find its keys (unknown, or invalid for the
  // request): Redis's getkeys_proc. Null: no keys then.
  GetKeysFn fallback = nullptr;
};

// The entry of `command` (lower case), or null when its keys do not move.
const MovableKeys* FindMovableKeys(std::string_view command);

// The keys `specs` name in `argv` (argv[0]: the command), in spec order;
// nullopt when a spec is unknown or does not fit the arguments (Redis:
// the request names no key by its specs).
std::optional<std::vector<std::string_view>> KeysBySpecs(
    std::span<const KeySpecDoc> specs, std::span<const std::string_view> argv);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_KEY_SPECS_H_
