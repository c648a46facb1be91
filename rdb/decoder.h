// RDB object body -> Value, for every encoding Redis 7.0 reads (RDB 1..10):
// plain string/list/set/hash, zset with decimal or binary scores, zipmap,
// ziplists, intset, listpacks, quicklist 1 and 2, streams (15, 19) with
// their consumer groups. Module values are refused (kUnsupported) with the
// module named: daxkv cannot hold them.
//
// Decoding is resumable, so the stream reader can feed a value that arrives
// in pieces without buffering more than one element (one string, one
// encoded blob, or one small piece of a stream's groups: a group's header,
// a pending entry, a consumer) beyond what it has decoded.
//
// Everything is validated as Redis's deep sanitisation would (blob
// integrity, duplicate members or fields, NaN scores, consumer groups as
// rdb/stream_groups.h says), plus trailing bytes inside blobs; hostile
// input yields kBad, never a crash.
//
// Thread-safety: one thread at a time.
#ifndef DAXKV_RDB_DECODER_H_
#define DAXKV_RDB_DECODER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "rdb/input.h"
#include "rdb/stream_groups.h"
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
  Rd ReadStreamTail(Input* in);
  Rd ReadModule(Input* in);
  Rd Finish(Input* in);
  Rd Fail(Input* in, const std::string& why);

  uint8_t type_ = 0;
  Phase phase_ = Phase::kDone;
  uint64_t remaining_ = 0;
  Value value_;
  std::vector<std::string> scratch_;
  bool stream_trailer_read_ = false;
  StreamGroupReader groups_;
};

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_DECODER_H_
