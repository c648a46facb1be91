// ForwardingDb: an engine::DB that forwards every call to a real DB, with
// hooks tests use to inject what the real engine cannot be made to do on
// demand: another client's write landing between two engine calls of one
// command, a persistence error (BackgroundError), a failing Sync().
//
// Thread-safety: as the target DB; the hooks are set before use.
#ifndef DAXKV_TESTS_KV_FORWARDING_DB_H_
#define DAXKV_TESTS_KV_FORWARDING_DB_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/db.h"
#include "engine/txn.h"

namespace daxkv::kv {

class ForwardingDb final : public engine::DB {
 public:
  // REQUIRES: `target` outlives this object.
  explicit ForwardingDb(engine::DB* target) : t_(target) {}

  // Runs once, right after the first keyed call (read or write) returns:
  // "another client's write lands between this command's engine calls".
  void AfterFirstKeyedCall(std::function<void(engine::DB*)> hook) {
    hook_ = std::move(hook);
  }
  // What BackgroundError() and Sync() report (OK = the target's answer).
  void SetBackgroundError(Status s) {
    std::lock_guard<std::mutex> l(mu_);
    background_error_ = std::move(s);
  }
  void SetSyncError(Status s) {
    std::lock_guard<std::mutex> l(mu_);
    sync_error_ = std::move(s);
  }
  // What WriteSystem() fails with, writing nothing (OK = forward).
  void SetSystemWriteError(Status s) {
    std::lock_guard<std::mutex> l(mu_);
    system_write_error_ = std::move(s);
  }

  // With logging on, events() lists, in order, "entry <key>" for each
  // PrefetchEntry and "write <key>" for each Put, PutIf, Update and Delete.
  void LogEvents(bool on) {
    std::lock_guard<std::mutex> l(mu_);
    log_events_ = on;
    events_.clear();
  }
  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> l(mu_);
    return events_;
  }
  void PrefetchKey(std::string_view key, bool write) const override {
    t_->PrefetchKey(key, write);
  }
  void PrefetchEntry(std::string_view key) const override {
    Log("entry", key);
    t_->PrefetchEntry(key);
  }

