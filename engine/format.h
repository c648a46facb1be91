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

// Version 2 adds spans (SegmentHeader::span > 1); version 3 codes the state
// word (error-correcting, below), adds the durable watermark, stamps
// flush_seq into segment headers and adds link entries; version 4 adds the
// collection entries (meta, element, element tombstone); version 5 adds
// the stream collection type (6) and system entries (kFlagSystem, the
// hidden system namespace); version 6 adds packed sets (a set element
// with subkey "" whose value is its set's integers, coll_packed_ints.h);
// version 7 adds stream consumer-group elements (subkeys of 16 zero bytes
// and more, kv/stream_group_codec.h).
// Older pools are read as they are and upgraded on open (docs/format.md,
// Version policy).
inline constexpr uint32_t kFormatVersion = 7;
inline constexpr uint32_t kOldestFormatVersion = 1;
// The first version whose state words are coded (older: legacy values).
inline constexpr uint32_t kCodedStateVersion = 3;
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
// Version 3: the durable watermark of an active log (see WatermarkWord).
inline constexpr uint64_t kWatermarkOffset = 80;
inline constexpr uint64_t kMinSegmentSize = 64 * 1024;
inline constexpr uint64_t kMaxSegmentSize = 1ull << 30;
inline constexpr uint64_t kRecordHeaderSize = 40;  // 2 CRCs + EntryHeader
inline constexpr uint64_t kEntryHeaderSize = 32;
// Fewest segments Format makes: puts keep 3 free (the compaction, shared
// tombstone and per-head tombstone reserves), so 6 leave room for a
// compaction log and two of data.
inline constexpr uint64_t kMinSegments = 6;
inline constexpr uint64_t kMaxPoolBytes = 1ull << 42;  // 39-bit loc/8 in index

// Segment states (the state word at segment offset 72).
enum class SegState : uint8_t {
  kInvalid = 0,  // not a valid state word (damaged), never written
  kInUse = 1,
  kFreed = 2,       // freed by compaction or Flush (a span head: still claims)
  kReleased = 3,    // a freed span head whose covered segments are released
  kAllocating = 4,  // allocation under way (the word's epoch is the new one)
};
const char* SegStateName(SegState s);

// Version 3 state words are codewords of a [64, 45, 8] extended BCH code:
// 45 information bits (state in bits 0-2, epoch in bits 3-44), 18 check
// bits and an overall parity bit. Any 1 to 3 flipped bits are corrected,
// any 4 detected (docs/format.md has the layout and the generator).
inline constexpr uint64_t kMaxStateEpoch = (uint64_t{1} << 42) - 1;
// REQUIRES: epoch <= kMaxStateEpoch, s != kInvalid.
uint64_t StateWord(SegState s, uint64_t epoch);

struct DecodedState {
  SegState state = SegState::kInvalid;
  uint64_t epoch = 0;
  bool epoch_known = true;  // false: legacy "in use" (0), which has none
  int corrected_bits = 0;   // bits the decoder flipped back (0..3)
  bool legacy = false;      // a version 1-2 value (rewritten on upgrade)
};
// Decodes a state word of a pool of `format_version`. Version 3: nearest
// codeword within 3 bits, else kInvalid. Versions 1-2: the legacy values
// (0 in use; epoch << 8 | 0xF1 freed, 0xF2 released, 0xA1 allocating)
// exactly, or a coded word (an upgrade converts them one by one).
DecodedState DecodeStateWord(uint64_t word, uint32_t format_version);
// Legacy (version 1-2) state words, as older binaries wrote them.
inline uint64_t LegacyStateWord(SegState s, uint64_t epoch) {
  switch (s) {
    case SegState::kFreed:
      return epoch << 8 | 0xF1;
    case SegState::kReleased:
      return epoch << 8 | 0xF2;
    case SegState::kAllocating:
      return epoch << 8 | 0xA1;
    default:
      return 0;
  }
}

enum EntryType : uint8_t {
  kPut = 1,
  kTombstone = 2,
  kBatch = 3,
  kPadding = 4,  // written by repair over damaged bytes; CRCs cover header only
  // Version 3: the key holds the value of another put entry, one in a span
  // (RENAME of a large value without copying it). Its value is a
  // LinkPayload; its expiry is its own.
  kLink = 5,
  // Version 4 (docs/collections.md): the key holds a collection. Its value
  // is a MetaPayload (type, id); its expiry is the collection's.
  kMeta = 6,
  // Version 4: one element of the collection whose id is in the
  // expire_at_ms slot (ElemId) and whose type in `reserved` (ElemType). The
  // key field holds the subkey (field, member, list order key; may be
  // empty), the value the element's value (a zset's: the score).
  kElem = 7,
  // Version 4: deletes the element (id, subkey) as a tombstone deletes a
  // key; no value.
  kElemTombstone = 8,
};
inline constexpr uint8_t kMaxEntryType = kElemTombstone;

