#include "kv/glob.h"

#include <cctype>
#include <utility>

namespace daxkv::kv {
namespace {

char Fold(char c, bool nocase) {
  return nocase ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                : c;
}

// Matches a [...] class at p (just after '['); advances p past ']'.
bool MatchClass(const char*& p, const char* pend, char c, bool nocase) {
  bool negate = p < pend && *p == '^';
  if (negate) ++p;
  bool match = false;
  while (p < pend && *p != ']') {
    if (*p == '\\' && p + 1 < pend) {
      ++p;
      if (Fold(*p, nocase) == Fold(c, nocase)) match = true;
    } else if (p + 2 < pend && p[1] == '-') {
      char lo = Fold(p[0], nocase), hi = Fold(p[2], nocase);
      if (lo > hi) std::swap(lo, hi);
      char x = Fold(c, nocase);
      if (x >= lo && x <= hi) match = true;
      p += 2;
    } else if (Fold(*p, nocase) == Fold(c, nocase)) {
      match = true;
    }
    ++p;
  }
  if (p < pend) ++p;  // skip ']'
  return negate ? !match : match;
}

// `depth` bounds recursion; *skip_longer stops outer '*' loops once an inner
// '*' has consumed the whole string without a match (Redis's guard against
// exponential patterns like "*a*a*a*a*b").
bool Match(const char* p, const char* pend, const char* s, const char* send,
           bool nocase, int depth, bool* skip_longer) {
  if (depth > 1000) return false;
  while (p < pend) {
    switch (*p) {
      case '*':
        while (p + 1 < pend && p[1] == '*') ++p;
        if (p + 1 == pend) return true;
        for (const char* t = s; t <= send; ++t) {
          if (Match(p + 1, pend, t, send, nocase, depth + 1, skip_longer)) {
            return true;
          }
          if (*skip_longer) return false;
        }
        *skip_longer = true;
        return false;
      case '?':
        if (s == send) return false;
        ++s;
        ++p;
        break;
      case '[': {
        if (s == send) return false;
        ++p;
        if (!MatchClass(p, pend, *s, nocase)) return false;
        ++s;
        break;
      }
      case '\\':
        if (p + 1 < pend) ++p;
        [[fallthrough]];
      default:
        if (s == send || Fold(*p, nocase) != Fold(*s, nocase)) return false;
        ++s;
        ++p;
        break;
    }
  }
  return s == send;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view s, bool nocase) {
  bool skip_longer = false;
  return Match(pattern.data(), pattern.data() + pattern.size(), s.data(),
               s.data() + s.size(), nocase, 0, &skip_longer);
}

}  // namespace daxkv::kv
