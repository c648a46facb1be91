// RequestParser: a resumable, length-capped parser for Redis requests in
// RESP multibulk form ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") and inline form
// ("GET k\r\n"), with the error texts Redis sends for malformed input.
//
// The parser never copies multibulk arguments: it records their offsets
// relative to the first byte of the request, so the caller may grow or
// compact its buffer between calls as long as the request's bytes keep their
// relative positions. Inline arguments (which may need unquoting) live in
// storage the parser owns and reuses.
//
// Thread-safety: none; one parser per connection.
#ifndef DAXKV_KV_RESP_PARSER_H_
#define DAXKV_KV_RESP_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/int_text.h"

namespace daxkv::kv {

struct ParserLimits {
  // Arguments per request: Redis's INT_MAX. What a long request costs is
  // bounded by the caller's query buffer limit, which counts memory().
  int64_t max_multibulk = 2147483647;
  int64_t max_bulk = 512ll * 1024 * 1024;  // bytes per argument
  // Caps for connections that have not authenticated yet (as Redis does).
  int64_t unauth_max_multibulk = 10;
  int64_t unauth_max_bulk = 16384;
  size_t max_inline = 64 * 1024;  // inline request / header line
};

class RequestParser {
 public:
  enum class Result { kComplete, kIncomplete, kError };

  explicit RequestParser(const ParserLimits& limits) : limits_(limits) {}

  // Parses the request starting at buf[0]; `len` bytes are available. Call
  // again with the same (possibly grown or moved) request after kIncomplete.
  // After kComplete, consumed() bytes belong to the request and args() holds
  // its arguments (possibly none: empty requests are skipped by callers).
  // After kError, error() holds the reply text ("ERR Protocol error: ...").
  // REQUIRES: Reset() before parsing the next request.
  Result Parse(const char* buf, size_t len, bool authenticated);

  size_t consumed() const { return pos_; }
  const std::vector<std::string_view>& args() const { return argv_; }
  const std::string& error() const { return error_; }
  // Bytes still needed to finish the bulk argument being read (0 if none
  // is known): lets the caller size its read buffer for large values.
  size_t pending_bulk_bytes(size_t len) const;
  // Memory the parser holds for the request being parsed (argument spans).
  size_t memory() const {
    return spans_.capacity() * sizeof(spans_[0]) +
           argv_.capacity() * sizeof(argv_[0]);
  }

  void Reset();

 private:
  Result ParseInline(const char* buf, size_t len);
  Result ParseMultibulk(const char* buf, size_t len, bool authenticated);
  Result Fail(std::string_view message);
  void BuildArgv(const char* buf);

  const ParserLimits& limits_;
  size_t pos_ = 0;
  int64_t multibulk_len_ = 0;  // arguments still to read; 0 = header pending
  int64_t bulk_len_ = -1;      // length of the argument being read
  bool started_ = false;
  std::vector<std::pair<size_t, size_t>> spans_;
  std::vector<std::string> inline_args_;
  size_t inline_count_ = 0;
  std::vector<std::string_view> argv_;
  std::string error_;
};

// Splits an inline request line like Redis's sdssplitargs (quotes, \xHH
// escapes). Returns false on unbalanced quotes. Reuses `out`'s strings.
bool SplitInlineArgs(std::string_view line, std::vector<std::string>* out,
                     size_t* count);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_RESP_PARSER_H_
