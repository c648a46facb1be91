// A collection key as an rdb::Value and back: DUMP and RESTORE of hashes,
// lists, sets and sorted sets (kv/cmd_dump.cc), and the Redis encoding
// names OBJECT ENCODING and DUMP follow.
#ifndef DAXKV_KV_COLL_VALUE_H_
#define DAXKV_KV_COLL_VALUE_H_

#include <string_view>

#include "base/status.h"
#include "base/statusor.h"
#include "engine/key_type.h"
#include "engine/txn.h"
#include "rdb/encoder.h"
#include "rdb/value.h"

namespace daxkv::kv {

// Reads every element of the collection `key` of type `type` (not
// kString: a string is read with Get).
StatusOr<rdb::Value> ReadCollection(engine::ReadOps& ops, std::string_view key,
                                    engine::KeyType type);

// The value of `key` of any type (`type` from Stat, not kNone): a string
// read with Get, a collection with ReadCollection. MIGRATE's read.
StatusOr<rdb::Value> ReadKeyValue(engine::ReadOps& ops, std::string_view key,
                                  engine::KeyType type);

// Creates `key` holding `value` (a collection). REQUIRES: `key` is absent
// in `txn` (deleted first for REPLACE); rdb's invariants hold for `value`.
Status WriteCollection(engine::Txn& txn, std::string_view key,
                       const rdb::Value& value);

// Redis 7.0's OBJECT ENCODING name for a collection (kString excluded),
// from the engine's form and hints and set-max-intset-entries.
std::string_view CollectionEncoding(const engine::KeyInfo& info,
                                    uint64_t intset_max);

// The encoding choices a DUMP or MIGRATE of `info`'s key makes as Redis
// would: a set is saved as an intset exactly when OBJECT ENCODING calls it
// one.
rdb::EncodeOptions DumpOptions(const engine::KeyInfo& info,
                               int64_t set_max_intset_entries);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_COLL_VALUE_H_
