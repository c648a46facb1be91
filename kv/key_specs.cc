#include "kv/key_specs.h"

#include "base/int_text.h"

namespace daxkv::kv {
namespace {

constexpr std::string_view kAssumeRw =
    "We cannot tell how the keys will be used so we assume the worst, RW and "
    "UPDATE";
constexpr std::string_view kAssumeRo =
    "We cannot tell how the keys will be used so we assume the worst, RO and "
    "ACCESS";

// numkeys at argument `at`, the keys after it.
constexpr KeySpecDoc Numkeys(std::string_view flags, int at,
                             std::string_view notes = "") {
  return {.flags = flags, .index = at, .keynum = true, .notes = notes};
}
// The one key at argument `at`.
constexpr KeySpecDoc KeyAt(std::string_view flags, int at) {
  return {.flags = flags, .index = at};
}
// The key after `keyword`, searched from argument `from`.
constexpr KeySpecDoc KeyAfter(std::string_view flags, std::string_view keyword,
                              int from) {
  return {.flags = flags, .keyword = keyword, .startfrom = from};
}

constexpr KeySpecDoc kEval[] = {Numkeys("RW access update", 2, kAssumeRw)};
constexpr KeySpecDoc kEvalSha[] = {Numkeys("RW access update", 2)};
constexpr KeySpecDoc kEvalRo[] = {Numkeys("RO access", 2, kAssumeRo)};
constexpr KeySpecDoc kEvalShaRo[] = {Numkeys("RO access", 2)};
constexpr KeySpecDoc kStoreOfNumkeys[] = {KeyAt("OW update", 1),
                                          Numkeys("RO access", 2)};
constexpr KeySpecDoc kReadNumkeys[] = {Numkeys("RO access", 1)};
constexpr KeySpecDoc kPopNumkeys[] = {Numkeys("RW access delete", 1)};
constexpr KeySpecDoc kBlockingPopNumkeys[] = {Numkeys("RW access delete", 2)};
constexpr KeySpecDoc kXRead[] = {{.flags = "RO access",
                                  .keyword = "STREAMS",
                                  .startfrom = 1,
                                  .lastkey = -1,
                                  .limit = 2}};
constexpr KeySpecDoc kXReadGroup[] = {{.flags = "RO access",
                                       .keyword = "STREAMS",
                                       .startfrom = 4,
                                       .lastkey = -1,
                                       .limit = 2}};
constexpr KeySpecDoc kGeoRadius[] = {KeyAt("RO access", 1),
                                     KeyAfter("OW update", "STORE", 6),
                                     KeyAfter("OW update", "STOREDIST", 6)};
constexpr KeySpecDoc kGeoRadiusByMember[] = {
    KeyAt("RO access", 1), KeyAfter("OW update", "STORE", 5),
    KeyAfter("OW update", "STOREDIST", 5)};
constexpr KeySpecDoc kSortBy = {
    .flags = "RO access",
    .unknown = true,
    .notes =
        "For the optional BY/GET keyword. It is marked 'unknown' because "
        "the key names derive from the content of the key we sort"};
constexpr KeySpecDoc kSort[] = {
    KeyAt("RO access", 1),
    kSortBy,
    {.flags = "OW update",
     .unknown = true,
     .notes = "For the optional STORE keyword. It is marked 'unknown' because "
              "the keyword can appear anywhere in the argument array"}};
constexpr KeySpecDoc kSortRo[] = {KeyAt("RO access", 1), kSortBy};

// Redis's sortGetKeys: the sorted key, and the argument after the last
// STORE, skipping LIMIT's two arguments and BY's and GET's one.
std::vector<std::string_view> SortGetKeys(
    std::span<const std::string_view> argv) {
  std::vector<std::string_view> keys = {argv[1]};
  size_t store = 0;
  for (size_t i = 2; i < argv.size(); ++i) {
    if (EqualsIgnoreCase(argv[i], "limit")) {
      i += 2;
    } else if (EqualsIgnoreCase(argv[i], "get") ||
               EqualsIgnoreCase(argv[i], "by")) {
      i += 1;
    } else if (EqualsIgnoreCase(argv[i], "store") && i + 1 < argv.size()) {
      store = i + 1;  // the last STORE wins, as SORT's own parsing
    }
  }
  if (store != 0) keys.push_back(argv[store]);
  return keys;
}

constexpr MovableKeys kMovable[] = {
    {"eval", kEval, true},
    {"evalsha", kEvalSha, true},
    {"eval_ro", kEvalRo, true},
    {"evalsha_ro", kEvalShaRo, true},
    {"fcall", kEval, true},
    {"fcall_ro", kEvalRo, true},
    {"zunionstore", kStoreOfNumkeys},
    {"zinterstore", kStoreOfNumkeys},
    {"zdiffstore", kStoreOfNumkeys},
    {"zunion", kReadNumkeys},
    {"zinter", kReadNumkeys},
    {"zdiff", kReadNumkeys},
    {"zintercard", kReadNumkeys},
    {"sintercard", kReadNumkeys},
    {"lmpop", kPopNumkeys},
    {"zmpop", kPopNumkeys},
    {"blmpop", kBlockingPopNumkeys},
    {"bzmpop", kBlockingPopNumkeys},
    {"xread", kXRead},
    {"xreadgroup", kXReadGroup},
    {"georadius", kGeoRadius},
    {"georadiusbymember", kGeoRadiusByMember},
    {"sort", kSort, false, SortGetKeys},
    {"sort_ro", kSortRo, false, SortGetKeys},
};

// Where a spec's keys begin in argv: 0 when its keyword is absent (Redis
// searches up to, not including, the last argument going forward, down to
// argument 1 going backward).
int BeginOf(const KeySpecDoc& s, int argc,
            std::span<const std::string_view> argv) {
  if (s.keyword.empty()) return s.index;
  const int start = s.startfrom > 0 ? s.startfrom : argc + s.startfrom;
  const int end = s.startfrom > 0 ? argc - 1 : 0;
  for (int i = start; i != end; i += start <= end ? 1 : -1) {
    if (i >= argc || i < 0) break;
    if (EqualsIgnoreCase(argv[static_cast<size_t>(i)], s.keyword)) {
      return i + 1;
    }
  }
  return 0;
}

}  // namespace

const MovableKeys* FindMovableKeys(std::string_view command) {
  for (const MovableKeys& m : kMovable) {
    if (m.command == command) return &m;
  }
  return nullptr;
}

std::optional<std::vector<std::string_view>> KeysBySpecs(
    std::span<const KeySpecDoc> specs, std::span<const std::string_view> argv) {
  const int argc = static_cast<int>(argv.size());
  std::vector<std::string_view> keys;
  for (const KeySpecDoc& s : specs) {
    if (s.unknown) return std::nullopt;
    const int first0 = BeginOf(s, argc, argv);
    if (first0 == 0) continue;  // keyword absent: this spec names none
    int first = first0, last, step;
    if (s.keynum) {
      const int at = first + s.keynumidx;
      int64_t n;
      if (at >= argc || !ParseInt64(argv[static_cast<size_t>(at)], &n) ||
          n < 0 || n > argc) {
        return std::nullopt;
      }
      first = at + s.firstkey;
      last = first + static_cast<int>(n) - 1;
      step = s.keystep;
    } else {
      if (s.lastkey >= 0) {
        last = first + s.lastkey;
      } else if (s.limit == 0) {
        last = argc + s.lastkey;
      } else {
        last = first + ((argc - first) / s.limit + s.lastkey);
      }
      step = s.keystep;
    }
    if (last >= argc || last < first || first >= argc) return std::nullopt;
    for (int i = first; i <= last; i += step) {
      keys.push_back(argv[static_cast<size_t>(i)]);
    }
  }
  return keys;
}

}  // namespace daxkv::kv
