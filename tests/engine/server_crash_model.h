// The model behind crash_server_test.cc: what each writer thread did, which
// of it was acknowledged at a given instant, and which recovered states the
// durability contract (docs/durability.md) allows for that instant.
//
// Writers own disjoint keys, so each key's history is one thread's program
// order. A writer records an op (its effects on its keys) before it starts
// it and publishes `started`; it records the outcome and publishes
// `completed` when the op returns. The committer publishes, per writer, the
// prefix of ops a completed Sync() covered, and counts flushes started and
// completed. A crash image taken at some instant is judged with counters
// read around it: `completed`, `acked`, `flushes_completed` before the
// image, `started`, `flushes_started` after it.
//
// Per key, with j = the newest acknowledged op on it (a synced op that
// returned OK, or an unsynced one a completed Sync() covered), the
// recovered state must be the effect of j or of a later started op (never
// of an older one, nor nothing), except that an op an acknowledged flush
// came after is void, and "absent" is allowed when a flush may have come
// after j. A batch found applied (one of its puts is visible) must show,
// on each of its keys, itself or something later. A set key's state is
// its members (read through ReadOps::SetForEach), absent when it has none.
//
// Thread-safety: writers and the committer write their own fields with
// release stores of the counters; the checker (on any thread) reads with
// acquire loads. Op slots are preallocated: no reallocation under readers.
#ifndef DAXKV_TESTS_ENGINE_SERVER_CRASH_MODEL_H_
#define DAXKV_TESTS_ENGINE_SERVER_CRASH_MODEL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/db.h"
#include "engine/txn.h"

namespace daxkv::engine::crash {

// A key's state: absent, or a value (by hash and length: values of up to
// two segments are written by the hundred thousand) with its expiry.
struct KeyState {
  bool present = false;
  uint64_t hash = 0;
  uint64_t size = 0;
  int64_t expire_at_ms = 0;
  static KeyState Of(std::string_view value, int64_t expire_at_ms) {
    return {true, std::hash<std::string_view>()(value), value.size(),
            expire_at_ms};
  }
  // A set (absent when empty, as Redis drops an empty set), by its
  // members in order.
  static KeyState OfSet(const std::set<std::string>& members) {
    if (members.empty()) return {};
    std::string all;
    for (const std::string& m : members) all += m + '\0';
    return {true, std::hash<std::string>()(all), members.size(), 0};
  }
  bool operator==(const KeyState&) const = default;
  // As a read at `now` sees it.
  KeyState At(int64_t now) const {
    if (present && expire_at_ms != 0 && expire_at_ms <= now) return {};
    return *this;
  }
};

struct Effect {
  int key;         // the writer's key index
  KeyState after;  // the key's state once the op is applied
};

struct ModelOp {
  bool sync = false;
  bool batch = false;
  std::vector<Effect> effects;
  uint64_t flushes_completed_at_start = 0;
  uint64_t flushes_started_at_end = ~uint64_t{0};  // set before `completed`
  bool failed = false;                             // set before `completed`
};

struct WriterModel {
  std::vector<ModelOp> ops;  // preallocated; [0, started) are valid
  std::atomic<uint64_t> started{0};
  std::atomic<uint64_t> completed{0};
  std::atomic<uint64_t> acked{0};  // ops [0, acked) covered by a Sync()
};

// The counters a crash image is judged against.
struct Instant {
  std::vector<uint64_t> completed, acked, started;
  uint64_t flushes_completed = 0, flushes_started = 0;
  int64_t now = 0;
};

class ServerCrashModel {
 public:
  // Each writer has `keys` string keys, then `set_keys` set keys.
  ServerCrashModel(int writers, int keys, int set_keys, size_t max_ops)
      : keys_(keys + set_keys), first_set_key_(keys), writers_(writers) {
    for (WriterModel& w : writers_) w.ops.resize(max_ops);
  }

  // Writer 0's key 0 is the empty key "" (Redis's; format version 5), so
  // it takes every kind of op, large values included.
  static std::string KeyName(int writer, int key) {
    if (writer == 0 && key == 0) return "";
    return "w" + std::to_string(writer) + "-k" + std::to_string(key);
  }
  int writers() const { return static_cast<int>(writers_.size()); }
  int keys() const { return keys_; }
  WriterModel& writer(int w) { return writers_[w]; }
  std::atomic<uint64_t>& flushes_started() { return flushes_started_; }
  std::atomic<uint64_t>& flushes_completed() { return flushes_completed_; }

  // Reads the "before the image" counters.
  Instant Before() const {
    Instant in;
    in.flushes_completed = flushes_completed_.load();
    for (const WriterModel& w : writers_) {
      in.acked.push_back(w.acked.load());
      in.completed.push_back(w.completed.load());
    }
    return in;
  }
  // Completes `in` with the "after the image" counters.
  void After(Instant* in, int64_t now) const {
    for (const WriterModel& w : writers_)
      in->started.push_back(w.started.load());
    in->flushes_started = flushes_started_.load();
    in->now = now;
  }

  // "" when `db` (recovered from an image taken at `in`) is allowed, else
  // the first violation.
  std::string Check(DB* db, const Instant& in) const {
    std::vector<std::vector<KeyState>> seen(writers_.size());
    for (int w = 0; w < writers(); ++w) {
      for (int k = 0; k < keys_; ++k) {
        KeyState s;
        Status read = Read(db, KeyName(w, k), k >= first_set_key_, &s);
        if (!read.ok())
          return "reading " + KeyName(w, k) + ": " + read.ToString();
        std::string why = CheckKey(w, k, s, in);
        if (!why.empty()) return why;
        seen[w].push_back(std::move(s));
      }
    }
    for (int w = 0; w < writers(); ++w) {
      std::string why = CheckBatches(w, seen[w], in);
      if (!why.empty()) return why;
    }
    return "";
  }

