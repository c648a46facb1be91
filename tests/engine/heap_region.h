// HeapRegion: a dax::Region over a shared DRAM buffer with every store
// immediately "durable" (byte granularity, like eADR). Several HeapRegions
// may view one buffer in turn, so a test can reopen a pool, or snapshot the
// bytes of a live pool and open the copy as if the power had failed.
//
// Thread-safety: as dax::Region. The buffer is shared, not synchronised.
#ifndef DAXKV_TESTS_ENGINE_HEAP_REGION_H_
#define DAXKV_TESTS_ENGINE_HEAP_REGION_H_

#include <atomic>
#include <cstring>
#include <memory>
#include <vector>

#include "dax/region.h"

namespace daxkv::testing {

class HeapRegion final : public dax::Region {
 public:
  using Buffer = std::shared_ptr<std::vector<char>>;

  // `capacity` bytes are reserved so Grow() never moves data().
  static Buffer NewBuffer(size_t size, size_t capacity = 0) {
    auto b = std::make_shared<std::vector<char>>(std::max(size, capacity), 0);
    b->resize(size);
    return b;
  }

  explicit HeapRegion(Buffer buffer) : buffer_(std::move(buffer)) {
    info_.path = "heap";
    info_.kind = dax::BackingKind::kSimulated;
    info_.size = buffer_->size();
    info_.alignment = 4096;
    info_.granularity = dax::Granularity::kByte;
    info_.persistence = "none (test heap)";
  }

  const dax::RegionInfo& info() const override { return info_; }
  char* data() const override { return buffer_->data(); }
  size_t size() const override { return buffer_->size(); }
  void Persist(const void*, size_t) override { persists_++; }
  void Flush(const void*, size_t) override {}
  void Drain() override { persists_++; }
  void Copy(void* dst, const void* src, size_t len, unsigned flags) override {
    std::memcpy(dst, src, len);
    if (!(flags & (dax::kMemNoDrain | dax::kMemNoFlush))) persists_++;
  }
  void Set(void* dst, int c, size_t len, unsigned) override {
    std::memset(dst, c, len);
  }
  Status DeepFlush(void*, size_t) override { return OkStatus(); }
  Status Grow(size_t new_size) override {
    if (new_size > buffer_->capacity()) {
      return NotSupportedError("HeapRegion capacity exceeded");
    }
    buffer_->resize(new_size, 0);
    info_.size = new_size;
    return OkStatus();
  }

  uint64_t persists() const { return persists_.load(); }

 private:
  Buffer buffer_;
  dax::RegionInfo info_;
  std::atomic<uint64_t> persists_{0};
};

}  // namespace daxkv::testing

#endif  // DAXKV_TESTS_ENGINE_HEAP_REGION_H_
