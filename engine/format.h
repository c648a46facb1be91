// The daxkv media format (docs/format.md is the human-readable version; keep
// the two in step). All integers are little-endian; all structures are
// naturally aligned and copied with memcpy, never cast in place.
//
// Pool:    [superblock A @0][superblock B @4096][segment 0 @8192][segment 1]...
// Segment: [header line @+0, 64 B][state line @+64, 64 B][records @+128 ...]
// Span:    a header with span N > 1 (version 2) makes segments [i, i+N) one
//          extent holding exactly one record, too large for one segment.
// Record:  [u32 data_crc][u32 header_crc][EntryHeader 32 B][key][value][pad]
//          padded to 8 bytes. A batch record's "value" is a run of
//          sub-entries, each [EntryHeader][key][value][pad to 8].
//
// Thread-safety: everything here is pure.
#ifndef DAXKV_ENGINE_FORMAT_H_
#define DAXKV_ENGINE_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace daxkv::engine::format {

// Version 2 adds spans (SegmentHeader::span > 1); version-1 pools are read
// as they are and upgraded on open (the superblock's version alone).
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr uint32_t kOldestFormatVersion = 1;
inline constexpr char kPoolMagic[8] = {'D', 'A', 'X', 'K', 'V', 'P', 'O', 'L'};
inline constexpr char kSegmentMagic[8] = {'D', 'A', 'X', 'K',
                                          'V', 'S', 'E', 'G'};
inline constexpr uint64_t kSuperBlockSize = 256;
inline constexpr uint64_t kSuperBlockOffsetA = 0;
inline constexpr uint64_t kSuperBlockOffsetB = 4096;
inline constexpr uint64_t kDataOffset = 8192;
inline constexpr uint64_t kSegmentHeaderSize = 128;  // header + state lines
inline constexpr uint64_t kSealWordOffset = 64;      // within a segment
inline constexpr uint64_t kStateWordOffset = 72;
inline constexpr uint64_t kMinSegmentSize = 64 * 1024;
inline constexpr uint64_t kMaxSegmentSize = 1ull << 30;
inline constexpr uint64_t kRecordHeaderSize = 40;  // 2 CRCs + EntryHeader
inline constexpr uint64_t kEntryHeaderSize = 32;
inline constexpr uint64_t kMaxPoolBytes = 1ull << 42;  // 39-bit loc/8 in index

// State word values (segment offset 72). 0 = in use.
inline constexpr uint64_t kStateInUse = 0;
inline constexpr uint8_t kStateFreedTag = 0xF1;
inline constexpr uint8_t kStateAllocatingTag = 0xA1;
// A freed span head whose covered segments are released (version 2): the
// only free state of a span head that claims no segments after it.
inline constexpr uint8_t kStateReleasedTag = 0xF2;
inline uint64_t FreedState(uint64_t epoch) { return epoch << 8 | 0xF1; }
inline uint64_t AllocatingState(uint64_t epoch) { return epoch << 8 | 0xA1; }
inline uint64_t ReleasedState(uint64_t epoch) { return epoch << 8 | 0xF2; }

enum EntryType : uint8_t {
  kPut = 1,
  kTombstone = 2,
  kBatch = 3,
  kPadding = 4,  // written by repair over damaged bytes; CRCs cover header only
};

enum EntryFlags : uint8_t {
  // Every byte before this record in its segment was durable before this
  // record was written: a damaged record earlier in the segment is media
  // corruption, not a torn write.
  kFlagPrefixDurable = 1,
  kFlagSubEntry = 2,  // a sub-entry inside a batch record
};

struct SuperBlock {
  char magic[8];              // 0
  uint32_t format_version;    // 8
  uint32_t superblock_size;   // 12 (256)
  uint8_t uuid[16];           // 16
  uint64_t segment_size;      // 32
  uint64_t segment_count;     // 40
  uint64_t data_offset;       // 48
  uint64_t generation;        // 56 (higher copy wins)
  uint64_t clean_shutdown;    // 64 (1 = last close was clean)
  uint64_t flush_seq;         // 72 (records with seq <= this are void)
  uint64_t open_count;        // 80
  uint64_t crash_recoveries;  // 88
  int64_t last_open_ms;       // 96
  int64_t last_close_ms;      // 104
  int64_t created_ms;         // 112
  uint64_t last_recovery_ms;  // 120 (duration of the last recovery)
  uint8_t reserved[124];      // 128
  uint32_t crc;               // 252: CRC32C of bytes [0, 252)
};
static_assert(sizeof(SuperBlock) == kSuperBlockSize);

