// The RDB format's primitive readers (rdbLoadLen, rdbGenericLoadStringObject,
// rdbLoadDoubleValue, ...) over a window of bytes that may end early.
//
// One reader serves both complete inputs (a DUMP payload) and the stream
// reader's partial buffer: a read either succeeds and advances, or returns
// kShort (the window ends before the item does; needed() says how large the
// window must grow before a retry can get further), or kBad / kUnsupported
// (error() says why). After anything but kOk the position is unspecified;
// callers rewind to the start of the unit they were reading.
//
// Nothing is allocated for a length until the bytes it announces are in the
// window, so hostile lengths cannot exhaust memory.
//
// Thread-safety: one thread at a time.
#ifndef DAXKV_RDB_INPUT_H_
#define DAXKV_RDB_INPUT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace daxkv::rdb {

enum class Rd {
  kOk,
  kShort,        // more bytes needed
  kBad,          // malformed
  kUnsupported,  // well-formed but a type daxkv cannot hold (stream, module)
};

class Input {
 public:
  explicit Input(std::string_view window) : window_(window) {}

  size_t pos() const { return pos_; }
  void Rewind(size_t pos) { pos_ = pos; }
  size_t remaining() const { return window_.size() - pos_; }
  // The bytes in [from, pos()).
  std::string_view Span(size_t from) const {
    return window_.substr(from, pos_ - from);
  }

  Rd Byte(uint8_t* b);
  Rd Bytes(size_t n, std::string_view* out);
  // An unsigned little-endian integer of `width` (1..8) bytes.
  Rd FixedLE(size_t width, uint64_t* v);
  // A length (rdbLoadLen); an encoded-string marker here is malformed.
  Rd Len(uint64_t* len);
  // A string in any RDB encoding: verbatim, int8/16/32 (as its decimal
  // form), or LZF.
  Rd String(std::string* out);
  Rd BinaryDouble(double* v);
  // The pre-RDB-8 score: a length byte (253 NaN, 254 +inf, 255 -inf) and
  // that many decimal characters.
  Rd LegacyDouble(double* v);

  Rd Fail(std::string message);
  Rd Unsupported(std::string message);
  const std::string& error() const { return error_; }
  size_t needed() const { return needed_; }

 private:
  Rd Short(size_t more);

  std::string_view window_;
  size_t pos_ = 0;
  size_t needed_ = 0;
  std::string error_;
};

// Propagates anything but kOk.
#define DAXKV_RD(expr)                                        \
  do {                                                        \
    ::daxkv::rdb::Rd daxkv_rd_ = (expr);                      \
    if (daxkv_rd_ != ::daxkv::rdb::Rd::kOk) return daxkv_rd_; \
  } while (0)

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_INPUT_H_
