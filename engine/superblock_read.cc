// Reading the two superblock copies (ReadSuperBlocks, engine/pool_scan.h).
#include <algorithm>
#include <cstring>
#include <string>

#include "engine/pool_scan.h"

namespace daxkv::engine {

using format::SuperBlock;

namespace {

bool AllZeroBytes(const char* c, size_t n) {
  return std::all_of(c, c + n, [](char b) { return b == 0; });
}

// True for a superblock slot that holds no pool: all zero, or left by a
// Format() that crashed before storing the magic (stored last, one 8-byte
// store per copy). Such a slot has a zero magic, zeros past the 256-byte
// superblock, and line 0 either zero or carrying this format's version and
// size; anything else is somebody's data and is never formatted over.
bool Unformatted(const char* slot) {
  if (!AllZeroBytes(slot, 8) || !AllZeroBytes(slot + format::kSuperBlockSize,
                                              4096 - format::kSuperBlockSize)) {
    return false;
  }
  if (AllZeroBytes(slot + 8, 56)) return true;
  const uint32_t version = format::Load32(slot + 8);
  return version >= format::kOldestFormatVersion &&
         version <= format::kFormatVersion &&
         format::Load32(slot + 12) == format::kSuperBlockSize;
}

// Validates one superblock copy; sets *newer for a newer format version.
bool ValidCopy(const SuperBlock& sb, bool* newer) {
  if (std::memcmp(sb.magic, format::kPoolMagic, 8) != 0) return false;
  if (sb.format_version > format::kFormatVersion) {
    *newer = true;
    return false;
  }
  return sb.crc == format::SuperBlockCrc(sb) &&
         sb.format_version >= format::kOldestFormatVersion;
}

}  // namespace

Status ReadSuperBlocks(const char* base, size_t size, SuperBlockRead* out) {
  if (size < format::kDataOffset + format::kMinSegmentSize) {
    return InvalidArgumentError("region of " + std::to_string(size) +
                                " bytes is too small for a daxkv pool");
  }
  SuperBlock a, b;
  std::memcpy(&a, base + format::kSuperBlockOffsetA, sizeof(a));
  std::memcpy(&b, base + format::kSuperBlockOffsetB, sizeof(b));
  if (Unformatted(base + format::kSuperBlockOffsetA) &&
      Unformatted(base + format::kSuperBlockOffsetB)) {
    out->blank = true;
    return OkStatus();
  }
  bool newer = false;
  out->valid_a = ValidCopy(a, &newer);
  out->valid_b = ValidCopy(b, &newer);
  if (newer) {
    uint32_t v = std::max(a.format_version, b.format_version);
    return NotSupportedError(
        "pool format version " + std::to_string(v) +
        " is newer than this daxkv build supports (version " +
        std::to_string(format::kFormatVersion) + "); use a newer daxkv");
  }
  if (!out->valid_a && !out->valid_b) {
    out->no_valid_copy = true;
    return CorruptionError(
        "no valid daxkv superblock at offsets 0x0 and 0x1000 (not a daxkv "
        "pool, or both copies damaged)");
  }
  if (!out->valid_a) {
    out->problems.push_back({format::kSuperBlockOffsetA,
                             format::kSuperBlockSize, true,
                             "superblock copy A damaged"});
  }
  if (!out->valid_b) {
    out->problems.push_back({format::kSuperBlockOffsetB,
                             format::kSuperBlockSize, true,
                             "superblock copy B damaged"});
  }
  out->sb =
      (out->valid_a && (!out->valid_b || a.generation >= b.generation)) ? a : b;
  const SuperBlock& sb = out->sb;
  if (sb.segment_size < format::kMinSegmentSize ||
      sb.segment_size > format::kMaxSegmentSize || sb.segment_size % 4096 ||
      sb.data_offset != format::kDataOffset || sb.segment_count == 0) {
    return CorruptionError("superblock geometry is invalid (segment size " +
                           std::to_string(sb.segment_size) + ", count " +
                           std::to_string(sb.segment_count) + ")");
  }
  uint64_t need = sb.data_offset + sb.segment_count * sb.segment_size;
  if (need > size) {
    return CorruptionError("pool needs " + std::to_string(need) +
                           " bytes but the region has only " +
                           std::to_string(size) + " (truncated?)");
  }
  return OkStatus();
}

}  // namespace daxkv::engine
