#include "kv/get_batch.h"

#include "kv/command.h"
#include "kv/script_section.h"

namespace daxkv::kv {

bool GetBatch::IsPlainGet(std::span<const std::string_view> argv) {
  if (argv.size() != 2 || argv[0].size() != 3) return false;
  // ASCII case folding (| 0x20) without a locale call: this runs for
  // every request.
  const std::string_view n = argv[0];
  return (n[0] | 0x20) == 'g' && (n[1] | 0x20) == 'e' && (n[2] | 0x20) == 't';
}

bool GetBatch::MayStart(const Client& client) {
  // In MULTI a GET is queued, not run; a blocked client runs nothing; the
  // master link's stream is left to the plain path (it mostly writes); a
  // client that cannot run GET gets its rejection from ExecuteCommand,
  // and one served without the round lock (a busy script runs: BUSY) reads
  // nothing.
  const bool locked = client.round_lock == nullptr ||
                      client.round_lock->owns_lock() || HoldsKeptExclusive();
  return locked && !client.in_multi && client.blocked == nullptr &&
         !client.is_master && client.authenticated &&
         !client.pubsub.subscribed();
}

bool GetBatch::Collect(std::span<const std::string_view> argv,
                       const char* request, std::string_view rest,
                       bool authenticated, RequestParser& scratch) {
  count_ = next_ = 0;
  // An inline request's arguments live in its parser, not in the input:
  // only multibulk requests, whose keys stay put in the buffer, batch.
  if (request[0] != '*') return false;
  Add(argv[1]);
  while (count_ < kMaxKeys && !rest.empty() && rest[0] == '*') {
    scratch.Reset();
    if (scratch.Parse(rest.data(), rest.size(), authenticated) !=
            RequestParser::Result::kComplete ||
        !IsPlainGet(scratch.args())) {
      break;
    }
    Add(scratch.args()[1]);
    rest.remove_prefix(scratch.consumed());
  }
  scratch.Reset();
  if (count_ < 2) {
    count_ = 0;
    return false;
  }
  db().MultiGet(std::span(keys_.data(), count_),
                std::span(values_.data(), count_),
                std::span(statuses_.data(), count_),
                std::span(infos_.data(), count_), kMaxValueBytes);
  return true;
}

StatusOr<engine::ReadResult> GetBatch::Get(std::string_view key) {
  // The same bytes of the input, not only equal ones: the request the
  // batch read. A GET refused before it ran leaves its entry behind.
  size_t i = next_;
  while (i < count_ && keys_[i].data() != key.data()) ++i;
  if (i == count_ || keys_[i].size() != key.size()) {
    return DirectStore::Get(key);
  }
  next_ = i + 1;
  if (engine::DB::IsValueOverBatchLimit(statuses_[i])) {
    return DirectStore::Get(key);  // read now, alone
  }
  if (!statuses_[i].ok()) return statuses_[i];
  engine::ReadResult r;
  r.value = std::move(values_[i]);
  r.expire_at_ms = infos_[i].expire_at_ms;
  r.version = infos_[i].version;
  return r;
}

}  // namespace daxkv::kv
