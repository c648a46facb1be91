#include "rdb/sync_payload.h"

#include <algorithm>

namespace daxkv::rdb {
namespace {

// A header line longer than this is not a bulk header.
constexpr size_t kMaxHeaderLine = 1024;

}  // namespace

Status SyncPayloadReader::Feed(std::string_view data, size_t* consumed) {
  *consumed = 0;
  DAXKV_RETURN_IF_ERROR(status_);
  while (!data.empty() && !done() && status_.ok()) {
    size_t used = 0;
    switch (state_) {
      case State::kHeader:
        status_ = FeedHeader(data, &used);
        break;
      case State::kBody:
        status_ = FeedBody(data, &used);
        break;
      case State::kMark:
        status_ = FeedMark(data, &used);
        break;
      case State::kDone:
        break;
    }
    *consumed += used;
    data.remove_prefix(used);
  }
  return status_;
}

Status SyncPayloadReader::Finish() {
  DAXKV_RETURN_IF_ERROR(status_);
  if (!done()) {
    status_ =
        IOError("the replication link closed before the RDB payload " +
                std::string(state_ == State::kHeader ? "header" : "ended"));
  }
  return status_;
}

Status SyncPayloadReader::FeedHeader(std::string_view data, size_t* used) {
  size_t nl = data.find('\n');
  size_t take = nl == std::string_view::npos ? data.size() : nl + 1;
  line_.append(data.substr(0, take));
  *used = take;
  if (nl == std::string_view::npos) {
    if (line_.size() > kMaxHeaderLine) {
      return FailedPreconditionError(
          "bad protocol from the master: no end to its payload header");
    }
    return OkStatus();
  }
  std::string line = std::move(line_);
  line_.clear();
  line.pop_back();
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return OkStatus();  // a keepalive
  return ParseHeaderLine(line);
}

Status SyncPayloadReader::ParseHeaderLine(std::string_view line) {
  if (line[0] == '-') {
    return FailedPreconditionError("the master aborted replication: " +
                                   std::string(line.substr(1)));
  }
  if (line[0] != '$') {
    return FailedPreconditionError(
        "bad protocol from the master: the payload header does not start "
        "with '$'");
  }
  std::string_view rest = line.substr(1);
  if (rest.substr(0, 4) == "EOF:" && rest.size() >= 4 + kEofMarkSize) {
    diskless_ = true;
    mark_.assign(rest.substr(4, kEofMarkSize));
    state_ = State::kBody;
    return OkStatus();
  }
  uint64_t len = 0;
  if (rest.empty() || rest.size() > 19) {
    return FailedPreconditionError("bad payload length from the master");
  }
  for (char c : rest) {
    if (c < '0' || c > '9') {
      return FailedPreconditionError("bad payload length from the master");
    }
    len = len * 10 + static_cast<uint64_t>(c - '0');
  }
  announced_ = body_left_ = len;
  state_ = State::kBody;
  return OkStatus();
}

Status SyncPayloadReader::FeedBody(std::string_view data, size_t* used) {
  if (!diskless_)
    data = data.substr(0, std::min<uint64_t>(data.size(), body_left_));
  size_t rdb_used = 0;
  DAXKV_RETURN_IF_ERROR(rdb_->Feed(data, &rdb_used));
  *used = rdb_used;
  if (diskless_) {
    if (rdb_->done()) state_ = State::kMark;
    return OkStatus();
  }
  body_left_ -= rdb_used;
  if (rdb_->done() && body_left_ != 0) {
    return CorruptionError("the RDB ended " + std::to_string(body_left_) +
                           " bytes before the announced payload length");
  }
  if (body_left_ == 0) {
    if (!rdb_->done()) {
      return CorruptionError(
          "the announced payload length ended inside the RDB");
    }
    state_ = State::kDone;
  }
  return OkStatus();
}

Status SyncPayloadReader::FeedMark(std::string_view data, size_t* used) {
  size_t take = std::min(data.size(), kEofMarkSize - mark_seen_);
  if (data.substr(0, take) !=
      std::string_view(mark_).substr(mark_seen_, take)) {
    return CorruptionError(
        "the diskless payload's end mark does not follow the RDB");
  }
  mark_seen_ += take;
  *used = take;
  if (mark_seen_ == kEofMarkSize) state_ = State::kDone;
  return OkStatus();
}

}  // namespace daxkv::rdb
