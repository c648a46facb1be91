// The clean-close index snapshot (docs/format.md, "Index snapshot"): on a
// clean close the DB writes its DRAM state (the key index's slot tables and
// expiry sets, the segment table, the dead-put counters, the system
// namespace directory and every collection's element index) into free
// segments, and the superblock written last by Close points at it. The next
// open loads it instead of scanning every record: a clean restart costs a
// copy of the index, not a read of the pool.
//
// Layout: chunk 0 (the payload of the first free segment, past its 128-byte
// header and state lines, which stay untouched) holds a SnapshotHeader and
// the chunk table; chunks 1..n hold the data stream, each with its CRC in
// the table. A snapshot is used only when all of these hold:
//  * the superblock says clean_shutdown and points at chunk 0;
//  * the header's generation equals the superblock's (any later superblock
//    write, by this binary or an older one, bumps it: stale);
//  * uuid, geometry and every CRC check out (damaged: ignored).
// Otherwise recovery scans the pool as always.
//
// Thread-safety: pure helpers; the DB calls them with the pool quiescent.
#ifndef DAXKV_ENGINE_INDEX_SNAPSHOT_H_
#define DAXKV_ENGINE_INDEX_SNAPSHOT_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

namespace daxkv::engine::snapshot {

inline constexpr char kMagic[8] = {'D', 'A', 'X', 'K', 'V', 'S', 'N', 'P'};
// 2: collections; 3: a large zset's OrderEntry has its member prefix;
// 4: a large zset's member keys skip its members' common part (ZsetCommon).
inline constexpr uint32_t kVersion = 4;

struct Header {
  char magic[8];            // 0
  uint32_t version;         // 8
  uint32_t chunks;          // 12 (data chunks; the table has this many)
  uint8_t uuid[16];         // 16 (the pool's)
  uint64_t generation;      // 32 (the superblock generation that names it)
  uint64_t segment_count;   // 40
  uint64_t segment_size;    // 48
  uint64_t last_seq;        // 56
  uint64_t last_epoch;      // 64
  uint64_t data_bytes;      // 72 (the stream's length)
  uint64_t dead_counters;   // 80
  uint64_t system_entries;  // 88
  uint64_t keys;            // 96
  uint32_t shards;          // 104
  uint32_t table_crc;       // 108: CRC32C of the chunk table
  uint64_t collections;     // 112
  // The element hash seed (ElemHash) the collections' positions and the
  // dead-put counters were made with: the open that loads them adopts it.
  uint64_t hash_seed;    // 120
  uint8_t reserved[12];  // 128
  uint32_t crc;          // 140: CRC32C of bytes [0, 140)
};
static_assert(sizeof(Header) == 144);

struct Chunk {
  uint64_t segment;  // pool segment index
  uint32_t bytes;    // stream bytes it holds
  uint32_t crc;      // CRC32C of them
};
static_assert(sizeof(Chunk) == 16);

// Stream sections, in order: one Segment per segment, the dead-put counters
// (u32 each), the system entries (SystemEntry, key, pad to 8), then per
// index shard a ShardHead, its slots (u64 each) and its expiry pairs
// (i64 expire_at_ms, u64 loc), then per collection a CollHead and its
// entries.
struct Segment {
  uint64_t epoch;
  uint64_t live;  // live bytes, system entries excluded (a scan's count)
  uint64_t tomb;
  int64_t head;  // a covered segment's span head
  uint32_t seed;
  uint32_t tail;
  uint32_t span;
  uint8_t use;  // 0 free, 1 sealed, 2 covered
  uint8_t reserved[3];
};
static_assert(sizeof(Segment) == 48);
enum SegmentUse : uint8_t { kFree = 0, kSealed = 1, kCovered = 2 };

// A collection's `count` entries follow its head: hashes and sets one
// ElemTable::Pack word per element; lists and streams one location per
// element, in order; zsets (ZsetIndex::Export) one Pack(tag, loc) word per
// member in rank order, or when `large`, `count` OrderEntry in rank order
// and then one Pack word per member. A packed set (`packed`, format
// version 6) has one word, its entry's, and `members` members.
struct CollHead {
  uint64_t id;
  uint64_t meta_loc;
  uint64_t count;
  uint8_t type;      // KeyType
  uint8_t had_long;  // Collection::had_long, as a scan would find it
  uint8_t large;
  uint8_t packed;
  uint32_t members;  // a packed set's; 0 otherwise
};
static_assert(sizeof(CollHead) == 32);

struct OrderEntry {
  double score;
  uint64_t loc;
  uint64_t member_key;  // coll::MemberKeys::KeyOf(member), ZsetCommon's keys
};
static_assert(sizeof(OrderEntry) == 24);

// Before a large zset's order entries: the part its member keys skip
// (coll::MemberKeys::common()).
struct ZsetCommon {
  uint8_t len;  // <= 23
  char bytes[23];
};
static_assert(sizeof(ZsetCommon) == 24);

struct SystemEntry {
  uint64_t loc;
  uint64_t seq;
  uint32_t key_len;
  uint32_t tombstone;
};
static_assert(sizeof(SystemEntry) == 24);

struct ShardHead {
  uint32_t bits;
  uint32_t reserved;
  uint64_t used;
  uint64_t expiring;
};
static_assert(sizeof(ShardHead) == 24);

// A byte stream over the chunks' payloads (pool addresses, `capacity`
// bytes each): Write copies through `copy` and keeps each chunk's CRC;
// Read copies out.
class ChunkStream {
 public:
  using CopyFn = std::function<void(char* dst, const char* src, size_t n)>;
  ChunkStream(std::vector<char*> payloads, uint64_t capacity)
      : payloads_(std::move(payloads)),
        capacity_(capacity),
        crcs_(payloads_.size(), 0) {}

  // False once the chunks are full (nothing more is written).
  bool Write(const void* src, size_t n, const CopyFn& copy);
  // False past the end of the chunks.
  bool Read(void* dst, size_t n);
  // Reads continue at stream offset `pos`.
  void Seek(uint64_t pos) {
    chunk_ = pos / capacity_;
    offset_ = pos % capacity_;
  }
  uint64_t position() const { return chunk_ * capacity_ + offset_; }
  uint32_t crc(size_t chunk) const { return crcs_[chunk]; }

 private:
  // Calls fn(chunk, address, bytes done, k) for each piece of the next `n`
  // stream bytes and moves past them; false (stopped) past the last chunk.
  template <typename Fn>
  bool Walk(size_t n, const Fn& fn) {
    for (size_t done = 0; done < n;) {
      if (chunk_ >= payloads_.size()) return false;
      const size_t k = std::min<uint64_t>(n - done, capacity_ - offset_);
      fn(chunk_, payloads_[chunk_] + offset_, done, k);
      done += k;
      offset_ += k;
      if (offset_ == capacity_) {
        ++chunk_;
        offset_ = 0;
      }
    }
    return true;
  }

  std::vector<char*> payloads_;
  uint64_t capacity_;
  std::vector<uint32_t> crcs_;
  size_t chunk_ = 0;
  uint64_t offset_ = 0;
};

uint32_t HeaderCrc(const Header& h);

}  // namespace daxkv::engine::snapshot

#endif  // DAXKV_ENGINE_INDEX_SNAPSHOT_H_
