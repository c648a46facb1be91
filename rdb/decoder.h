// RDB object body -> Value, for every encoding Redis 7.0 reads (RDB 1..10):
// plain string/list/set/hash, zset with decimal or binary scores, zipmap,
// ziplists, intset, listpacks, quicklist 1 and 2, streams (15, 19) without
// consumer groups. Module values and consumer groups are refused
// (kUnsupported) with what is missing named: daxkv cannot hold them.
//
// Decoding is resumable, so the stream reader can feed a value that arrives
// in pieces without buffering more than one element (one string, or one
// encoded blob) beyond what it has decoded.
//
// Everything is validated as Redis's deep sanitisation would (blob
// integrity, duplicate members or fields, NaN scores), plus trailing bytes
// inside blobs; hostile input yields kBad, never a crash.
//
// Thread-safety: one thread at a time.
#ifndef DAXKV_RDB_DECODER_H_
#define DAXKV_RDB_DECODER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "rdb/input.h"
#include "rdb/value.h"

namespace daxkv::rdb {

class ObjectDecoder {
 public:
  // Begins a value of RDB type `type` (any byte; unknown types fail in
  // Continue).
  void Start(uint8_t type);

  // Reads the value's body from `in`. Returns kOk once it is complete;
  // kShort when `in` ends first, with `in` rewound to the start of the
  // first unfinished element (call again with a window starting there);
  // kBad or kUnsupported with in->error() saying why.
  Rd Continue(Input* in);

  // After kOk: true when the value had no elements. Redis skips such keys
  // when loading an RDB and refuses them in RESTORE (not streams, which
  // may be empty).
  bool empty() const {
    return KindOf(value_) != ValueKind::kStream && ElementCount(value_) == 0;
  }

  // After kOk: the value, moved out.
  Value Take() { return std::move(value_); }

 private:
  enum class Phase { kCount, kElements, kDone };

  Rd ReadCount(Input* in);
  Rd ReadElement(Input* in);
  Rd ReadBlobValue(Input* in);
  Rd ReadQuicklistNode(Input* in);
  Rd ReadStreamNode(Input* in);
  Rd ReadStreamTrailer(Input* in);
  Rd ReadModule(Input* in);
  Rd Finish(Input* in);
  Rd Fail(Input* in, const std::string& why);

  uint8_t type_ = 0;
  Phase phase_ = Phase::kDone;
  uint64_t remaining_ = 0;
  Value value_;
  std::vector<std::string> scratch_;
};

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_DECODER_H_
