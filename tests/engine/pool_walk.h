// Test helper: every record of a pool image, walked as docs/format.md
// describes it (independently of the engine's scanner), so corruption
// tests can aim at a given record or state word.
#ifndef DAXKV_TESTS_ENGINE_POOL_WALK_H_
#define DAXKV_TESTS_ENGINE_POOL_WALK_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "engine/format.h"

namespace daxkv::engine::testing_walk {

struct WalkedRecord {
  uint64_t offset;  // pool offset of the record
  uint64_t segment;
  bool sealed;
  uint8_t type;
  std::string key;
  uint64_t value_offset;  // pool offset of the value
  uint64_t value_len;
};

// Segment geometry from the superblock copy A (REQUIRES: valid).
inline format::SuperBlock SuperBlockOf(const std::vector<char>& image) {
  format::SuperBlock sb;
  std::memcpy(&sb, image.data(), sizeof(sb));
  return sb;
}

inline uint64_t SegmentAt(const format::SuperBlock& sb, uint64_t i) {
  return sb.data_offset + i * sb.segment_size;
}

// Valid put and tombstone records (not batches) of every segment with a
// valid header, whatever its state (ask InspectPool for that), up to its
// first invalid record.
inline std::vector<WalkedRecord> WalkRecords(const std::vector<char>& image) {
  const format::SuperBlock sb = SuperBlockOf(image);
  std::vector<WalkedRecord> out;
  for (uint64_t s = 0; s < sb.segment_count; ++s) {
    const char* sp = image.data() + SegmentAt(sb, s);
    format::SegmentHeader h;
    std::memcpy(&h, sp, sizeof(h));
    if (std::memcmp(h.magic, format::kSegmentMagic, 8) != 0 ||
        h.crc != format::SegmentHeaderCrc(h) || h.span != 1) {
      continue;
    }
    const uint32_t seed = format::SegmentSeed(h.uuid, h.epoch);
    const bool sealed = format::Load64(sp + format::kSealWordOffset) != 0;
    uint64_t off = format::kSegmentHeaderSize, n = 0;
    while (off < sb.segment_size &&
           format::CheckRecord(sp + off, sb.segment_size - off, seed, h.epoch,
                               &n) == format::RecordCheck::kValid) {
      format::EntryHeader e = format::LoadEntry(sp + off + 8);
      if (e.type == format::kPut || e.type == format::kTombstone) {
        const uint64_t rec = SegmentAt(sb, s) + off;
        const uint64_t key = rec + format::kRecordHeaderSize;
        out.push_back({rec, s, sealed, e.type,
                       std::string(image.data() + key, e.key_len),
                       key + e.key_len, e.value_len});
      }
      off += n;
    }
  }
  return out;
}

}  // namespace daxkv::engine::testing_walk

#endif  // DAXKV_TESTS_ENGINE_POOL_WALK_H_
