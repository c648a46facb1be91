// RdbStreamReader: parses an RDB stream (versions 1..10) fed in arbitrary
// chunks, as a replica receives it from its master, calling a visitor per
// key. It holds at most one unfinished element (a string, or one encoded
// blob such as a quicklist node) plus the value being assembled, so a
// multi-GB stream passes through in bounded memory.
//
// Opcodes: AUX (to the visitor), FUNCTION2 (to the visitor; refused by
// default), MODULE_AUX (skipped when the module saved nothing, refused
// otherwise), SELECTDB (database 0 only unless Options say otherwise),
// RESIZEDB (a hint to the visitor), EXPIRETIME / EXPIRETIME_MS (the next
// key's expiry), IDLE and FREQ (ignored: daxkv keeps no LRU/LFU state),
// EOF and the CRC-64 trailer (verified unless it is 0, "checksum disabled",
// which Redis accepts too).
//
// Keys whose value has no elements are skipped, as Redis does (counted in
// empty_keys_skipped()). Expired keys are passed on with their expiry: the
// visitor decides (a replica keeps them; a master loading a file drops
// them).
//
// Errors (the reader stops at the first and returns it from then on):
//   Corruption     malformed bytes, a bad signature or CRC;
//   NotSupported   what daxkv cannot hold: module values, module
//                  AUX data, another database under kRefuse, functions when
//                  the visitor does not take them, RDB versions above 10;
//   IOError        (Finish) the input ended before the RDB did;
//   the visitor's own error, unchanged.
// Messages carry the stream offset of the failing item.
//
// Thread-safety: one thread at a time.
#ifndef DAXKV_RDB_READER_H_
#define DAXKV_RDB_READER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "rdb/decoder.h"
#include "rdb/value.h"

namespace daxkv::rdb {

class RdbVisitor {
 public:
  virtual ~RdbVisitor() = default;

  virtual Status OnAux(std::string_view key, std::string_view value);
  // A FUNCTION2 record: one library's code (its "#!engine name=..." line
  // included). Default: NotSupported, so a master's functions are never
  // dropped silently.
  virtual Status OnFunction(std::string_view library_code);
  // RESIZEDB: how many keys (and keys with an expiry) database `db` holds.
  virtual Status OnResizeDb(uint64_t db, uint64_t keys, uint64_t expires);
  // One key with its value and expiry.
  virtual Status OnKey(uint64_t db, std::string key, Object object) = 0;
};

class RdbStreamReader {
 public:
  struct Options {
    enum class OtherDbs {
      kRefuse,       // SELECTDB n != 0 fails the load (daxkv serves db 0)
      kMapToDb0,     // every key is reported as db 0
      kPassThrough,  // keys are reported with their database number
    };
    OtherDbs other_dbs = OtherDbs::kRefuse;
    bool verify_checksum = true;
  };

  // `visitor` must outlive the reader.
  explicit RdbStreamReader(RdbVisitor* visitor);
  RdbStreamReader(RdbVisitor* visitor, Options options);

  // Parses the next bytes of the stream. When the RDB ends inside `data`
  // and `consumed` is given, *consumed says how many bytes belonged to it
  // (the rest is the caller's: in replication, the master's command
  // stream); without `consumed`, bytes after the end are an error. While
  // the RDB has not ended, every byte is consumed.
  Status Feed(std::string_view data, size_t* consumed = nullptr);

  // The input has ended: OK only when the RDB is complete.
  Status Finish();

  bool done() const { return state_ == State::kDone; }
  int rdb_version() const { return version_; }
  uint64_t bytes_consumed() const { return offset_; }
  uint64_t keys_loaded() const { return keys_; }
  uint64_t empty_keys_skipped() const { return empty_keys_; }
  // Bytes held for an unfinished item (at most one element or blob).
  size_t buffered_bytes() const { return buf_.size(); }
  // After done(): false when the stream carried checksum 0 (disabled) or
  // verification was turned off.
  bool checksum_verified() const { return checksum_verified_; }

 private:
  enum class State { kMagic, kOpcode, kValue, kChecksum, kDone };

  // Parses whole items from `window`; returns the bytes consumed.
  size_t Parse(std::string_view window);
  Rd Step(Input* in);
  Rd StepMagic(Input* in);
  Rd StepOpcode(Input* in);
  Rd StepValue(Input* in);
  Rd StepChecksum(Input* in);
  Rd StepKeyAttribute(uint8_t op, Input* in);
  Rd StepSelectDb(Input* in);
  Rd StepModuleAux(Input* in);
  Rd Visit(Status s, Input* in);
  // The current key for an error message: printable, at most 64 bytes.
  std::string KeyForMessage() const;

  RdbVisitor* visitor_;
  Options options_;
  State state_ = State::kMagic;
  Status status_;
  std::string buf_;      // bytes of an unfinished item
  size_t need_ = 0;      // buf_ must reach this size before parsing again
  uint64_t offset_ = 0;  // stream bytes consumed
  uint64_t crc_ = 0;
  int version_ = 0;
  uint64_t db_ = 0;
  std::optional<int64_t> expire_ms_;
  std::string key_;
  uint8_t type_ = 0;
  ObjectDecoder decoder_;
  uint64_t keys_ = 0;
  uint64_t empty_keys_ = 0;
  bool checksum_verified_ = false;
};

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_READER_H_
