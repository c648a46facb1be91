// The RDB format's primitive writers (rdbSaveLen, rdbSaveRawString,
// rdbSaveBinaryDoubleValue, ...) over a byte sink.
//
// Thread-safety: a sink is used by one thread at a time.
#ifndef DAXKV_RDB_OUTPUT_H_
#define DAXKV_RDB_OUTPUT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace daxkv::rdb {

// Where encoded bytes go. Append cannot fail: a sink that can (a socket)
// records its first error and reports it to its owner.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void Append(std::string_view bytes) = 0;
};

class StringSink final : public ByteSink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  void Append(std::string_view bytes) override { out_->append(bytes); }

 private:
  std::string* out_;
};

void WriteByte(ByteSink* out, uint8_t b);

// rdbSaveLen: 6-bit, 14-bit, 32-bit or 64-bit big-endian length.
void WriteLen(ByteSink* out, uint64_t len);

// rdbSaveRawString: an int8/16/32 encoding when `s` is a canonical integer
// of at most 11 characters that fits, else LZF when `compress` and `s` is
// longer than 20 bytes and compresses by 4 bytes or more, else verbatim.
void WriteString(ByteSink* out, std::string_view s, bool compress);

// rdbSaveBinaryDoubleValue: IEEE 754 binary64, little-endian.
void WriteBinaryDouble(ByteSink* out, double v);

// Eight bytes, little-endian (EXPIRETIME_MS, the CRC64 trailer).
void WriteU64LE(ByteSink* out, uint64_t v);

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_OUTPUT_H_