 private:
  static Status Read(DB* db, const std::string& key, bool set,
                     KeyState* state) {
    if (!set) {
      auto got = db->Get(key);
      if (got.ok()) *state = KeyState::Of(got->value, got->expire_at_ms);
      return got.ok() || got.status().code() == StatusCode::kNotFound
                 ? OkStatus()
                 : got.status();
    }
    std::set<std::string> members;
    Status s = db->RunRead({key}, [&](ReadOps& r) {
      members.clear();
      return r.SetForEach(key, [&](std::string_view m) {
        members.emplace(m);
        return true;
      });
    });
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    *state = KeyState::OfSet(members);
    return OkStatus();
  }

  bool Acked(int w, uint64_t i, const Instant& in) const {
    const ModelOp& op = writers_[w].ops[i];
    return i < in.completed[w] && !op.failed && (op.sync || i < in.acked[w]);
  }
  // An acknowledged flush certainly came after op i (it started after i
  // returned): i's effect is void.
  bool VoidedByFlush(int w, uint64_t i, const Instant& in) const {
    return i < in.completed[w] &&
           writers_[w].ops[i].flushes_started_at_end < in.flushes_completed;
  }
  static const Effect* EffectOn(const ModelOp& op, int key) {
    for (const Effect& e : op.effects) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }

  // Whether `s` is allowed for key `k` given that ops before `from` are
  // superseded (from = the newest acked op, or the batch being checked).
  bool Allowed(int w, int k, const KeyState& s, uint64_t from, bool any_before,
               const Instant& in) const {
    const WriterModel& wm = writers_[w];
    const uint64_t end = std::min<uint64_t>(in.started[w], wm.ops.size());
    if (!s.present && any_before) return true;
    for (uint64_t i = from; i < end; ++i) {
      const ModelOp& op = wm.ops[i];
      const Effect* e = EffectOn(op, k);
      if (e == nullptr || (i < in.completed[w] && op.failed)) continue;
      if (VoidedByFlush(w, i, in)) {
        if (!s.present) return true;
        continue;
      }
      if (e->after.At(in.now) == s) return true;
    }
    return false;
  }

  std::string CheckKey(int w, int k, const KeyState& s,
                       const Instant& in) const {
    const WriterModel& wm = writers_[w];
    std::optional<uint64_t> j;
    for (uint64_t i = 0; i < in.completed[w]; ++i) {
      if (EffectOn(wm.ops[i], k) != nullptr && Acked(w, i, in)) j = i;
    }
    // Absent is the state before j, or a flush after j, or no acked op.
    const bool absent_ok =
        !j || in.flushes_started > wm.ops[*j].flushes_completed_at_start;
    if (Allowed(w, k, s, j.value_or(0), absent_ok, in)) return "";
    const std::string what =
        k >= first_set_key_ ? " members (hash " : " bytes (hash ";
    std::string got = s.present
                          ? "a value of " + std::to_string(s.size) + what +
                                std::to_string(s.hash % 100000) + ", expiry " +
                                std::to_string(s.expire_at_ms) + ")"
                          : "nothing";
    return KeyName(w, k) + " holds " + got +
           ", not the effect of its newest acknowledged op (" +
           (j ? "#" + std::to_string(*j) : std::string("none")) +
           ") or a later one; writer " + std::to_string(w) + ": " +
           std::to_string(in.completed[w]) + " ops returned, " +
           std::to_string(in.acked[w]) + " synced, " +
           std::to_string(in.started[w]) + " begun; flushes " +
           std::to_string(in.flushes_completed) + " done, " +
           std::to_string(in.flushes_started) + " begun";
  }

  // A batch one of whose puts is visible was applied: each of its keys must
  // show the batch or something later.
  std::string CheckBatches(int w, const std::vector<KeyState>& seen,
                           const Instant& in) const {
    const WriterModel& wm = writers_[w];
    const uint64_t end = std::min<uint64_t>(in.started[w], wm.ops.size());
    for (uint64_t b = 0; b < end; ++b) {
      const ModelOp& op = wm.ops[b];
      if (!op.batch || (b < in.completed[w] && op.failed)) continue;
      bool applied = false;
      for (const Effect& e : op.effects) {
        applied |= e.after.present && seen[e.key].present &&
                   seen[e.key].hash == e.after.hash &&
                   seen[e.key].size == e.after.size;
      }
      if (!applied) continue;
      const bool flush_after =
          in.flushes_started > op.flushes_completed_at_start;
      for (const Effect& e : op.effects) {
        if (!Allowed(w, e.key, seen[e.key], b, flush_after, in)) {
          return "batch #" + std::to_string(b) + " of writer " +
                 std::to_string(w) + " is half applied: " + KeyName(w, e.key) +
                 " shows a state from before it";
        }
      }
    }
    return "";
  }

  const int keys_;
  const int first_set_key_;
  std::vector<WriterModel> writers_;
  std::atomic<uint64_t> flushes_started_{0};
  std::atomic<uint64_t> flushes_completed_{0};
};

}  // namespace daxkv::engine::crash

#endif  // DAXKV_TESTS_ENGINE_SERVER_CRASH_MODEL_H_
