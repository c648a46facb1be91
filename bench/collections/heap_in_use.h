// HeapInUse: the bytes glibc's allocator has handed out (mallinfo2:
// in-use arena chunks plus mmap'd blocks), for the collection benchmarks'
// DRAM figures (growth between two calls).
#ifndef DAXKV_BENCH_COLLECTIONS_HEAP_IN_USE_H_
#define DAXKV_BENCH_COLLECTIONS_HEAP_IN_USE_H_

#include <malloc.h>

#include <cstdint>

namespace daxkv::engine::coll {

inline uint64_t HeapInUse() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

}  // namespace daxkv::engine::coll

#endif  // DAXKV_BENCH_COLLECTIONS_HEAP_IN_USE_H_
