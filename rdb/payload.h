// DUMP / RESTORE payloads, byte-compatible with Redis 7.0.15: the object's
// type byte and body, the RDB version (2 bytes, little-endian; 10 when
// encoding) and a CRC-64/Jones of everything before it (8 bytes,
// little-endian).
//
// Thread-safety: pure functions.
#ifndef DAXKV_RDB_PAYLOAD_H_
#define DAXKV_RDB_PAYLOAD_H_

#include <string>
#include <string_view>

#include "base/status.h"
#include "base/statusor.h"
#include "rdb/encoder.h"
#include "rdb/value.h"

namespace daxkv::rdb {

// What DUMP returns for `value`, encoded as Redis 7.0 would (encoder.h).
// InvalidArgument for an empty collection or a NaN score.
StatusOr<std::string> EncodeDumpPayload(const Value& value,
                                        const EncodeOptions& opts = {});

// What RESTORE accepts. Errors:
//  - Corruption: the footer fails (payload under 10 bytes, RDB version
//    above 10, CRC mismatch); Redis replies "ERR DUMP payload version or
//    checksum are wrong".
//  - InvalidArgument: the body is malformed, truncated, followed by extra
//    bytes, or an empty collection; Redis replies "ERR Bad data format".
//  - NotSupported: a module value, which daxkv cannot hold; the message
//    names the module type.
StatusOr<Value> DecodeDumpPayload(std::string_view payload);

// The RESTORE error reply (without the leading '-') for a status returned
// by DecodeDumpPayload: Redis's exact texts for the first two classes,
// "ERR Bad data format: <why>" for unsupported types.
std::string RestoreErrorReply(const Status& status);

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_PAYLOAD_H_