// An entry that makes its key live when the index points at it: it holds a
// value (put), names one (link) or a collection (meta).
inline bool HoldsValue(uint8_t type) {
  return type == kPut || type == kLink || type == kMeta;
}
// Entries of keys: what the key index holds.
inline bool IsKeyEntry(uint8_t type) {
  return type == kPut || type == kTombstone || type == kLink || type == kMeta;
}
// Entries of collection elements (the collection builder's and the
// collection structures' business, never the key index's).
inline bool IsElemEntry(uint8_t type) {
  return type == kElem || type == kElemTombstone;
}
// Deletes: a key's or an element's.
inline bool IsTombstone(uint8_t type) {
  return type == kTombstone || type == kElemTombstone;
}
// Entries a record carries (ForEachEntry yields them): not batch headers
// nor padding.
inline bool Indexable(uint8_t type) {
  return IsKeyEntry(type) || IsElemEntry(type);
}

enum EntryFlags : uint8_t {
  // Every byte before this record in its segment was durable before this
  // record was written: a damaged record earlier in the segment is media
  // corruption, not a torn write.
  kFlagPrefixDurable = 1,
  kFlagSubEntry = 2,  // a sub-entry inside a batch record
  // Version 5: a put or tombstone of the hidden system namespace (a batch
  // sub-entry; docs/format.md, "System entries"). Flush() keeps it (it is
  // not voided by flush_seq) and it is never in the key index.
  kFlagSystem = 4,
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
  // 128: 1 + the segment holding the clean-close index snapshot's header
  // (engine/index_snapshot.h); 0 = none. Cleared by every open.
  uint64_t index_snapshot;
  uint8_t reserved[116];      // 136
  uint32_t crc;               // 252: CRC32C of bytes [0, 252)
};
static_assert(sizeof(SuperBlock) == kSuperBlockSize);

