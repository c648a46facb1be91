// SyncPayloadReader: the RDB a master sends after "+FULLRESYNC", in either
// of Redis's two framings, fed to an RdbStreamReader:
//   disk-based  "$<len>\r\n" then exactly <len> RDB bytes;
//   diskless    "$EOF:<40-byte mark>\r\n", the RDB, then the same mark.
// Empty lines before the header are the master's keepalives (it sends "\n"
// while it prepares the RDB) and are skipped; a "-ERR ..." line is the
// master's refusal.
//
// Thread-safety: one thread at a time.
#ifndef DAXKV_RDB_SYNC_PAYLOAD_H_
#define DAXKV_RDB_SYNC_PAYLOAD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "rdb/reader.h"

namespace daxkv::rdb {

class SyncPayloadReader {
 public:
  static constexpr size_t kEofMarkSize = 40;  // RDB_EOF_MARK_SIZE

  // `rdb` must outlive this reader and be fresh.
  explicit SyncPayloadReader(RdbStreamReader* rdb) : rdb_(rdb) {}

  // Feeds bytes read from the master. *consumed says how many belong to the
  // payload; once done(), the rest of `data` is the master's command stream.
  // Errors: the master's "-ERR" line or a bad header (FailedPrecondition,
  // with the master's text), the RDB reader's errors, Corruption when the
  // RDB and its framing disagree (length or end mark).
  Status Feed(std::string_view data, size_t* consumed);

  // The link closed: OK only when the payload was complete.
  Status Finish();

  bool done() const { return state_ == State::kDone; }
  bool diskless() const { return diskless_; }
  // The payload bytes announced by "$<len>" (0 for diskless).
  uint64_t announced_size() const { return announced_; }

 private:
  enum class State { kHeader, kBody, kMark, kDone };

  Status FeedHeader(std::string_view data, size_t* used);
  Status ParseHeaderLine(std::string_view line);
  Status FeedBody(std::string_view data, size_t* used);
  Status FeedMark(std::string_view data, size_t* used);

  RdbStreamReader* rdb_;
  State state_ = State::kHeader;
  Status status_;
  std::string line_;
  bool diskless_ = false;
  std::string mark_;
  size_t mark_seen_ = 0;
  uint64_t announced_ = 0;
  uint64_t body_left_ = 0;
};

}  // namespace daxkv::rdb

#endif  // DAXKV_RDB_SYNC_PAYLOAD_H_
