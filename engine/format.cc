#include "engine/format.h"

#include <cstdio>

#include "base/crc32c.h"

namespace daxkv::engine::format {

uint32_t SegmentSeed(const uint8_t uuid[16], uint64_t epoch) {
  uint32_t c = crc32c::Value(uuid, 16);
  return crc32c::Extend(c, &epoch, sizeof(epoch));
}

uint32_t SuperBlockCrc(const SuperBlock& sb) {
  return crc32c::Value(&sb, offsetof(SuperBlock, crc));
}

uint32_t SegmentHeaderCrc(const SegmentHeader& h) {
  return crc32c::Value(&h, offsetof(SegmentHeader, crc));
}

namespace {

// [tail:32][CRC32C(check_seed, tail):32]; 0 = none.
uint64_t TailWord(uint32_t check_seed, uint32_t tail) {
  uint32_t check = crc32c::Extend(check_seed, &tail, sizeof(tail));
  return uint64_t{tail} | uint64_t{check} << 32;
}

bool DecodeTailWord(uint64_t word, uint32_t check_seed, uint32_t* tail) {
  if (word == 0) return false;
  uint32_t t = static_cast<uint32_t>(word);
  if (TailWord(check_seed, t) != word) return false;
  *tail = t;
  return true;
}

// The watermark's checks are seeded apart from the seal word's.
uint32_t WatermarkSeed(uint32_t seed) {
  return crc32c::Extend(seed, "WMRK", 4);
}

}  // namespace

uint64_t SealWord(uint32_t seed, uint32_t tail) { return TailWord(seed, tail); }

bool DecodeSealWord(uint64_t word, uint32_t seed, uint32_t* tail) {
  return DecodeTailWord(word, seed, tail);
}

uint64_t WatermarkWord(uint32_t seed, uint32_t tail) {
  return TailWord(WatermarkSeed(seed), tail);
}

bool DecodeWatermarkWord(uint64_t word, uint32_t seed, uint32_t* tail) {
  return DecodeTailWord(word, WatermarkSeed(seed), tail);
}

namespace {

uint32_t HeaderCrc(uint32_t seed, const char* rec) {
  return crc32c::Extend(seed, rec + 8, kEntryHeaderSize);
}

}  // namespace

uint64_t EncodeRecord(char* out, uint32_t seed, const EntryHeader& entry,
                      std::string_view key, std::string_view value,
                      bool value_dst_skip) {
  char hdr[kRecordHeaderSize];
  std::memcpy(hdr + 8, &entry, sizeof(entry));
  uint32_t hcrc = HeaderCrc(seed, hdr);
  std::memcpy(hdr + 4, &hcrc, 4);
  uint32_t dcrc = crc32c::Extend(seed, hdr + 4, kRecordHeaderSize - 4);
  dcrc = crc32c::Extend(dcrc, key.data(), key.size());
  dcrc = crc32c::Extend(dcrc, value.data(), value.size());
  std::memcpy(hdr, &dcrc, 4);
  std::memcpy(out, hdr, kRecordHeaderSize);
  std::memcpy(out + kRecordHeaderSize, key.data(), key.size());
  if (!value_dst_skip) {
    std::memcpy(out + kRecordHeaderSize + key.size(), value.data(),
                value.size());
  }
  return RecordSize(key.size(), value.size());
}

void SealRecordCrcs(char* rec, uint32_t seed) {
  EntryHeader e = LoadEntry(rec + 8);
  uint32_t hcrc = HeaderCrc(seed, rec);
  std::memcpy(rec + 4, &hcrc, 4);
  uint64_t covered = e.type == kPadding ? kRecordHeaderSize - 4
                                        : kRecordHeaderSize - 4 +
                                              uint64_t{e.key_len} + e.value_len;
  uint32_t dcrc = crc32c::Extend(seed, rec + 4, covered);
  std::memcpy(rec, &dcrc, 4);
}

RecordCheck CheckRecord(const char* rec, uint64_t avail, uint32_t seed,
                        uint64_t epoch, uint64_t* size) {
  if (avail < kRecordHeaderSize) return RecordCheck::kBadHeader;
  if (Load32(rec + 4) != HeaderCrc(seed, rec)) return RecordCheck::kBadHeader;
  EntryHeader e = LoadEntry(rec + 8);
  if (e.type < kPut || e.type > kMaxEntryType ||
      e.epoch_lo != static_cast<uint32_t>(epoch)) {
    return RecordCheck::kBadHeader;
  }
  uint64_t n = RecordSize(e.key_len, e.value_len);
  if (n > avail) return RecordCheck::kBadHeader;
  *size = n;
  uint64_t covered = e.type == kPadding ? kRecordHeaderSize - 4
                                        : kRecordHeaderSize - 4 +
                                              uint64_t{e.key_len} + e.value_len;
  if (Load32(rec) != crc32c::Extend(seed, rec + 4, covered)) {
    return RecordCheck::kBadData;
  }
  return RecordCheck::kValid;
}

void AppendSubEntry(std::string* image, uint8_t type, uint64_t seq,
                    std::string_view key, std::string_view value,
                    int64_t expire_at_ms, uint16_t reserved) {
  EntryHeader e{};
  e.type = type;
  e.flags = kFlagSubEntry;
  e.reserved = reserved;
  e.key_len = static_cast<uint32_t>(key.size());
  e.seq = seq;
  e.value_len = static_cast<uint32_t>(value.size());
  e.expire_at_ms = expire_at_ms;
  size_t at = image->size();
  image->resize(at + EntrySize(key.size(), value.size()), '\0');
  char* p = image->data() + at;
  std::memcpy(p, &e, sizeof(e));
  std::memcpy(p + kEntryHeaderSize, key.data(), key.size());
  std::memcpy(p + kEntryHeaderSize + key.size(), value.data(), value.size());
}

void SetBatchHeader(std::string* image, uint64_t seq) {
  EntryHeader h{};
  h.type = kBatch;
  h.seq = seq;
  h.value_len = static_cast<uint32_t>(image->size() - kRecordHeaderSize);
  std::memcpy(image->data() + 8, &h, sizeof(h));
}

std::string HexOffset(uint64_t offset) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx",
                static_cast<unsigned long long>(offset));
  return buf;
}

std::string UuidToString(const uint8_t uuid[16]) {
  char buf[40];
  std::snprintf(buf, sizeof(buf),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                "%02x%02x%02x%02x%02x%02x",
                uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6],
                uuid[7], uuid[8], uuid[9], uuid[10], uuid[11], uuid[12],
                uuid[13], uuid[14], uuid[15]);
  return buf;
}

}  // namespace daxkv::engine::format