  Status Put(std::string_view key, std::string_view value, int64_t expire_at_ms,
             const engine::WriteOptions& o) override {
    Log("write", key);
    return Keyed(t_->Put(key, value, expire_at_ms, o));
  }
  Status PutIf(engine::PutMode mode, std::string_view key,
               std::string_view value, int64_t expire_at_ms,
               const engine::WriteOptions& o) override {
    Log("write", key);
    return Keyed(t_->PutIf(mode, key, value, expire_at_ms, o));
  }
  StatusOr<engine::ReadResult> Get(std::string_view key) const override {
    auto r = t_->Get(key);
    Fire();
    return r;
  }
  Status Get(std::string_view key, std::string* value,
             engine::ReadInfo* info) const override {
    return Keyed(t_->Get(key, value, info));
  }
  // Counted (multi_gets()), then run as DB's loop of the Get above, so
  // the hook fires as for single Gets.
  void MultiGet(std::span<const std::string_view> keys,
                std::span<std::string> values, std::span<Status> statuses,
                std::span<engine::ReadInfo> infos,
                size_t max_value_bytes) const override {
    multi_gets_.fetch_add(1);
    multi_get_keys_.fetch_add(keys.size());
    engine::DB::MultiGet(keys, values, statuses, infos, max_value_bytes);
  }
  int multi_gets() const { return multi_gets_.load(); }
  size_t multi_get_keys() const { return multi_get_keys_.load(); }
  Status Delete(std::string_view key, bool* existed,
                const engine::WriteOptions& o) override {
    Log("write", key);
    return Keyed(t_->Delete(key, existed, o));
  }
  bool Exists(std::string_view key) const override {
    bool e = t_->Exists(key);
    Fire();
    return e;
  }
  uint64_t Count() const override { return t_->Count(); }
  Status Write(const engine::WriteBatch& batch,
               const engine::WriteOptions& o) override {
    return Keyed(t_->Write(batch, o));
  }
  Status Rename(std::string_view src, std::string_view dst,
                const engine::WriteOptions& o) override {
    return Keyed(t_->Rename(src, dst, o));
  }
  Status Update(std::string_view key, const engine::UpdateFn& fn,
                const engine::WriteOptions& o) override {
    Log("write", key);
    return Keyed(t_->Update(key, fn, o));
  }
  Status SetExpiry(std::string_view key, int64_t expire_at_ms,
                   const engine::WriteOptions& o) override {
    return Keyed(t_->SetExpiry(key, expire_at_ms, o));
  }
  StatusOr<ScanPage> Scan(uint64_t cursor, size_t count) const override {
    return t_->Scan(cursor, count);
  }
  // A Txn holds its keys' stripes, so no other client's write can land
  // inside one: the hook fires after the Txn (or view), never between its
  // calls (it would wait for the stripe this thread holds).
  StatusOr<std::unique_ptr<engine::Txn>> BeginTxn(
      const engine::TxnOptions& options) override {
    return t_->BeginTxn(options);
  }
  // Counted (run_txns()). A Txn declaring at least the keys set by
  // FailTxnsDeclaring runs its body, then fails with that status instead
  // of committing (nothing applied), as a commit on a full pool does.
  Status RunTxn(const engine::TxnOptions& options,
                const engine::WriteOptions& wopts,
                const std::function<Status(engine::Txn&)>& fn) override {
    run_txns_.fetch_add(1);
    Status fail;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (options.keys.size() >= fail_txn_keys_) fail = fail_txn_error_;
    }
    if (fail.ok()) return Keyed(t_->RunTxn(options, wopts, fn));
    Status s = t_->RunTxn(options, wopts, [&](engine::Txn& txn) {
      Status st = fn(txn);
      return st.ok() ? fail : st;
    });
    return Keyed(s);
  }
  int run_txns() const { return run_txns_.load(); }
  void FailTxnsDeclaring(size_t min_keys, Status s) {
    std::lock_guard<std::mutex> l(mu_);
    fail_txn_keys_ = min_keys;
    fail_txn_error_ = std::move(s);
  }
  Status RunRead(const std::vector<std::string>& keys,
                 const std::function<Status(engine::ReadOps&)>& fn) override {
    return Keyed(t_->RunRead(keys, fn));
  }
  Status Flush() override { return t_->Flush(); }
  Status WriteSystem(const engine::WriteBatch& batch) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!system_write_error_.ok()) return system_write_error_;
    }
    return t_->WriteSystem(batch);
  }
  StatusOr<std::string> GetSystem(std::string_view key) const override {
    return t_->GetSystem(key);
  }
  StatusOr<SystemEntries> ListSystem(std::string_view prefix) const override {
    return t_->ListSystem(prefix);
  }
  Status Sync() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!sync_error_.ok()) return sync_error_;
    }
    return t_->Sync();
  }
  Status Grow(size_t n) override { return t_->Grow(n); }
  Status BackgroundError() const override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!background_error_.ok()) return background_error_;
    }
    return t_->BackgroundError();
  }
  engine::Stats GetStats() const override { return t_->GetStats(); }
  const dax::RegionInfo& region_info() const override {
    return t_->region_info();
  }

 private:
  void Log(std::string_view what, std::string_view key) const {
    std::lock_guard<std::mutex> l(mu_);
    if (log_events_)
      events_.push_back(std::string(what) + " " + std::string(key));
  }
  void Fire() const {
    if (!hook_) return;
    auto hook = std::move(hook_);
    hook_ = nullptr;
    hook(t_);
  }
  Status Keyed(Status s) const {
    Fire();
    return s;
  }

  engine::DB* t_;
  mutable std::function<void(engine::DB*)> hook_;
  mutable std::mutex mu_;
  mutable std::atomic<int> multi_gets_{0};
  mutable std::atomic<size_t> multi_get_keys_{0};
  std::atomic<int> run_txns_{0};
  size_t fail_txn_keys_ = SIZE_MAX;
  Status fail_txn_error_;
  Status background_error_;
  Status sync_error_;
  Status system_write_error_;
  bool log_events_ = false;
  mutable std::vector<std::string> events_;
};

}  // namespace daxkv::kv

#endif  // DAXKV_TESTS_KV_FORWARDING_DB_H_
