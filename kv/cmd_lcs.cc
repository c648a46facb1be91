// LCS (with LEN, IDX, MINMATCHLEN, WITHMATCHLEN) and SUBSTR, as Redis 7.0.
//
// LCS fills the usual dynamic-programming table, (|a|+1) x (|b|+1) lengths,
// and walks it back from the end to build the string and the match ranges
// in Redis's order. The table is transient memory a client can ask for:
// above kMaxLcsTable bytes the command fails with Redis's out-of-memory
// error instead of allocating it (LEN alone needs two rows, and no limit).
#include <algorithm>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "engine/txn.h"
#include "kv/command.h"

namespace daxkv::kv {
namespace {

constexpr uint64_t kMaxLcsTable = 256ull << 20;

struct LcsOptions {
  bool len = false, idx = false, with_match_len = false;
  int64_t min_match_len = 0;
};

// False after an error reply.
bool ParseLcsOptions(CommandContext& ctx, LcsOptions* o) {
  for (size_t j = 3; j < ctx.argv.size(); ++j) {
    std::string_view opt = ctx.argv[j];
    const bool more = j + 1 < ctx.argv.size();
    if (EqualsIgnoreCase(opt, "idx")) {
      o->idx = true;
    } else if (EqualsIgnoreCase(opt, "len")) {
      o->len = true;
    } else if (EqualsIgnoreCase(opt, "withmatchlen")) {
      o->with_match_len = true;
    } else if (EqualsIgnoreCase(opt, "minmatchlen") && more) {
      if (!ParseIntArg(ctx, ctx.argv[++j], &o->min_match_len)) return false;
      o->min_match_len = std::max<int64_t>(o->min_match_len, 0);
    } else {
      ReplySyntaxError(ctx);
      return false;
    }
  }
  if (o->idx && o->len) {
    ctx.out.Error(
        "ERR If you want both the length and indexes, please just use IDX.");
    return false;
  }
  return true;
}

// LCS length with two rows of the table.
uint32_t LcsLength(std::string_view a, std::string_view b) {
  std::vector<uint32_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1
                                    : std::max(prev[j], cur[j - 1]);
    }
    prev.swap(cur);
  }
  return prev[b.size()];
}

struct MatchRange {
  uint32_t a_start, a_end, b_start, b_end;
};

class LcsTable {
 public:
  // Null when the table would exceed kMaxLcsTable or cannot be allocated.
  static std::unique_ptr<LcsTable> Build(std::string_view a,
                                         std::string_view b) {
    const uint64_t cells = (uint64_t{a.size()} + 1) * (b.size() + 1);
    if (cells * sizeof(uint32_t) > kMaxLcsTable) return nullptr;
    std::unique_ptr<uint32_t[]> dp(new (std::nothrow) uint32_t[cells]);
    if (!dp) return nullptr;
    std::unique_ptr<LcsTable> t(new LcsTable(a, b, std::move(dp)));
    t->Fill();
    return t;
  }

  uint32_t length() const { return At(a_.size(), b_.size()); }

  // The common subsequence, and its ranges (end first, as Redis emits
  // them) of at least `min_len` bytes.
  std::string Walk(int64_t min_len, std::vector<MatchRange>* ranges) const {
    const auto alen = static_cast<uint32_t>(a_.size());
    std::string result(length(), '\0');
    uint32_t idx = length();
    uint32_t i = alen, j = static_cast<uint32_t>(b_.size());
    MatchRange cur{alen, 0, 0, 0};  // a_start == alen: no range open
    while (i > 0 && j > 0) {
      bool emit = false;
      if (a_[i - 1] == b_[j - 1]) {
        result[--idx] = a_[i - 1];
        if (cur.a_start == alen) {
          cur = {i - 1, i - 1, j - 1, j - 1};
        } else if (cur.a_start == i && cur.b_start == j) {
          --cur.a_start;  // contiguous: extend the range backwards
          --cur.b_start;
        } else {
          emit = true;
        }
        if (cur.a_start == 0 || cur.b_start == 0) emit = true;
        --i;
        --j;
      } else {
        if (At(i - 1, j) > At(i, j - 1)) {
          --i;
        } else {
          --j;
        }
        if (cur.a_start != alen) emit = true;
      }
      if (emit) {
        const uint32_t len = cur.a_end - cur.a_start + 1;
        if (min_len == 0 || len >= min_len) ranges->push_back(cur);
        cur.a_start = alen;
      }
    }
    return result;
  }

