#include "kv/key_prefetch.h"

#include <array>

#include "kv/executor.h"

namespace daxkv::kv {

bool StartsKeyPrefetch(const CommandSpec* spec) {
  return spec != nullptr && (spec->flags & kCmdWrite) && spec->first_key > 0 &&
         !(spec->flags & (kCmdPipelined | kCmdScript));
}

size_t PrefetchPipelineKeys(ServerState& server, const CommandSpec& spec,
                            std::span<const std::string_view> argv,
                            std::string_view rest, RequestParser& scratch,
                            LastCommand& lookup) {
  std::array<std::string_view, kMaxPrefetchedKeys> keys;
  size_t n = 0;
  auto add = [&](std::string_view key) {
    if (n == keys.size()) return false;
    keys[n++] = key;
    return true;
  };
  ForEachCommandKey(spec, argv, add);
  size_t covered = 0;
  // Only multibulk requests: an inline request's arguments live in the
  // parser, which the next Parse overwrites.
  while (n < keys.size() && !rest.empty() && rest[0] == '*') {
    scratch.Reset();
    if (scratch.Parse(rest.data(), rest.size(), /*authenticated=*/true) !=
        RequestParser::Result::kComplete) {
      break;
    }
    const std::span<const std::string_view> args = scratch.args();
    const CommandSpec* next = args.empty() ? nullptr : lookup.Find(args[0]);
    if (!StartsKeyPrefetch(next) || !ArityOk(*next, args.size())) break;
    ForEachCommandKey(*next, args, add);
    covered += scratch.consumed();
    rest.remove_prefix(scratch.consumed());
  }
  scratch.Reset();
  if (n < 2) return covered;  // the command's own PrefetchKeys does as much
  for (size_t i = 0; i < n; ++i) {
    PrefetchCommandKey(server, keys[i], /*write=*/true);
  }
  for (size_t i = 0; i < n; ++i) server.db().PrefetchEntry(keys[i]);
  return covered;
}

}  // namespace daxkv::kv
