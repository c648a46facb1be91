// RdbWriter: an RDB 10 stream as Redis 7.0's rdbSaveRio writes it, pushed
// to a sink in pieces of about 64 KiB, so a multi-GB snapshot never sits in
// memory:
//   "REDIS0010", AUX fields (redis-ver, redis-bits, ctime, used-mem, and for
//   replication repl-stream-db, repl-id, repl-offset; then aof-base), the
//   FUNCTION2 libraries, per non-empty database SELECTDB + RESIZEDB and its
//   keys (EXPIRETIME_MS before a key that expires), EOF, and the CRC-64 of
//   everything before it.
// The diskless replication framing ("$EOF:<mark>\r\n" ... "<mark>") is the
// caller's: it wraps the bytes this writer produces.
//
// Thread-safety: one thread at a time.
#ifndef DAXKV_RDB_WRITER_H_
#define DAXKV_RDB_WRITER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "rdb/encoder.h"
#include "rdb/output.h"
#include "rdb/value.h"

namespace daxkv::rdb {

struct RdbAuxInfo {
  // The format version this stream matches; tools and replicas log it.
  std::string redis_ver = "7.0.15";
  int64_t ctime = 0;     // Unix seconds
  int64_t used_mem = 0;  // bytes
  struct Replication {
    int64_t stream_db = 0;
    std::string repl_id;  // 40 characters
    int64_t offset = 0;
  };
  // Present in an RDB made for a replica (or for a later partial resync).
  std::optional<Replication> replication;
  bool aof_base = false;
  // More AUX fields after aof-base; Redis ignores names it does not know.
  std::vector<std::pair<std::string, std::string>> extra;
};

class RdbWriter {
 public:
  // Receives the stream in order. A non-OK return stops the writer: every
  // later call returns that status.
  using Sink = std::function<Status(std::string_view)>;

  explicit RdbWriter(Sink sink, EncodeOptions opts = {});
  ~RdbWriter();

  // The header and AUX fields. REQUIRES: first call.
  Status Begin(const RdbAuxInfo& aux);
  // One FUNCTION2 record (a library's code). REQUIRES: before SelectDb.
  Status WriteFunction(std::string_view library_code);
  // Starts database `db`, announcing its key and expiry counts (RESIZEDB,
  // a hint for the loader). Redis writes nothing for an empty database.
  Status SelectDb(uint64_t db, uint64_t keys, uint64_t expires);
  // One key. InvalidArgument (and nothing written) for a value Encode
  // refuses (encoder.h CheckEncodable). REQUIRES: after SelectDb.
  Status WriteKey(std::string_view key, const Value& value,
                  std::optional<int64_t> expire_ms);
  Status WriteKey(std::string_view key, const Object& object) {
    return WriteKey(key, object.value, object.expire_ms);
  }
  // EOF and the checksum; flushes everything to the sink.
  Status Finish();

  // Bytes handed to the sink or waiting in the buffer.
  uint64_t bytes_written() const;

 private:
  class Buffer;
  enum class State { kNew, kHeader, kDb, kFinished };

  Status Expect(State want, const char* what);
  Status WriteAux(std::string_view key, std::string_view value);

  EncodeOptions opts_;
  std::unique_ptr<Buffer> out_;
  State state_ = State::kNew;
};

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_WRITER_H_
