#include "rdb/writer.h"

#include <cstdio>
#include <memory>

#include "rdb/crc64.h"
#include "rdb/format.h"
#include "rdb/numbers.h"

namespace daxkv::rdb {

// Buffers encoded bytes, checksums them and hands them to the sink in
// pieces; remembers the sink's first error.
class RdbWriter::Buffer final : public ByteSink {
 public:
  static constexpr size_t kFlushAt = 64 << 10;

  explicit Buffer(Sink sink) : sink_(std::move(sink)) {}

  void Append(std::string_view bytes) override {
    if (!status_.ok()) return;
    buf_.append(bytes);
    if (buf_.size() >= kFlushAt) Flush();
  }

  void Flush() {
    if (!status_.ok() || buf_.empty()) return;
    crc_ = crc64::Extend(crc_, buf_);
    flushed_ += buf_.size();
    status_ = sink_(buf_);
    buf_.clear();
  }

  // The CRC of everything appended so far.
  uint64_t Crc() {
    Flush();
    return crc_;
  }

  const Status& status() const { return status_; }
  uint64_t total() const { return flushed_ + buf_.size(); }

 private:
  Sink sink_;
  std::string buf_;
  uint64_t crc_ = 0;
  uint64_t flushed_ = 0;
  Status status_;
};

RdbWriter::RdbWriter(Sink sink, EncodeOptions opts)
    : opts_(opts), out_(std::make_unique<Buffer>(std::move(sink))) {}

RdbWriter::~RdbWriter() = default;

uint64_t RdbWriter::bytes_written() const { return out_->total(); }

Status RdbWriter::Expect(State want, const char* what) {
  DAXKV_RETURN_IF_ERROR(out_->status());
  if (state_ != want) {
    return FailedPreconditionError(std::string("RdbWriter: ") + what +
                                   " called out of order");
  }
  return OkStatus();
}

Status RdbWriter::WriteAux(std::string_view key, std::string_view value) {
  WriteByte(out_.get(), kOpAux);
  WriteString(out_.get(), key, opts_.rdb_compression);
  WriteString(out_.get(), value, opts_.rdb_compression);
  return out_->status();
}

Status RdbWriter::Begin(const RdbAuxInfo& aux) {
  DAXKV_RETURN_IF_ERROR(Expect(State::kNew, "Begin"));
  char magic[16];
  std::snprintf(magic, sizeof(magic), "REDIS%04d", kRdbVersion);
  out_->Append(std::string_view(magic, 9));
  DAXKV_RETURN_IF_ERROR(WriteAux("redis-ver", aux.redis_ver));
  DAXKV_RETURN_IF_ERROR(WriteAux("redis-bits", "64"));
  DAXKV_RETURN_IF_ERROR(WriteAux("ctime", Int64ToString(aux.ctime)));
  DAXKV_RETURN_IF_ERROR(WriteAux("used-mem", Int64ToString(aux.used_mem)));
  if (aux.replication) {
    const auto& r = *aux.replication;
    DAXKV_RETURN_IF_ERROR(
        WriteAux("repl-stream-db", Int64ToString(r.stream_db)));
    DAXKV_RETURN_IF_ERROR(WriteAux("repl-id", r.repl_id));
    DAXKV_RETURN_IF_ERROR(WriteAux("repl-offset", Int64ToString(r.offset)));
  }
  DAXKV_RETURN_IF_ERROR(WriteAux("aof-base", aux.aof_base ? "1" : "0"));
  for (const auto& [key, value] : aux.extra) {
    DAXKV_RETURN_IF_ERROR(WriteAux(key, value));
  }
  state_ = State::kHeader;
  return out_->status();
}

Status RdbWriter::WriteFunction(std::string_view library_code) {
  DAXKV_RETURN_IF_ERROR(Expect(State::kHeader, "WriteFunction"));
  WriteByte(out_.get(), kOpFunction2);
  WriteString(out_.get(), library_code, opts_.rdb_compression);
  return out_->status();
}

Status RdbWriter::SelectDb(uint64_t db, uint64_t keys, uint64_t expires) {
  if (state_ != State::kDb) {
    DAXKV_RETURN_IF_ERROR(Expect(State::kHeader, "SelectDb"));
  }
  DAXKV_RETURN_IF_ERROR(out_->status());
  WriteByte(out_.get(), kOpSelectDb);
  WriteLen(out_.get(), db);
  WriteByte(out_.get(), kOpResizeDb);
  WriteLen(out_.get(), keys);
  WriteLen(out_.get(), expires);
  state_ = State::kDb;
  return out_->status();
}

Status RdbWriter::WriteKey(std::string_view key, const Value& value,
                           std::optional<int64_t> expire_ms) {
  DAXKV_RETURN_IF_ERROR(Expect(State::kDb, "WriteKey"));
  Status encodable = CheckEncodable(value);
  if (!encodable.ok()) {
    return encodable.WithContext("key '" + std::string(key) + "'");
  }
  if (expire_ms) {
    WriteByte(out_.get(), kOpExpireTimeMs);
    WriteU64LE(out_.get(), static_cast<uint64_t>(*expire_ms));
  }
  uint8_t type = ChooseRdbType(value, opts_);
  WriteByte(out_.get(), type);
  WriteString(out_.get(), key, opts_.rdb_compression);
  EncodeValueBody(value, type, opts_, out_.get());
  return out_->status();
}

Status RdbWriter::Finish() {
  if (state_ != State::kDb) {
    DAXKV_RETURN_IF_ERROR(Expect(State::kHeader, "Finish"));
  }
  DAXKV_RETURN_IF_ERROR(out_->status());
  WriteByte(out_.get(), kOpEof);
  uint64_t crc = out_->Crc();
  WriteU64LE(out_.get(), crc);
  out_->Flush();
  state_ = State::kFinished;
  return out_->status();
}

}  // namespace daxkv::rdb
