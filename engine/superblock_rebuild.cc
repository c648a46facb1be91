#include "engine/superblock_rebuild.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <thread>

namespace daxkv::engine {
namespace {

using format::SegmentHeader;

constexpr uint64_t kProbeStep = 4096;
constexpr uint64_t kDefaultSegmentSize = 4 << 20;  // Options::segment_size

bool HasMagic(const char* p) {
  return std::memcmp(p, format::kSegmentMagic, 8) == 0;
}

bool ValidHeader(const char* p, SegmentHeader* h) {
  std::memcpy(h, p, sizeof(*h));
  return format::ValidSegmentHeader(*h);
}

struct Found {
  uint64_t offset;
  SegmentHeader header;
  uint64_t tail;  // segment offset past its last valid record (or seal)
  // Segments it claims (docs/format.md, Spans): its span while in use or
  // while a span free is unfinished; 1 once released or re-allocating.
  uint64_t claim;
};

uint64_t Claim(const SegmentHeader& h, uint64_t state_word) {
  format::DecodedState st =
      format::DecodeStateWord(state_word, format::kCodedStateVersion - 1);
  const bool own = !st.epoch_known || st.epoch == h.epoch;
  const bool claims = own && (st.state == format::SegState::kInUse ||
                              st.state == format::SegState::kFreed ||
                              st.state == format::SegState::kAllocating);
  return claims ? std::max<uint32_t>(h.span, 1) : 1;
}

// End of the records a header's segment holds, read without knowing the
// segment size: valid records from 128 on, or the seal word's tail.
uint64_t RecordsEnd(const char* base, size_t size, const Found& f) {
  const char* sp = base + f.offset;
  const uint32_t seed = format::SegmentSeed(f.header.uuid, f.header.epoch);
  uint64_t off = format::kSegmentHeaderSize;
  const uint64_t avail = size - f.offset;
  for (uint64_t n = 0; off < avail; off += n) {
    if (format::CheckRecord(sp + off, avail - off, seed, f.header.epoch, &n) !=
        format::RecordCheck::kValid) {
      break;
    }
  }
  uint32_t sealed = 0;
  if (format::DecodeSealWord(format::Load64(sp + format::kSealWordOffset), seed,
                             &sealed)) {
    off = std::max<uint64_t>(off, sealed);
  }
  return off;
}

// Whether every header sits on a segment boundary of size `seg` and keeps
// its records (and its span) inside its own segments.
bool Consistent(const std::vector<Found>& found, uint64_t seg, size_t size) {
  const uint64_t count =
      (std::min<uint64_t>(size, format::kMaxPoolBytes) - format::kDataOffset) /
      seg;
  if (count < format::kMinSegments) return false;  // Format makes no fewer
  uint64_t claimed_end = 0;       // pool offset up to which a span claims
  for (const Found& f : found) {  // sorted by offset
    const uint64_t rel = f.offset - format::kDataOffset;
    const uint64_t span = std::max<uint32_t>(f.header.span, 1);
    if (rel % seg != 0 || rel / seg + f.claim > count) return false;
    if (f.offset < claimed_end) return false;  // inside another's span
    if (f.tail > span * seg) return false;
    if (span > 1 && f.tail > format::kSegmentHeaderSize &&
        f.tail <= (span - 1) * seg) {
      return false;  // a span record that would fit in fewer segments
    }
    claimed_end = std::max(claimed_end, f.offset + f.claim * seg);
  }
  return true;
}

std::string SizeList(const std::vector<uint64_t>& sizes) {
  std::string s;
  for (size_t i = 0; i < sizes.size() && i < 8; ++i) {
    s += (i ? ", " : "") + std::to_string(sizes[i]);
  }
  if (sizes.size() > 8) s += ", ...";
  return s;
}

// Every candidate keeps every record found inside its segment(s), so any
// of them reads all the data there is; when the evidence leaves several
// (few headers), the one nearest the engine's default is taken and said so.
StatusOr<uint64_t> PickSegmentSize(const std::vector<uint64_t>& candidates,
                                   const RebuildOptions& options,
                                   std::string* note) {
  auto has = [&](uint64_t s) {
    return std::find(candidates.begin(), candidates.end(), s) !=
           candidates.end();
  };
  if (candidates.empty()) {
    return FailedPreconditionError(
        "no segment size fits the segment headers found (their offsets and "
        "record extents contradict each other)");
  }
  if (options.segment_size != 0) {
    if (has(options.segment_size)) return options.segment_size;
    return FailedPreconditionError(
        "segment size " + std::to_string(options.segment_size) +
        " does not fit the segment headers found (sizes that do: " +
        SizeList(candidates) + ")");
  }
  if (options.hint_segment_size != 0 && has(options.hint_segment_size)) {
    return options.hint_segment_size;
  }
  if (candidates.size() == 1) return candidates[0];
  uint64_t best = candidates[0];
  auto distance = [](uint64_t s) {
    return s > kDefaultSegmentSize ? s - kDefaultSegmentSize
                                   : kDefaultSegmentSize - s;
  };
  for (uint64_t s : candidates) {
    if (distance(s) <= distance(best)) best = s;
  }
  *note = "; chosen among " + std::to_string(candidates.size()) +
          " sizes that fit every record found (" + SizeList(candidates) +
          "; --segment_size picks another)";
  return best;
}

}  // namespace

std::string SegmentEvidence::Describe() const {
  std::string s;
  for (const Pool& p : pools) {
    s += (s.empty() ? "" : "; ") + std::to_string(p.headers) +
         " valid segment header(s) of pool " + format::UuidToString(p.uuid) +
         " (first at " + format::HexOffset(p.first_offset) + ")";
  }
  return s.empty() ? "no valid segment header" : s;
}

SegmentEvidence FindSegmentEvidence(const char* base, size_t size) {
  // One 64-byte read per 4 KiB page, which on a fresh file means one page
  // fault per page: split over threads like the recovery scan.
  const uint64_t pages =
      size > format::kDataOffset ? (size - format::kDataOffset) / kProbeStep : 0;
  const uint64_t threads = std::clamp<uint64_t>(
      std::min<uint64_t>(std::thread::hardware_concurrency(), 16), 1,
      std::max<uint64_t>(1, pages / 4096));
  std::vector<std::vector<uint64_t>> found(threads);
  auto probe = [&](uint64_t t) {
    const uint64_t from = pages * t / threads, to = pages * (t + 1) / threads;
    for (uint64_t p = from; p < to; ++p) {
      const uint64_t off = format::kDataOffset + p * kProbeStep;
      SegmentHeader h;
      if (off + sizeof(h) <= size && ValidHeader(base + off, &h)) {
        found[t].push_back(off);
      }
    }
  };
  std::vector<std::thread> workers;
  for (uint64_t t = 1; t < threads; ++t) workers.emplace_back(probe, t);
  probe(0);
  for (std::thread& w : workers) w.join();
  SegmentEvidence ev;
  for (const std::vector<uint64_t>& part : found) {
    for (uint64_t off : part) {
      SegmentHeader h;
      std::memcpy(&h, base + off, sizeof(h));
      ++ev.headers;
      ev.offsets.push_back(off);
      auto it = std::find_if(ev.pools.begin(), ev.pools.end(), [&](auto& p) {
        return std::memcmp(p.uuid, h.uuid, 16) == 0;
      });
      if (it == ev.pools.end()) {
        SegmentEvidence::Pool p;
        std::memcpy(p.uuid, h.uuid, 16);
        p.first_offset = off;
        it = ev.pools.insert(ev.pools.end(), p);
      }
      ++it->headers;
    }
  }
  return ev;
}

StatusOr<format::SuperBlock> RebuildSuperBlock(const char* base, size_t size,
                                               const SegmentEvidence& evidence,
                                               const RebuildOptions& options,
                                               std::string* choice) {
  if (evidence.pools.empty()) {
    return NotFoundError(
        "no valid segment header to rebuild a superblock from");
  }
  const SegmentEvidence::Pool* pool = nullptr;
  for (const SegmentEvidence::Pool& p : evidence.pools) {
    if (options.uuid ? format::UuidToString(p.uuid) == *options.uuid
                     : evidence.pools.size() == 1) {
      pool = &p;
    }
  }
  if (pool == nullptr) {
    return FailedPreconditionError(
        "found " + evidence.Describe() +
        (options.uuid ? "; none of pool " + *options.uuid
                      : "; name the pool to rebuild with --uuid"));
  }
  std::vector<Found> found;
  uint64_t spacing = 0;  // gcd of every magic's offset from kDataOffset
  uint64_t flush_seq = 0;
  size_t coded = 0, legacy = 0;
  for (uint64_t off = format::kDataOffset; off + sizeof(SegmentHeader) <= size;
       off += kProbeStep) {
    if (!HasMagic(base + off)) continue;
    // A damaged header still marks a segment start; another pool's does
    // not (its geometry may differ).
    SegmentHeader h;
    const bool valid = ValidHeader(base + off, &h);
    if (valid && std::memcmp(h.uuid, pool->uuid, 16) != 0) continue;
    spacing = std::gcd(spacing, off - format::kDataOffset);
    if (!valid) continue;
    const uint64_t word = format::Load64(base + off + format::kStateWordOffset);
    Found f{off, h, 0, Claim(h, word)};
    f.tail = RecordsEnd(base, size, f);
    found.push_back(f);
    flush_seq = std::max(flush_seq, format::HeaderFlushSeq(h));
    const format::DecodedState st =
        format::DecodeStateWord(word, format::kCodedStateVersion - 1);
    (st.state != format::SegState::kInvalid && st.legacy ? legacy : coded)++;
  }
  std::vector<uint64_t> candidates;
  const uint64_t top =
      std::min<uint64_t>(format::kMaxSegmentSize, size - format::kDataOffset);
  for (uint64_t s = format::kMinSegmentSize; s <= top; s += 4096) {
    if (spacing % s == 0 && Consistent(found, s, size)) candidates.push_back(s);
  }
  std::string note;
  DAXKV_ASSIGN_OR_RETURN(uint64_t seg,
                         PickSegmentSize(candidates, options, &note));
  if (choice != nullptr) *choice = note;
  format::SuperBlock sb{};
  std::memcpy(sb.magic, format::kPoolMagic, 8);
  sb.format_version =
      coded >= legacy ? format::kFormatVersion : format::kCodedStateVersion - 1;
  sb.superblock_size = format::kSuperBlockSize;
  std::memcpy(sb.uuid, pool->uuid, 16);
  sb.segment_size = seg;
  sb.segment_count =
      (std::min<uint64_t>(size, format::kMaxPoolBytes) - format::kDataOffset) /
      seg;
  sb.data_offset = format::kDataOffset;
  sb.generation = 1;
  sb.clean_shutdown = 0;  // the next open recovers, as after a crash
  sb.flush_seq = flush_seq;
  sb.crc = format::SuperBlockCrc(sb);
  return sb;
}

void WriteSuperBlockCopies(dax::Region& region, const format::SuperBlock& sb) {
  for (uint64_t off :
       {format::kSuperBlockOffsetA, format::kSuperBlockOffsetB}) {
    char* p = region.data() + off;
    std::memcpy(p, &sb, sizeof(sb));
    // Durability: copy A is whole and durable before B is touched, so a
    // crash leaves A valid (B healed on open), or neither (rebuild again).
    region.Persist(p, sizeof(sb));
  }
}

}  // namespace daxkv::engine
