// BorrowedRegion: a dax::Region that forwards every call to a Region owned
// by someone else, so a caller can hand DB::Open (which takes ownership) a
// region it keeps: RepairPool, tools and crash tests reopen one pool many
// times.
//
// Lifetime: the borrowed Region must outlive this object.
// Thread-safety: as the borrowed Region.
#ifndef DAXKV_ENGINE_BORROWED_REGION_H_
#define DAXKV_ENGINE_BORROWED_REGION_H_

#include "dax/region.h"

namespace daxkv::engine {

class BorrowedRegion : public dax::Region {
 public:
  explicit BorrowedRegion(dax::Region& r) : r_(r) {}
  const dax::RegionInfo& info() const override { return r_.info(); }
  char* data() const override { return r_.data(); }
  size_t size() const override { return r_.size(); }
  void Persist(const void* a, size_t n) override { r_.Persist(a, n); }
  void Flush(const void* a, size_t n) override { r_.Flush(a, n); }
  void Drain() override { r_.Drain(); }
  void Copy(void* d, const void* s, size_t n, unsigned f) override {
    r_.Copy(d, s, n, f);
  }
  void Set(void* d, int c, size_t n, unsigned f) override {
    r_.Set(d, c, n, f);
  }
  Status DeepFlush(void* a, size_t n) override { return r_.DeepFlush(a, n); }
  Status Grow(size_t n) override { return r_.Grow(n); }
  Status Prefault(void* a, size_t n) override { return r_.Prefault(a, n); }
  Status PersistError() const override { return r_.PersistError(); }

 private:
  dax::Region& r_;
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_BORROWED_REGION_H_