 private:
  LcsTable(std::string_view a, std::string_view b,
           std::unique_ptr<uint32_t[]> dp)
      : a_(a), b_(b), dp_(std::move(dp)) {}

  uint32_t& At(size_t i, size_t j) { return dp_[j + i * (b_.size() + 1)]; }
  uint32_t At(size_t i, size_t j) const { return dp_[j + i * (b_.size() + 1)]; }

  void Fill() {
    for (size_t i = 0; i <= a_.size(); ++i) {
      for (size_t j = 0; j <= b_.size(); ++j) {
        if (i == 0 || j == 0) {
          At(i, j) = 0;
        } else if (a_[i - 1] == b_[j - 1]) {
          At(i, j) = At(i - 1, j - 1) + 1;
        } else {
          At(i, j) = std::max(At(i - 1, j), At(i, j - 1));
        }
      }
    }
  }

  std::string_view a_, b_;
  std::unique_ptr<uint32_t[]> dp_;
};

void ReplyMatches(CommandContext& ctx, const std::vector<MatchRange>& ranges,
                  bool with_len, uint32_t total) {
  ctx.out.MapHeader(2);
  ctx.out.Bulk("matches");
  ctx.out.ArrayHeader(ranges.size());
  for (const MatchRange& r : ranges) {
    ctx.out.ArrayHeader(with_len ? 3 : 2);
    ctx.out.ArrayHeader(2);
    ctx.out.Integer(r.a_start);
    ctx.out.Integer(r.a_end);
    ctx.out.ArrayHeader(2);
    ctx.out.Integer(r.b_start);
    ctx.out.Integer(r.b_end);
    if (with_len) ctx.out.Integer(r.a_end - r.a_start + 1);
  }
  ctx.out.Bulk("len");
  ctx.out.Integer(total);
}

void LcsCommand(CommandContext& ctx) {
  std::string a, b;
  for (int k = 1; k <= 2; ++k) {
    auto r = ctx.store.Get(ctx.argv[k]);
    CountLookup(ctx, r.ok());
    if (r.ok()) {
      (k == 1 ? a : b) = std::move(r->value);
    } else if (engine::IsWrongType(r.status())) {
      ctx.out.Error("ERR The specified keys must contain string values");
      return;
    } else if (r.status().code() != StatusCode::kNotFound) {
      ReplyEngineError(ctx, r.status());
      return;
    }
  }
  LcsOptions o;
  if (!ParseLcsOptions(ctx, &o)) return;
  if (a.size() >= UINT32_MAX - 1 || b.size() >= UINT32_MAX - 1) {
    ctx.out.Error("ERR String too long for LCS");
    return;
  }
  if (o.len) {
    ctx.out.Integer(LcsLength(a, b));
    return;
  }
  auto table = LcsTable::Build(a, b);
  if (!table) {
    ctx.out.Error(
        "ERR Insufficient memory, failed allocating transient memory for "
        "LCS");
    return;
  }
  std::vector<MatchRange> ranges;
  std::string lcs = table->Walk(o.min_match_len, &ranges);
  if (o.idx) {
    ReplyMatches(ctx, ranges, o.with_match_len, table->length());
  } else {
    ctx.out.Bulk(lcs);
  }
}

}  // namespace

void RegisterLcsCommands(CommandTable* t) {
  t->Add({.name = "lcs",
          .arity = -3,
          .flags = kCmdReadOnly | kCmdKeyspace,
          .fn = LcsCommand,
          .first_key = 1,
          .last_key = 2,
          .step = 1,
          .group = "string",
          .summary = "Find longest common substring",
          .since = "7.0.0"});
  // SUBSTR is GETRANGE under its pre-2.0 name (Redis runs the same code).
  const CommandSpec* getrange = t->Find("getrange");
  t->Add({.name = "substr",
          .arity = 4,
          .flags = getrange->flags,
          .fn = getrange->fn,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = "string",
          .summary = "Get a substring of the string stored at a key",
          .since = "1.0.0"});
}

}  // namespace daxkv::kv
