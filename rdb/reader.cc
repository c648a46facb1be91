#include "rdb/reader.h"

#include "rdb/bytes.h"
#include "rdb/crc64.h"
#include "rdb/format.h"

namespace daxkv::rdb {

Status RdbVisitor::OnAux(std::string_view, std::string_view) {
  return OkStatus();
}

Status RdbVisitor::OnFunction(std::string_view) {
  return NotSupportedError(
      "the RDB carries function libraries (FUNCTION2), which this loader "
      "does not take");
}

Status RdbVisitor::OnResizeDb(uint64_t, uint64_t, uint64_t) {
  return OkStatus();
}

RdbStreamReader::RdbStreamReader(RdbVisitor* visitor)
    : RdbStreamReader(visitor, Options()) {}

RdbStreamReader::RdbStreamReader(RdbVisitor* visitor, Options options)
    : visitor_(visitor), options_(options) {}

Status RdbStreamReader::Feed(std::string_view data, size_t* consumed) {
  if (consumed != nullptr) *consumed = 0;
  DAXKV_RETURN_IF_ERROR(status_);
  size_t used = 0;
  if (!done() && !data.empty()) {
    used = data.size();
    if (buf_.empty()) {
      size_t n = Parse(data);
      if (done()) {
        used = n;
      } else {
        buf_.assign(data.substr(n));
      }
    } else {
      size_t held = buf_.size();
      buf_.append(data);
      if (buf_.size() >= need_) {
        size_t n = Parse(buf_);
        if (done()) {
          used = n - held;  // the held bytes were part of an unfinished item
          buf_.clear();
        } else {
          buf_.erase(0, n);
        }
      }
    }
  }
  DAXKV_RETURN_IF_ERROR(status_);
  if (consumed != nullptr) {
    *consumed = used;
  } else if (used < data.size()) {
    status_ = CorruptionError(std::to_string(data.size() - used) +
                              " bytes after the end of the RDB");
  }
  return status_;
}

Status RdbStreamReader::Finish() {
  DAXKV_RETURN_IF_ERROR(status_);
  if (!done()) {
    status_ = IOError("the RDB stream ended after " +
                      std::to_string(offset_ + buf_.size()) +
                      " bytes, before its end");
  }
  return status_;
}

size_t RdbStreamReader::Parse(std::string_view window) {
  Input in(window);
  while (!done()) {
    size_t start = in.pos();
    bool checksum = state_ == State::kChecksum;
    Rd r = Step(&in);
    // Items are checksummed as they complete; the trailer is not.
    if (!checksum) crc_ = crc64::Extend(crc_, in.Span(start));
    if (r == Rd::kOk) continue;
    if (r == Rd::kShort) {
      need_ = in.needed() - in.pos();
    } else if (status_.ok()) {
      std::string msg =
          "RDB offset " + std::to_string(offset_ + start) + ": " + in.error();
      status_ =
          r == Rd::kUnsupported ? NotSupportedError(msg) : CorruptionError(msg);
    }
    break;
  }
  offset_ += in.pos();
  return in.pos();
}

Rd RdbStreamReader::Step(Input* in) {
  size_t start = in->pos();
  State before = state_;
  Rd r = Rd::kOk;
  switch (state_) {
    case State::kMagic:
      r = StepMagic(in);
      break;
    case State::kOpcode:
      r = StepOpcode(in);
      break;
    case State::kValue:
      r = StepValue(in);
      break;
    case State::kChecksum:
      r = StepChecksum(in);
      break;
    case State::kDone:
      break;
  }
  // The value decoder keeps the elements it finished; anything else is
  // read again whole.
  if (r == Rd::kShort && before != State::kValue) in->Rewind(start);
  return r;
}

Rd RdbStreamReader::Visit(Status s, Input* in) {
  if (s.ok()) return Rd::kOk;
  status_ = std::move(s);
  return in->Fail(std::string(status_.message()));
}

Rd RdbStreamReader::StepMagic(Input* in) {
  std::string_view magic;
  DAXKV_RD(in->Bytes(9, &magic));
  if (magic.substr(0, 5) != "REDIS")
    return in->Fail("not an RDB: bad signature");
  int version = 0;
  for (char c : magic.substr(5)) {
    if (c < '0' || c > '9') return in->Fail("not an RDB: bad version digits");
    version = version * 10 + (c - '0');
  }
  if (version < 1) return in->Fail("RDB version 0 does not exist");
  if (version > kRdbVersion) {
    return in->Unsupported("RDB version " + std::to_string(version) +
                           " is newer than " + std::to_string(kRdbVersion) +
                           " (Redis 7.0), the newest this reader knows");
  }
  version_ = version;
  state_ = State::kOpcode;
  return Rd::kOk;
}

Rd RdbStreamReader::StepOpcode(Input* in) {
  uint8_t op;
  DAXKV_RD(in->Byte(&op));
  switch (op) {
    case kOpExpireTime:
    case kOpExpireTimeMs:
    case kOpFreq:
    case kOpIdle:
      return StepKeyAttribute(op, in);
    case kOpEof:
      state_ = version_ >= 5 ? State::kChecksum : State::kDone;
      return Rd::kOk;
    case kOpSelectDb:
      return StepSelectDb(in);
    case kOpResizeDb: {
      uint64_t keys, expires;
      DAXKV_RD(in->Len(&keys));
      DAXKV_RD(in->Len(&expires));
      return Visit(visitor_->OnResizeDb(db_, keys, expires), in);
    }
    case kOpAux: {
      std::string key, value;
      DAXKV_RD(in->String(&key));
      DAXKV_RD(in->String(&value));
      return Visit(visitor_->OnAux(key, value), in);
    }
    case kOpModuleAux:
      return StepModuleAux(in);
    case kOpFunctionPreGa:
      return in->Fail("pre-release function format not supported");
    case kOpFunction2: {
      std::string code;
      DAXKV_RD(in->String(&code));
      return Visit(visitor_->OnFunction(code), in);
    }
    default:
      break;
  }
  if (!IsObjectType(op)) {
    return in->Fail("unknown object type or opcode " + std::to_string(op));
  }
  DAXKV_RD(in->String(&key_));
  type_ = op;
  decoder_.Start(op);
  state_ = State::kValue;
  return Rd::kOk;
}

// Opcodes that describe the next key: its expiry, or LRU/LFU state that
// daxkv does not keep.
Rd RdbStreamReader::StepKeyAttribute(uint8_t op, Input* in) {
  uint64_t v;
  switch (op) {
    case kOpExpireTime:  // seconds, int32
      DAXKV_RD(in->FixedLE(4, &v));
      expire_ms_ = SignExtend(v, 32) * 1000;
      return Rd::kOk;
    case kOpExpireTimeMs:
      DAXKV_RD(in->FixedLE(8, &v));
      expire_ms_ = static_cast<int64_t>(v);
      return Rd::kOk;
    case kOpFreq:
      return in->FixedLE(1, &v);
    default:  // kOpIdle
      return in->Len(&v);
  }
}

Rd RdbStreamReader::StepSelectDb(Input* in) {
  uint64_t db;
  DAXKV_RD(in->Len(&db));
  if (db != 0 && options_.other_dbs == Options::OtherDbs::kRefuse) {
    return in->Unsupported("the RDB holds keys of database " +
                           std::to_string(db) +
                           "; daxkv serves database 0 only");
  }
  db_ = options_.other_dbs == Options::OtherDbs::kPassThrough ? db : 0;
  return Rd::kOk;
}

Rd RdbStreamReader::StepModuleAux(Input* in) {
  uint64_t module_id, when_opcode, when, first;
  DAXKV_RD(in->Len(&module_id));
  DAXKV_RD(in->Len(&when_opcode));
  DAXKV_RD(in->Len(&when));
  if (when_opcode != kModuleOpUint)
    return in->Fail("module AUX: bad when_opcode");
  DAXKV_RD(in->Len(&first));
  if (first == kModuleOpEof) return Rd::kOk;  // the module saved nothing
  return in->Unsupported("module auxiliary data of module type '" +
                         ModuleTypeName(module_id) +
                         "': daxkv loads no modules");
}

Rd RdbStreamReader::StepValue(Input* in) {
  Rd r = decoder_.Continue(in);
  if (r == Rd::kBad) return in->Fail(KeyForMessage() + ": " + in->error());
  if (r == Rd::kUnsupported) {
    return in->Unsupported(KeyForMessage() + " holds " + in->error());
  }
  if (r != Rd::kOk) return r;
  state_ = State::kOpcode;
  std::optional<int64_t> expire = expire_ms_;
  expire_ms_.reset();
  if (decoder_.empty()) {
    ++empty_keys_;
    return Rd::kOk;
  }
  ++keys_;
  return Visit(
      visitor_->OnKey(db_, std::move(key_), Object{decoder_.Take(), expire}),
      in);
}

std::string RdbStreamReader::KeyForMessage() const {
  constexpr size_t kShown = 64;
  std::string shown = key_.substr(0, kShown);
  for (char& c : shown) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return "key '" + shown + (key_.size() > kShown ? "...'" : "'");
}

Rd RdbStreamReader::StepChecksum(Input* in) {
  uint64_t stored;
  DAXKV_RD(in->FixedLE(8, &stored));
  checksum_verified_ = options_.verify_checksum && stored != 0;
  if (checksum_verified_ && stored != crc_) {
    return in->Fail("RDB CRC64 mismatch: the stream says " +
                    std::to_string(stored) + ", the bytes give " +
                    std::to_string(crc_));
  }
  state_ = State::kDone;
  return Rd::kOk;
}

}  // namespace daxkv::rdb
