"""A model of Redis 7.0's glob matcher (stringmatchlen in util.c, with its
1000-level nesting limit and the skipLongerMatches cut-off), on bytes.

test_keys.GlobTest checks the model against redis-server (the reference run)
and daxkv's KEYS / SCAN MATCH against the model, pattern by pattern: quirks
included (an unterminated class ends at the end of the pattern, a reversed
range is swapped, bytes >= 0x80 compare as signed chars).
"""

import sys

sys.setrecursionlimit(10000)

STAR, QUESTION, OPEN, CLOSE, CARET, DASH, BACKSLASH = b"*?[]^-\\"


def _signed(c):
    return c - 256 if c >= 128 else c


def _fold(c, nocase):
    return c + 32 if nocase and 65 <= c <= 90 else c


class _Matcher:
    def __init__(self, pattern, string, nocase):
        self.p, self.s, self.nocase = pattern, string, nocase
        self.skip_longer = False

    def match_class(self, i, c):
        """The class starting after '[' at i against byte c: returns
        (matched, index of its last pattern byte)."""
        p, n = self.p, len(self.p)
        negate = i < n and p[i] == CARET
        i += negate
        hit = False
        while True:
            if n - i >= 2 and p[i] == BACKSLASH:
                i += 1
                hit |= p[i] == c
            elif i < n and p[i] == CLOSE:
                break
            elif i >= n:  # unterminated: the class ends with the pattern
                i -= 1
                break
            elif n - i >= 3 and p[i + 1] == DASH:
                lo, hi, x = _signed(p[i]), _signed(p[i + 2]), _signed(c)
                if lo > hi:
                    lo, hi = hi, lo
                if self.nocase:
                    lo, hi, x = (_fold(v, True) for v in (lo, hi, x))
                i += 2
                hit |= lo <= x <= hi
            else:
                hit |= _fold(p[i], self.nocase) == _fold(c, self.nocase)
            i += 1
        return hit != negate, i

    def match(self, i, j, nesting):
        p, s = self.p, self.s
        if nesting > 1000:
            return False
        while i < len(p) and j < len(s):
            ch = p[i]
            if ch == STAR:
                while len(p) - i > 1 and p[i + 1] == STAR:
                    i += 1
                if len(p) - i == 1:
                    return True
                while j < len(s):
                    if self.match(i + 1, j, nesting + 1):
                        return True
                    if self.skip_longer:
                        return False
                    j += 1
                self.skip_longer = True
                return False
            if ch == OPEN:
                hit, i = self.match_class(i + 1, s[j])
                if not hit:
                    return False
            elif ch != QUESTION:
                if ch == BACKSLASH and len(p) - i >= 2:
                    i += 1
                if _fold(p[i], self.nocase) != _fold(s[j], self.nocase):
                    return False
            j += 1
            i += 1
            if j == len(s):
                while i < len(p) and p[i] == STAR:
                    i += 1
                break
        return i == len(p) and j == len(s)


def stringmatch(pattern, string, nocase=False):
    """Whether Redis 7.0 matches `string` (bytes) against glob `pattern`."""
    return _Matcher(pattern, string, nocase).match(0, 0, 0)