struct SegmentHeader {
  char magic[8];       // 0
  uint8_t uuid[16];    // 8 (the pool's)
  uint64_t epoch;      // 24 (unique per allocation, increasing)
  uint64_t open_seq;   // 32 (global sequence when allocated)
  uint32_t span;       // 40 (segments covered: 1, or N > 1 for a span)
  // 44 and 56 (version 3): the superblock's flush_seq when the segment was
  // allocated, low and high halves (0 in older pools). Lets a superblock
  // rebuilt from the segments void what an earlier Flush() voided.
  uint32_t flush_seq_lo;
  // 48: nonzero marks a compaction log: the epoch of the segment being
  // compacted when this one was allocated (recovery resumes that
  // compaction first; see docs/format.md). 0 = a user log.
  uint64_t victim_epoch;
  uint32_t flush_seq_hi;  // 56
  uint32_t crc;           // 60: CRC32C of bytes [0, 60)
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
inline bool IsSystemEntry(const EntryHeader& e) {
  return (e.flags & kFlagSystem) != 0;
}
static_assert(sizeof(EntryHeader) == kEntryHeaderSize);

// A link's value: the pool offset of the put entry (its EntryHeader) whose
// value the link's key holds, and that entry's seq (recovery checks both).
struct LinkPayload {
  uint64_t target;  // 0
  uint64_t seq;     // 8
};
static_assert(sizeof(LinkPayload) == 16);

// A meta entry's value (version 4): the collection's type (KeyType 2..5;
// 6, stream, from version 5)
// and its id, unique forever (reserved from the sequence numbers when the
// collection is created; kept by expiry changes, renames and relocation).
struct MetaPayload {
  uint8_t type;         // 0
  uint8_t reserved[7];  // 1, zero
  uint64_t id;          // 8, nonzero
};
static_assert(sizeof(MetaPayload) == 16);

inline MetaPayload MakeMeta(uint8_t type, uint64_t id) {
  MetaPayload m{};
  m.type = type;
  m.id = id;
  return m;
}
inline std::string_view MetaBytes(const MetaPayload& m) {
  return {reinterpret_cast<const char*>(&m), sizeof(m)};
}
// The payload of the meta entry at `entry` (REQUIRES: a meta entry whose
// value is 16 bytes; CheckEntry verified it).
inline MetaPayload LoadMeta(const char* entry);
// An element entry's collection id and type.
inline uint64_t ElemId(const EntryHeader& e) {
  return static_cast<uint64_t>(e.expire_at_ms);
}
inline uint8_t ElemType(const EntryHeader& e) {
  return static_cast<uint8_t>(e.reserved);
}
// "" when the entry at `entry` (header `e`) is well formed beyond its
// CRCs (docs/format.md, Validity: key lengths, meta payloads, element
// types, zset scores, list order keys); else what is wrong.
std::string CheckEntry(const char* entry, const EntryHeader& e);

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
// The key (an element's subkey) of the entry whose header is at `p`.
inline std::string_view EntryKey(const char* p) {
  return {p + kEntryHeaderSize, Load32(p + 4)};
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
// A segment header line that was written whole: magic and CRC match (the
// uuid, the pool's, is the caller's to compare).
inline bool ValidSegmentHeader(const SegmentHeader& h) {
  return std::memcmp(h.magic, kSegmentMagic, 8) == 0 &&
         h.crc == SegmentHeaderCrc(h);
}
// Seal word: [tail bytes:32][CRC32C(seed, tail):32]. 0 = not sealed.
uint64_t SealWord(uint32_t seed, uint32_t tail);
bool DecodeSealWord(uint64_t word, uint32_t seed, uint32_t* tail);
// Durable watermark (version 3, segment offset 80): [tail:32][check:32],
// check = CRC32C(seed, "WMRK" || tail). Every record below `tail` was
// durable when the word was written. 0 = none.
uint64_t WatermarkWord(uint32_t seed, uint32_t tail);
bool DecodeWatermarkWord(uint64_t word, uint32_t seed, uint32_t* tail);

inline uint64_t HeaderFlushSeq(const SegmentHeader& h) {
  return uint64_t{h.flush_seq_hi} << 32 | h.flush_seq_lo;
}
inline void SetHeaderFlushSeq(SegmentHeader* h, uint64_t flush_seq) {
  h->flush_seq_lo = static_cast<uint32_t>(flush_seq);
  h->flush_seq_hi = static_cast<uint32_t>(flush_seq >> 32);
}

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
  if (Indexable(e.type)) {
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
    if (!Indexable(sub.type) || n > end - off) {
      return false;
    }
    if (!fn(off, sub)) return true;
    off += n;
  }
  return true;
}

// Bytes of the valid record at `rec` that are tombstones, key or element:
// the whole record when it is one, else its tombstone sub-entries. What a
// segment's `tomb` counts, at append and at recovery alike.
inline uint64_t TombstoneBytes(const char* rec) {
  const EntryHeader re = LoadEntry(rec + 8);
  if (IsTombstone(re.type)) return RecordSize(re.key_len, re.value_len);
  uint64_t n = 0;
  if (re.type == kBatch) {
    ForEachEntry(rec, [&](uint64_t, const EntryHeader& e) {
      if (IsTombstone(e.type)) n += EntrySize(e.key_len, e.value_len);
      return true;
    });
  }
  return n;
}

// Iterates the entries of a segment's valid records, [kSegmentHeaderSize,
// tail) of the segment at `sp`: fn(offset_in_segment, header) for each.
template <typename Fn>
void ForEachSegmentEntry(const char* sp, uint32_t tail, Fn&& fn) {
  for (uint32_t off = kSegmentHeaderSize; off < tail;) {
    const char* rec = sp + off;
    const EntryHeader re = LoadEntry(rec + 8);
    ForEachEntry(rec, [&](uint64_t o, const EntryHeader& e) {
      fn(off + o, e);
      return true;
    });
    off += static_cast<uint32_t>(RecordSize(re.key_len, re.value_len));
  }
}

inline MetaPayload LoadMeta(const char* entry) {
  const EntryHeader e = LoadEntry(entry);
  MetaPayload m;
  std::memcpy(&m, entry + kEntryHeaderSize + e.key_len, sizeof(m));
  return m;
}

// The link payload of the link entry at `entry`.
inline LinkPayload LoadLink(const char* entry) {
  const EntryHeader e = LoadEntry(entry);
  LinkPayload l;
  std::memcpy(&l, entry + kEntryHeaderSize + e.key_len, sizeof(l));
  return l;
}
// The value of the entry at pool offset `loc` (a link's: its target's).
inline std::string_view EntryValue(const char* base, uint64_t loc) {
  const char* p = base + loc;
  EntryHeader e = LoadEntry(p);
  if (e.type == kLink) {
    p = base + LoadLink(p).target;
    e = LoadEntry(p);
  }
  return {p + kEntryHeaderSize + e.key_len, e.value_len};
}

// Appends one batch sub-entry (header, key, value, padding) to `image`.
// `reserved`: the header's reserved field (an element's collection type).
void AppendSubEntry(std::string* image, uint8_t type, uint64_t seq,
                    std::string_view key, std::string_view value,
                    int64_t expire_at_ms, uint16_t reserved = 0);
// Fills the batch EntryHeader of `image`: its first kRecordHeaderSize bytes
// (CRCs left for AppendImage), then the sub-entries appended above.
void SetBatchHeader(std::string* image, uint64_t seq);

std::string UuidToString(const uint8_t uuid[16]);
// "0x1f40": how offsets appear in error messages and reports.
std::string HexOffset(uint64_t offset);

}  // namespace daxkv::engine::format

#endif  // DAXKV_ENGINE_FORMAT_H_
