#include "rdb/payload.h"

#include "rdb/bytes.h"
#include "rdb/crc64.h"
#include "rdb/decoder.h"
#include "rdb/format.h"
#include "rdb/input.h"
#include "rdb/output.h"

namespace daxkv::rdb {
namespace {

constexpr size_t kFooterSize = 10;  // version (2) + CRC64 (8)
constexpr std::string_view kFooterError =
    "DUMP payload version or checksum are wrong";

Status FooterError(const std::string& why) {
  return CorruptionError(std::string(kFooterError) + ": " + why);
}

}  // namespace

StatusOr<std::string> EncodeDumpPayload(const Value& value,
                                        const EncodeOptions& opts) {
  DAXKV_RETURN_IF_ERROR(CheckEncodable(value));
  std::string out;
  StringSink sink(&out);
  uint8_t type = ChooseRdbType(value, opts);
  WriteByte(&sink, type);
  EncodeValueBody(value, type, opts, &sink);
  WriteByte(&sink, static_cast<uint8_t>(kRdbVersion & 0xFF));
  WriteByte(&sink, static_cast<uint8_t>(kRdbVersion >> 8));
  WriteU64LE(&sink, crc64::Value(out));
  return out;
}

StatusOr<Value> DecodeDumpPayload(std::string_view payload) {
  if (payload.size() < kFooterSize) {
    return FooterError("payload shorter than its footer");
  }
  size_t body_size = payload.size() - kFooterSize;
  uint64_t version = LoadLE(payload.data() + body_size, 2);
  if (version > static_cast<uint64_t>(kRdbVersion)) {
    return FooterError("RDB version " + std::to_string(version) +
                       " is newer than " + std::to_string(kRdbVersion));
  }
  uint64_t crc = LoadLE(payload.data() + payload.size() - 8, 8);
  if (crc != crc64::Value(payload.substr(0, payload.size() - 8))) {
    return FooterError("CRC64 mismatch");
  }
  Input in(payload.substr(0, body_size));
  uint8_t type;
  if (in.Byte(&type) != Rd::kOk) {
    return InvalidArgumentError("Bad data format: no object type");
  }
  ObjectDecoder decoder;
  decoder.Start(type);
  switch (decoder.Continue(&in)) {
    case Rd::kOk:
      break;
    case Rd::kShort:
      return InvalidArgumentError("Bad data format: " + RdbTypeName(type) +
                                  " value truncated");
    case Rd::kBad:
      return InvalidArgumentError("Bad data format: " + in.error());
    case Rd::kUnsupported:
      return NotSupportedError("DUMP payload holds " + in.error());
  }
  if (in.remaining() != 0) {
    return InvalidArgumentError(
        "Bad data format: " + std::to_string(in.remaining()) +
        " bytes after the value");
  }
  if (decoder.empty()) {
    return InvalidArgumentError("Bad data format: empty " + RdbTypeName(type));
  }
  return decoder.Take();
}

std::string RestoreErrorReply(const Status& status) {
  switch (status.code()) {
    case StatusCode::kCorruption:
      return "ERR " + std::string(kFooterError);
    case StatusCode::kNotSupported:
      return "ERR Bad data format: " + std::string(status.message());
    default:
      return "ERR Bad data format";
  }
}

}  // namespace daxkv::rdb
