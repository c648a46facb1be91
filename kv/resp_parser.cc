#include "kv/resp_parser.h"

#include <cctype>
#include <cstring>

namespace daxkv::kv {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char EscapedChar(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\a';
    default:
      return c;
  }
}

// A closing quote must be followed by a space or the end of the line.
// Returns the index after the quote at i, or npos.
size_t AfterClosingQuote(std::string_view line, size_t i) {
  if (i + 1 < line.size() &&
      !std::isspace(static_cast<unsigned char>(line[i + 1]))) {
    return std::string_view::npos;
  }
  return i + 1;
}

// Reads one quoted token starting after the opening `quote`. Double quotes
// understand \xHH and \n-style escapes; single quotes only \'. Returns the
// index after the closing quote, or npos when unbalanced.
size_t ReadQuoted(std::string_view line, size_t i, char quote,
                  std::string* arg) {
  while (i < line.size()) {
    char c = line[i];
    bool more = i + 1 < line.size();
    if (quote == '"' && c == '\\' && i + 3 < line.size() &&
        line[i + 1] == 'x' && HexValue(line[i + 2]) >= 0 &&
        HexValue(line[i + 3]) >= 0) {
      arg->push_back(static_cast<char>(HexValue(line[i + 2]) * 16 +
                                       HexValue(line[i + 3])));
      i += 4;
    } else if (quote == '"' && c == '\\' && more) {
      arg->push_back(EscapedChar(line[i + 1]));
      i += 2;
    } else if (quote == '\'' && c == '\\' && more && line[i + 1] == '\'') {
      arg->push_back('\'');
      i += 2;
    } else if (c == quote) {
      return AfterClosingQuote(line, i);
    } else {
      arg->push_back(c);
      ++i;
    }
  }
  return std::string_view::npos;
}

}  // namespace

bool SplitInlineArgs(std::string_view line, std::vector<std::string>* out,
                     size_t* count) {
  *count = 0;
  size_t i = 0;
  while (true) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])))
      ++i;
    if (i == line.size()) return true;
    if (*count == out->size()) out->emplace_back();
    std::string* arg = &(*out)[(*count)++];
    arg->clear();
    if (line[i] == '"' || line[i] == '\'') {
      i = ReadQuoted(line, i + 1, line[i], arg);
    } else {
      while (i < line.size() &&
             !std::isspace(static_cast<unsigned char>(line[i]))) {
        arg->push_back(line[i++]);
      }
    }
    if (i == std::string_view::npos) return false;
  }
}

void RequestParser::Reset() {
  pos_ = 0;
  multibulk_len_ = 0;
  bulk_len_ = -1;
  started_ = false;
  spans_.clear();
  inline_count_ = 0;
  argv_.clear();
  // A request with very many arguments does not pin its arrays.
  constexpr size_t kKeep = 4096;
  if (spans_.capacity() > kKeep) decltype(spans_)().swap(spans_);
  if (argv_.capacity() > kKeep) decltype(argv_)().swap(argv_);
}

RequestParser::Result RequestParser::Fail(std::string_view message) {
  error_.assign("ERR Protocol error: ");
  error_.append(message);
  // Like Redis's addReplyErrorFormat: an error line never carries CR/LF.
  for (char& c : error_) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return Result::kError;
}

size_t RequestParser::pending_bulk_bytes(size_t len) const {
  if (bulk_len_ < 0) return 0;
  size_t need = pos_ + static_cast<size_t>(bulk_len_) + 2;
  return need > len ? need - len : 0;
}

RequestParser::Result RequestParser::Parse(const char* buf, size_t len,
                                           bool authenticated) {
  if (len == 0) return Result::kIncomplete;
  if (buf[0] == '*') return ParseMultibulk(buf, len, authenticated);
  return ParseInline(buf, len);
}

RequestParser::Result RequestParser::ParseInline(const char* buf, size_t len) {
  const char* nl = static_cast<const char*>(std::memchr(buf, '\n', len));
  // Redis finds the newline with strchr(): a NUL byte before it hides it,
  // and the request waits (until it is too big) as if incomplete.
  if (nl != nullptr &&
      std::memchr(buf, '\0', static_cast<size_t>(nl - buf)) != nullptr) {
    nl = nullptr;
  }
  if (nl == nullptr) {
    if (len > limits_.max_inline) return Fail("too big inline request");
    return Result::kIncomplete;
  }
  size_t line_len = static_cast<size_t>(nl - buf);
  pos_ = line_len + 1;
  if (line_len > 0 && buf[line_len - 1] == '\r') --line_len;
  if (!SplitInlineArgs(std::string_view(buf, line_len), &inline_args_,
                       &inline_count_)) {
    return Fail("unbalanced quotes in request");
  }
  argv_.clear();
  for (size_t i = 0; i < inline_count_; ++i) argv_.push_back(inline_args_[i]);
  return Result::kComplete;
}

RequestParser::Result RequestParser::ParseMultibulk(const char* buf, size_t len,
                                                    bool authenticated) {
  if (!started_) {
    const char* cr = static_cast<const char*>(std::memchr(buf, '\r', len));
    if (cr == nullptr) {
      if (len > limits_.max_inline) return Fail("too big mbulk count string");
      return Result::kIncomplete;
    }
    size_t line_len = static_cast<size_t>(cr - buf);
    if (line_len + 2 > len) return Result::kIncomplete;
    int64_t n = 0;
    if (!ParseInt64(std::string_view(buf + 1, line_len - 1), &n) ||
        n > limits_.max_multibulk) {
      return Fail("invalid multibulk length");
    }
    if (!authenticated && n > limits_.unauth_max_multibulk) {
      return Fail("unauthenticated multibulk length");
    }
    pos_ = line_len + 2;
    started_ = true;
    if (n <= 0) {
      argv_.clear();
      return Result::kComplete;
    }
    multibulk_len_ = n;
    // Cap the reservation: a hostile count must not allocate up front.
    spans_.reserve(static_cast<size_t>(n < 1024 ? n : 1024));
  }
  while (multibulk_len_ > 0) {
    if (bulk_len_ < 0) {
      const char* start = buf + pos_;
      size_t avail = len - pos_;
      const char* cr =
          static_cast<const char*>(std::memchr(start, '\r', avail));
      if (cr == nullptr) {
        if (avail > limits_.max_inline)
          return Fail("too big bulk count string");
        return Result::kIncomplete;
      }
      size_t line_len = static_cast<size_t>(cr - start);
      if (line_len + 2 > avail) return Result::kIncomplete;
      if (start[0] != '$') {
        return Fail(std::string("expected '$', got '") + start[0] + "'");
      }
      int64_t n = 0;
      if (!ParseInt64(std::string_view(start + 1, line_len - 1), &n) || n < 0 ||
          n > limits_.max_bulk) {
        return Fail("invalid bulk length");
      }
      if (!authenticated && n > limits_.unauth_max_bulk) {
        return Fail("unauthenticated bulk length");
      }
      pos_ += line_len + 2;
      bulk_len_ = n;
    }
    size_t need = static_cast<size_t>(bulk_len_) + 2;
    if (len - pos_ < need) return Result::kIncomplete;
    spans_.emplace_back(pos_, static_cast<size_t>(bulk_len_));
    pos_ += need;
    bulk_len_ = -1;
    --multibulk_len_;
  }
  BuildArgv(buf);
  return Result::kComplete;
}

void RequestParser::BuildArgv(const char* buf) {
  argv_.clear();
  for (const auto& [off, n] : spans_) argv_.emplace_back(buf + off, n);
}

}  // namespace daxkv::kv
