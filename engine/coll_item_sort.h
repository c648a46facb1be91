// Recovery's sort of element items (docs/collections.md, "Recovery", phase
// 2b): a partition's items ordered by (collection id, subkey hash), without
// comparison sorting.
//
// ItemSorter::Sort groups the items by id with a counting sort (ids ranked
// through a small open-addressing table: a partition holds few distinct
// ids, each with many items, and items of one id mostly arrive together),
// then sorts each id's group by hash with a most-significant-byte radix
// sort that finishes small buckets by insertion. Cost O(n) plus O(d log d)
// for d distinct ids; adversarial hashes (equal, or equal in their high
// bytes) cost at most 8 counting passes over their group.
//
// Thread-safety: none; one sorter per thread (it keeps its scratch buffers
// between calls, so that a thread's partitions reuse the same memory).
#ifndef DAXKV_ENGINE_COLL_ITEM_SORT_H_
#define DAXKV_ENGINE_COLL_ITEM_SORT_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace daxkv::engine::coll {

// An element entry as recovery files it (built in coll_builder.cc).
struct RecoveryItem {
  uint64_t id;
  uint64_t hash;    // ElemHash(seed, subkey)
  uint64_t aux;     // zset: the score as ordered bits; list: key prefix
  uint64_t packed;  // location, size, type and flags (coll_builder.cc)
};

// A run of sorted items sharing one id: [begin, end) of the output.
struct IdGroup {
  size_t begin;
  size_t end;
};

class ItemSorter {
 public:
  // Writes items[0, n) to *out ordered by (id, hash) ascending (items with
  // equal id and hash in unspecified order) and the id groups, ascending
  // by id, to *groups. items[0, n) serve as scratch afterwards: their
  // contents are unspecified on return (so that a partition costs two
  // copies of its items, not three). `items` may not alias *out.
  void Sort(RecoveryItem* items, size_t n, std::vector<RecoveryItem>* out,
            std::vector<IdGroup>* groups);

  // Sorts a[0, n) by hash alone (exposed for the tests).
  void SortByHash(RecoveryItem* a, size_t n) {
    if (scratch_.size() < n) scratch_.resize(n);
    HashRadix(a, n, 56, scratch_.data());
  }

 private:
  // Index of `id` among the distinct ids seen so far (added when new).
  uint32_t DistinctIndex(uint64_t id);
  void GrowTable();
  // REQUIRES: scratch holds n items.
  static void HashRadix(RecoveryItem* a, size_t n, int shift,
                        RecoveryItem* scratch);

  std::vector<uint64_t> ids_;    // distinct ids, in order of arrival
  std::vector<uint32_t> table_;  // open addressing: index + 1 (0: empty)
  int table_bits_ = 0;
  std::vector<uint32_t> item_index_;   // per input item: its DistinctIndex
  std::vector<uint32_t> order_;        // distinct indexes sorted by id
  std::vector<size_t> start_;          // per distinct index: output cursor
  std::vector<RecoveryItem> scratch_;  // SortByHash's
};

}  // namespace daxkv::engine::coll

#endif  // DAXKV_ENGINE_COLL_ITEM_SORT_H_
