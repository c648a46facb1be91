// Value -> RDB object encoding, choosing what Redis 7.0 would: listpacks for
// small hashes and sorted sets, an intset for a small all-integer set, a
// quicklist 2 of listpack nodes for any list, the plain encodings otherwise,
// and rdbSaveRawString's integer and LZF forms for every string inside.
//
// Thread-safety: pure functions over caller-owned data.
#ifndef DAXKV_RDB_ENCODER_H_
#define DAXKV_RDB_ENCODER_H_

#include <cstdint>

#include "base/status.h"
#include "rdb/output.h"
#include "rdb/value.h"

namespace daxkv::rdb {

// The Redis 7.0 configuration that decides encodings, with its defaults
// (the compiled-in ones, which Debian's redis.conf repeats: note 512 hash
// entries but 128 sorted-set entries).
struct EncodeOptions {
  int64_t hash_max_listpack_entries = 512;
  int64_t hash_max_listpack_value = 64;
  int64_t zset_max_listpack_entries = 128;
  int64_t zset_max_listpack_value = 64;
  int64_t set_max_intset_entries = 512;
  // list-max-listpack-size: negative = a node size limit of 4, 8, 16, 32 or
  // 64 KiB (-1..-5); positive = an element count per node.
  int list_max_listpack_size = -2;
  bool rdb_compression = true;  // rdbcompression: LZF for strings > 20 bytes
};

// The RDB type byte Redis 7.0 saves `value` with under `opts`.
uint8_t ChooseRdbType(const Value& value, const EncodeOptions& opts);

// InvalidArgument when `value` breaks an invariant Encode can check cheaply
// (an empty collection, a NaN score, a stream's consumer groups out of
// order or a pending entry without its consumer: CheckStreamGroups).
// Duplicate members and fields are not looked for: the caller guarantees
// there are none (value.h).
Status CheckEncodable(const Value& value);

// Writes the object body (no type byte) in the encoding `type` names.
// REQUIRES: type == ChooseRdbType(value, opts); CheckEncodable(value) is OK.
void EncodeValueBody(const Value& value, uint8_t type,
                     const EncodeOptions& opts, ByteSink* out);

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_ENCODER_H_