struct SegmentHeader {
  char magic[8];       // 0
  uint8_t uuid[16];    // 8 (the pool's)
  uint64_t epoch;      // 24 (unique per allocation, increasing)
  uint64_t open_seq;   // 32 (global sequence when allocated)
  uint32_t span;       // 40 (segments covered: 1, or N > 1 for a span)
  uint32_t reserved0;  // 44
  // 48: nonzero marks a compaction log: the epoch of the segment being
  // compacted when this one was allocated (recovery resumes that
  // compaction first; see docs/format.md). 0 = a user log.
  uint64_t victim_epoch;
  uint32_t reserved2;  // 56
  uint32_t crc;        // 60: CRC32C of bytes [0, 60)
};
static_assert(sizeof(SegmentHeader) == 64);

struct EntryHeader {
  uint8_t type;          // 0  EntryType
  uint8_t flags;         // 1  EntryFlags
  uint16_t reserved;     // 2
  uint32_t key_len;      // 4
  uint64_t seq;          // 8  global sequence number (= the key's version)
  uint32_t value_len;    // 16
  uint32_t epoch_lo;     // 20 low 32 bits of the segment epoch (records only)
  int64_t expire_at_ms;  // 24 0 = never
};
static_assert(sizeof(EntryHeader) == kEntryHeaderSize);

inline constexpr uint64_t Align8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

// Bytes an entry occupies in the log, padding included.
inline uint64_t EntrySize(uint64_t key_len, uint64_t value_len) {
  return Align8(kEntryHeaderSize + key_len + value_len);
}
// Segments a span needs for a record of `record_size` bytes.
inline uint64_t SpanSegments(uint64_t record_size, uint64_t segment_size) {
  return (kSegmentHeaderSize + record_size + segment_size - 1) / segment_size;
}
inline uint64_t RecordSize(uint64_t key_len, uint64_t value_len) {
  return Align8(kRecordHeaderSize + key_len + value_len);
}

inline EntryHeader LoadEntry(const char* p) {
  EntryHeader e;
  std::memcpy(&e, p, sizeof(e));
  return e;
}
inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Bytes an indexed entry at `p` accounts for (its record for single entries).
inline uint64_t IndexedEntryBytes(const EntryHeader& e) {
  uint64_t n = EntrySize(e.key_len, e.value_len);
  return (e.flags & kFlagSubEntry) ? n : n + 8;
}

// CRC seed of a segment incarnation: CRC32C(uuid || epoch). Records of an
// older incarnation or another pool therefore never verify.
uint32_t SegmentSeed(const uint8_t uuid[16], uint64_t epoch);

uint32_t SuperBlockCrc(const SuperBlock& sb);
uint32_t SegmentHeaderCrc(const SegmentHeader& h);
// Seal word: [tail bytes:32][CRC32C(seed, tail):32]. 0 = not sealed.
uint64_t SealWord(uint32_t seed, uint32_t tail);
bool DecodeSealWord(uint64_t word, uint32_t seed, uint32_t* tail);

// Writes a complete record (header, key, value) into `out`, which must hold
// RecordSize(key.size(), value.size()) bytes. Returns the record size.
// `value_dst_skip` true leaves the value bytes unwritten (the caller copies
// them, e.g. with non-temporal stores); the CRC still covers `value`.
uint64_t EncodeRecord(char* out, uint32_t seed, const EntryHeader& entry,
                      std::string_view key, std::string_view value,
                      bool value_dst_skip = false);
// Header CRCs for a record whose payload is already in place at `rec`.
void SealRecordCrcs(char* rec, uint32_t seed);

enum class RecordCheck {
  kValid,
  kBadHeader,  // header CRC or fields invalid: length unknown
  kBadData,    // header valid (length known) but payload CRC mismatch
};
// Checks the record at `rec`, which has `avail` bytes before the segment's
// end. On kValid and kBadData, *size is the record size.
RecordCheck CheckRecord(const char* rec, uint64_t avail, uint32_t seed,
                        uint64_t epoch, uint64_t* size);

// Iterates the entries a valid record indexes: itself, or a batch's
// sub-entries. fn(offset_in_record, header) returns false to stop.
// Returns false when a batch's sub-entry layout is inconsistent.
template <typename Fn>
bool ForEachEntry(const char* rec, Fn&& fn) {
  EntryHeader e = LoadEntry(rec + 8);
  if (e.type == kPut || e.type == kTombstone) {
    fn(uint64_t{8}, e);
    return true;
  }
  if (e.type != kBatch) return true;  // padding: nothing indexed
  uint64_t off = kRecordHeaderSize;
  const uint64_t end = kRecordHeaderSize + e.value_len;
  while (off < end) {
    if (end - off < kEntryHeaderSize) return false;
    EntryHeader sub = LoadEntry(rec + off);
    uint64_t n = EntrySize(sub.key_len, sub.value_len);
    if ((sub.type != kPut && sub.type != kTombstone) || n > end - off) {
      return false;
    }
    if (!fn(off, sub)) return true;
    off += n;
  }
  return true;
}

std::string UuidToString(const uint8_t uuid[16]);
// "0x1f40": how offsets appear in error messages and reports.
std::string HexOffset(uint64_t offset);

}  // namespace daxkv::engine::format

#endif  // DAXKV_ENGINE_FORMAT_H_
