// WriteBatch and DBImpl::Write: a batch is one record (one CRC, one
// persist), so after a crash it is entirely present or entirely absent.
#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "engine/db_impl.h"

namespace daxkv::engine {

void WriteBatch::Put(std::string_view key, std::string_view value,
                     int64_t expire_at_ms) {
  ops_.push_back(
      {OpType::kPut, std::string(key), std::string(value), expire_at_ms});
}

void WriteBatch::Delete(std::string_view key) {
  ops_.push_back({OpType::kDelete, std::string(key), std::string(), 0});
}

void WriteBatch::RequireVersion(std::string_view key, uint64_t version) {
  pre_.push_back({std::string(key), version});
}

void WriteBatch::Clear() {
  ops_.clear();
  pre_.clear();
}

Status DBImpl::Write(const WriteBatch& batch, const WriteOptions& opts) {
  DAXKV_RETURN_IF_ERROR(health_.CheckWritable());
  const auto& ops = batch.ops();
  // The last op on a key wins; all sub-entries share one sequence number,
  // so the record must hold at most one entry per key.
  std::unordered_map<std::string_view, size_t> last;
  for (size_t i = 0; i < ops.size(); ++i) {
    DAXKV_RETURN_IF_ERROR(CheckSizes(ops[i].key, ops[i].value));
    last[ops[i].key] = i;
  }
  std::vector<size_t> stripes;
  for (const auto& op : ops) {
    stripes.push_back(KeyHash(op.key).low() & (kStripes - 1));
  }
  for (const auto& pre : batch.preconditions()) {
    stripes.push_back(KeyHash(pre.key).low() & (kStripes - 1));
  }
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  const bool all_deletes =
      std::all_of(ops.begin(), ops.end(), [](const WriteBatch::Op& op) {
        return op.type == WriteBatch::OpType::kDelete;
      });
  return RetryOnNoSpace(
      [&]() -> Status {
        StripeSet locks(this);
        for (size_t s : stripes) locks.Add(s);
        for (const auto& pre : batch.preconditions()) {
          Current cur = Lookup(KeyHash(pre.key), pre.key);
          uint64_t version = cur.live ? cur.entry.seq : 0;
          if (version != pre.version) {
            return AbortedError("batch precondition failed: key version " +
                                std::to_string(version) + ", required " +
                                std::to_string(pre.version));
          }
        }
        const uint64_t seq = ++last_seq_;
        std::string image(format::kRecordHeaderSize, '\0');
        std::vector<std::pair<size_t, uint64_t>> placed;  // (op, image offset)
        for (size_t i = 0; i < ops.size(); ++i) {
          if (last[ops[i].key] != i) continue;
          bool del = ops[i].type == WriteBatch::OpType::kDelete;
          // A delete of a key that reads absent still gets its tombstone: the
          // absence may be another writer's unsynced delete, which a crash can
          // lose while this batch survives. In the record, the delete is part
          // of the batch's all-or-nothing.
          placed.push_back({i, image.size()});
          format::AppendSubEntry(&image,
                                 del ? format::kTombstone : format::kPut, seq,
                                 ops[i].key, ops[i].value, ops[i].expire_at_ms);
        }
        if (placed.empty()) return OkStatus();
        format::SetBatchHeader(&image, seq);
        uint64_t rec_off;
        Status appended =
            AppendImage(MyHead(), &image, opts.sync, all_deletes, &rec_off);
        if (appended.code() == StatusCode::kNoSpace && all_deletes) {
          // As for a single delete: the shared tombstone log may still have
          // room.
          appended =
              AppendImage(TombHead(), &image, opts.sync, all_deletes, &rec_off);
        }
        if (!appended.ok()) return appended;
        Status persisted;
        if (opts.sync || IsSpanRecord(image.size())) {
          persisted = CheckPersisted("a batch write");
        }
        for (auto [i, at] : placed) {
          if (!persisted.ok()) break;  // neither published nor acknowledged
          const KeyHash kh(ops[i].key);
          AssertStripeIn(locks, kh);
          Publish(kh, ops[i].key, rec_off + at, seq,
                  ops[i].type == WriteBatch::OpType::kDelete);
        }
        if (IsSpanRecord(image.size())) ReleaseSpan(rec_off);
        return persisted;
      },
      all_deletes);
}

}  // namespace daxkv::engine
