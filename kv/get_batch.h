// GetBatch: a run of plain GETs a connection read in one round, looked up
// with one DB::MultiGet (issue 17, goal 2), so that the DRAM misses of
// their keys overlap instead of following one another.
//
// The batch only prefetches: each GET still runs through ExecuteCommand
// (every check, INFO stats and commandstats, the access clock, the reply
// GetCommand writes), with the batch as its Store, whose Get() hands out
// the result MultiGet read for that request instead of reading again. So
// every observable effect is GET's; only the moment each key is read moves
// earlier, to a moment between the previous command of the connection and
// the GET's own reply, with the keys read in request order (as key-by-key
// GETs would, each at a moment no transaction publishes it).
//
// A batch starts only where nothing can run between it and its GETs but
// GETs: the client is not in MULTI or blocked, and the run ends at the
// first request that is not a plain multibulk GET. It lives for one
// Connection::ProcessInput call: an entry a GET did not consume (input
// left for a later round) is dropped with it, never used later.
//
// Thread-safety: one connection's I/O thread.
#ifndef DAXKV_KV_GET_BATCH_H_
#define DAXKV_KV_GET_BATCH_H_

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "kv/client.h"
#include "kv/resp_parser.h"
#include "kv/server_state.h"
#include "kv/store.h"

namespace daxkv::kv {

class GetBatch final : public DirectStore {
 public:
  // At most this many GETs per batch (the scratch is on the stack).
  static constexpr size_t kMaxKeys = 64;
  // Values longer than this are not read by the batch but by their own
  // GET, when it runs: a batch holds at most kMaxKeys * kMaxValueBytes
  // (1 MiB) of values, whatever the keys hold, so a client that never
  // reads its replies is closed by its output limit before the server has
  // copied more than that (the copy, not the miss, dominates such GETs).
  static constexpr size_t kMaxValueBytes = 16 << 10;

  // On the server's engine, as ExecuteCommand's DirectStore.
  explicit GetBatch(ServerState& server)
      : DirectStore(&server.db(), &server.watches()),
        clock_(server.access_clock()) {}

  // `argv` is a GET with one key (any case), as the command table runs it.
  static bool IsPlainGet(std::span<const std::string_view> argv);
  // Whether a GET of `client` may start a batch now.
  static bool MayStart(const Client& client);

  // Collects the run of GETs that starts with `argv` (the request at
  // `request`, already parsed) and continues with the complete multibulk
  // GETs in `rest` (the input after it), parsed with `scratch`; then looks
  // them all up with one MultiGet (and prefetches their access-clock
  // buckets, which each GET touches). Returns whether a batch was made (at
  // least two GETs). REQUIRES: the keys' bytes (the input buffer) stay in
  // place while the batch is used.
  bool Collect(std::span<const std::string_view> argv, const char* request,
               std::string_view rest, bool authenticated,
               RequestParser& scratch);

  // Whether GETs of the batch are still to run.
  bool pending() const { return next_ < count_; }

  // The result MultiGet read for `key` when `key` is the next unconsumed
  // key of the batch (the same bytes of the input); else a plain Get.
  StatusOr<engine::ReadResult> Get(std::string_view key) override;

 private:
  void Add(std::string_view key) {
    clock_.Prefetch(key);
    keys_[count_++] = key;
  }

  const AccessClock& clock_;
  std::array<std::string_view, kMaxKeys> keys_;
  std::array<std::string, kMaxKeys> values_;
  std::array<Status, kMaxKeys> statuses_;
  std::array<engine::ReadInfo, kMaxKeys> infos_;
  size_t count_ = 0;
  size_t next_ = 0;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_GET_BATCH_H_
