// SORT and SORT_RO, as Redis 7.0's sort.c: the elements of a list, set or
// sorted set, ordered numerically or ALPHA, optionally BY the values of
// other keys ("weight_*", "h_*->field"), cut by LIMIT, projected through
// GET patterns, and returned or STOREd as a list.
//
// A plain SORT runs on a read view; SORT ... STORE is one Txn, so the
// destination list is replaced whole or not at all, and is durable before
// the reply like every collection write. The keys BY and GET name are not
// known before the elements are read: the view reads them as it goes, the
// Txn locks them on first use (RunTxn restarts with them declared when
// their stripes cannot be taken in order).
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kv/coll_run.h"
#include "kv/command.h"
#include "kv/resp_parser.h"

namespace daxkv::kv {
namespace {

using engine::KeyInfo;
using engine::KeyType;
using engine::ReadOps;

struct SortArgs {
  bool desc = false;
  bool alpha = false;
  // BY with a pattern without '*': keep the elements' own order.
  bool dontsort = false;
  std::optional<std::string_view> by;
  std::vector<std::string_view> gets;
  int64_t limit_start = 0;
  int64_t limit_count = -1;
  std::optional<std::string_view> store;
};

// Redis's option loop; replies the error and returns false on a bad one.
bool ParseSortArgs(CommandContext& ctx, bool readonly, SortArgs* a) {
  const auto& argv = ctx.argv;
  for (size_t j = 2; j < argv.size(); ++j) {
    const size_t left = argv.size() - j - 1;
    std::string_view opt = argv[j];
    if (EqualsIgnoreCase(opt, "asc")) {
      a->desc = false;
    } else if (EqualsIgnoreCase(opt, "desc")) {
      a->desc = true;
    } else if (EqualsIgnoreCase(opt, "alpha")) {
      a->alpha = true;
    } else if (EqualsIgnoreCase(opt, "limit") && left >= 2) {
      if (!ParseIntArg(ctx, argv[j + 1], &a->limit_start) ||
          !ParseIntArg(ctx, argv[j + 2], &a->limit_count)) {
        return false;
      }
      j += 2;
    } else if (!readonly && EqualsIgnoreCase(opt, "store") && left >= 1) {
      a->store = argv[++j];
    } else if (EqualsIgnoreCase(opt, "by") && left >= 1) {
      a->by = argv[++j];
      // Redis looks for '*' in the pattern as a C string.
      const std::string_view c_pattern = a->by->substr(0, a->by->find('\0'));
      if (c_pattern.find('*') == std::string_view::npos) a->dontsort = true;
    } else if (EqualsIgnoreCase(opt, "get") && left >= 1) {
      a->gets.push_back(argv[++j]);
    } else {
      ReplySyntaxError(ctx);
      return false;
    }
  }
  return true;
}

// Redis's lookupKeyByPattern: "#" is the element itself; otherwise the
// first '*' takes the element, and "->field" after it reads a hash field.
// nullopt when there is no '*', the key is absent, or holds another type.
StatusOr<std::optional<std::string>> LookupByPattern(ReadOps& ops,
                                                     std::string_view pattern,
                                                     std::string_view elem) {
  if (pattern == "#") return std::optional<std::string>(std::string(elem));
  pattern = pattern.substr(0, pattern.find('\0'));
  const size_t star = pattern.find('*');
  if (star == std::string_view::npos) return std::optional<std::string>();
  std::string_view field;
  std::string_view rest = pattern.substr(star + 1);
  const size_t arrow = rest.find("->");
  if (arrow != std::string_view::npos && arrow + 2 < rest.size()) {
    field = rest.substr(arrow + 2);
    rest = rest.substr(0, arrow);
  }
  std::string key(pattern.substr(0, star));
  key.append(elem.substr(0, elem.find('\0')));  // Redis copies a C string
  key.append(rest);
  DAXKV_ASSIGN_OR_RETURN(KeyInfo info, ops.Stat(key));
  std::string value;
  Status s;
  if (!field.empty()) {
    if (info.type != KeyType::kHash) return std::optional<std::string>();
    s = ops.HashGet(key, field, &value);
  } else {
    if (info.type != KeyType::kString) return std::optional<std::string>();
    s = ops.Get(key, &value);
  }
  if (s.code() == StatusCode::kNotFound) return std::optional<std::string>();
  DAXKV_RETURN_IF_ERROR(s);
  return std::optional<std::string>(std::move(value));
}

struct SortItem {
  std::string elem;
  double score = 0;
  std::optional<std::string> cmp;  // ALPHA BY: the BY value
};

// Redis's sortCompare. Strings compare as Redis's compareStringObjects:
// bytes, then length (string_view::compare). ALPHA does too: daxkv has no
// collation locale, and Redis's strcoll in the C locale is the same for
// strings without NUL bytes.
int Compare(const SortArgs& a, const SortItem& x, const SortItem& y) {
  int cmp = 0;
  if (!a.alpha) {
    cmp = x.score > y.score ? 1 : (x.score < y.score ? -1 : 0);
    if (cmp == 0) cmp = std::string_view(x.elem).compare(y.elem);
  } else if (a.by.has_value()) {
    if (!x.cmp || !y.cmp) {
      cmp = x.cmp == y.cmp ? 0 : (!x.cmp ? -1 : 1);
    } else {
      cmp = std::string_view(*x.cmp).compare(*y.cmp);
    }
  } else {
    cmp = std::string_view(x.elem).compare(y.elem);
  }
  return a.desc ? -cmp : cmp;
}

// Redis's strtod check: the whole C string must parse ("" is 0).
bool ScoreOf(std::string_view v, double* score) {
  std::string buf(v);
  char* end = nullptr;
  errno = 0;
  *score = std::strtod(buf.c_str(), &end);
  return *end == '\0' && errno != ERANGE && !std::isnan(*score);
}

// The elements of the key to sort, in its own order (a sorted set's by
// rank, reversed for DESC when they are not going to be sorted).
StatusOr<std::vector<SortItem>> LoadElements(ReadOps& ops, std::string_view key,
                                             KeyType type, bool reverse) {
  std::vector<SortItem> items;
  auto add = [&items](std::string_view e) {
    SortItem item;
    item.elem = e;
    items.push_back(std::move(item));
    return true;
  };
  if (type == KeyType::kList) {
    DAXKV_RETURN_IF_ERROR(ops.ListRange(key, engine::IndexRange{}, add));
    if (reverse) std::reverse(items.begin(), items.end());
  } else if (type == KeyType::kSet) {
    DAXKV_RETURN_IF_ERROR(ops.SetForEach(key, add));
  } else if (type == KeyType::kZset) {
    DAXKV_RETURN_IF_ERROR(ops.ZRangeByRank(
        key, engine::IndexRange{}, reverse,
        [&add](std::string_view m, double) { return add(m); }));
  }
  return items;
}

// Scores or BY values for every item, then the sort. False when a score is
// not a number (Redis still runs every lookup first).
StatusOr<bool> SortItems(ReadOps& ops, const SortArgs& a,
                         std::vector<SortItem>* items) {
  bool numbers_ok = true;
  for (SortItem& item : *items) {
    std::optional<std::string> by_value;
    if (a.by.has_value()) {
      DAXKV_ASSIGN_OR_RETURN(by_value, LookupByPattern(ops, *a.by, item.elem));
      if (!by_value) continue;
    }
    if (a.alpha) {
      if (a.by.has_value()) item.cmp = std::move(by_value);
    } else if (!ScoreOf(by_value ? *by_value : item.elem, &item.score)) {
      numbers_ok = false;
    }
  }
  std::stable_sort(items->begin(), items->end(),
                   [&a](const SortItem& x, const SortItem& y) {
                     return Compare(a, x, y) < 0;
                   });
  return numbers_ok;
}

struct Window {
  int64_t start;
  int64_t end;  // inclusive; end < start: nothing
};

// Redis's LIMIT sanity checks.
Window LimitWindow(const SortArgs& a, int64_t n) {
  int64_t start = a.limit_start < 0 ? 0 : a.limit_start;
  // start + count - 1 without overflowing: a count past the end is
  // clamped below (Redis's own sum overflows; its build clamps it too).
  int64_t end = a.limit_count < 0 || a.limit_count > n - start
                    ? n - 1
                    : start + a.limit_count - 1;
  if (start >= n) {
    start = n - 1;
    end = n - 2;
  }
  if (end >= n) end = n - 1;
  return {start, end};
}

// The sorted output: each element, or its GET values (nullopt: nil).
using SortOutput = std::vector<std::optional<std::string>>;

StatusOr<SortOutput> RunSort(ReadOps& ops, std::string_view key, SortArgs a) {
  DAXKV_ASSIGN_OR_RETURN(KeyInfo info, ops.Stat(key));
  if (info.type != KeyType::kNone && info.type != KeyType::kList &&
      info.type != KeyType::kSet && info.type != KeyType::kZset) {
    return engine::WrongTypeError();
  }
  // An unsorted set would come out in hash order: Redis sorts it ALPHA
  // when the result is stored, so that replicas agree.
  if (a.dontsort && info.type == KeyType::kSet && a.store.has_value()) {
    a.dontsort = false;
    a.alpha = true;
    a.by.reset();
  }
  const bool own_order_reversed = a.dontsort && a.desc;
  DAXKV_ASSIGN_OR_RETURN(std::vector<SortItem> items,
                         LoadElements(ops, key, info.type, own_order_reversed));
  if (!a.dontsort) {
    DAXKV_ASSIGN_OR_RETURN(bool numbers_ok, SortItems(ops, a, &items));
    if (!numbers_ok) {
      return CommandError(
          "ERR One or more scores can't be converted into "
          "double");
    }
  }
  const Window w = LimitWindow(a, static_cast<int64_t>(items.size()));
  SortOutput out;
  for (int64_t j = w.start; j <= w.end; ++j) {
    const std::string& elem = items[static_cast<size_t>(j)].elem;
    if (a.gets.empty()) out.emplace_back(elem);
    for (std::string_view pattern : a.gets) {
      DAXKV_ASSIGN_OR_RETURN(std::optional<std::string> v,
                             LookupByPattern(ops, pattern, elem));
      out.push_back(std::move(v));
    }
  }
  return out;
}

// Durability: the destination is replaced inside the Txn; the round's
// Sync() makes it durable before the reply (coll_run.h).
Status StoreSorted(engine::Txn& txn, std::string_view dest,
                   const SortOutput& out, CollCall& call) {
  bool existed = false;
  DAXKV_RETURN_IF_ERROR(txn.Delete(dest, &existed));
  uint64_t length = 0;
  for (const std::optional<std::string>& v : out) {
    DAXKV_RETURN_IF_ERROR(txn.ListPush(
        dest, engine::End::kBack, v ? *v : std::string_view(), false, &length));
  }
  if (existed || !out.empty()) call.Modified(dest);
  call.out.Integer(static_cast<int64_t>(out.size()));
  return OkStatus();
}

void SortGeneric(CommandContext& ctx, bool readonly) {
  SortArgs a;
  if (!ParseSortArgs(ctx, readonly, &a)) return;
  const std::string_view key = ctx.argv[1];
  if (a.store.has_value()) {
    RunCollWrite(ctx, [&](engine::Txn& txn, CollCall& call) {
      DAXKV_ASSIGN_OR_RETURN(SortOutput out, RunSort(txn, key, a));
      return StoreSorted(txn, *a.store, out, call);
    });
    return;
  }
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    DAXKV_ASSIGN_OR_RETURN(SortOutput out, RunSort(ops, key, a));
    call.out.ArrayHeader(out.size());
    for (const std::optional<std::string>& v : out) {
      if (v) {
        call.out.Bulk(*v);
      } else {
        call.out.Null();
      }
    }
    return OkStatus();
  });
}

void SortCommand(CommandContext& ctx) { SortGeneric(ctx, false); }
void SortRoCommand(CommandContext& ctx) { SortGeneric(ctx, true); }

}  // namespace

void RegisterSortCommands(CommandTable* t) {
  static constexpr CollCommand kCommands[] = {
      {"sort", -2, kCmdWrite, SortCommand,
       "Sort the elements in a list, set or sorted set", "1.0.0"},
      {"sort_ro", -2, kCmdReadOnly, SortRoCommand,
       "Sort the elements in a list, set or sorted set. Read-only variant of "
       "SORT.",
       "7.0.0"},
  };
  AddCollCommands(t, "generic", kCommands);
}

}  // namespace daxkv::kv
