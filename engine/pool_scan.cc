#include "engine/pool_scan.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <string>
#include <thread>

#include "base/mutex.h"
#include "engine/coll_builder.h"
#include "engine/db.h"
#include "engine/index_builder.h"
#include "engine/system_table.h"

namespace daxkv::engine {

using format::SuperBlock;

namespace {

bool AllZero(const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (c[i] != 0) return false;
  }
  return true;
}

}  // namespace

namespace {

// The scan worker running on this thread (set by Scanner::Run): selects its
// IndexBuilder buffers and totals, so that workers share no written lines.
thread_local int tl_scan_worker = 0;

class Scanner {
 public:
  Scanner(const char* base, const SuperBlock& sb, Index* index,
          const ScanOptions& options, PoolScan* out)
      : base_(base), sb_(sb), index_(index), options_(options), out_(out) {}

  void Run();

 private:
  void ScanSegment(uint64_t i);
  void ClassifyAll();
  void ClassifySegment(uint64_t i, SegmentScan* seg);
  format::SegState DecideState(const format::DecodedState& st,
                               const format::SegmentHeader& h,
                               bool crc_ok) const;
  bool CoveredSegmentsReused(uint64_t i, const format::SegmentHeader& h) const;
  void NoteEpoch(uint64_t e);
  uint32_t ReadWatermark(uint64_t i, const char* sp, uint64_t extent,
                         SegmentScan* seg);
  // The segment whose live bytes account for pool offset `loc` (a span's
  // head for any byte of the span).
  void ScanRecords(uint64_t i, SegmentScan* seg);
  uint32_t Resync(const char* seg_base, const SegmentScan& seg, uint32_t from,
                  uint32_t end) const;
  // "" when the record's entries are consistent and valid (then fed to
  // the builders); else what is wrong.
  std::string FeedRecord(uint64_t rec_off, const char* rec);
  void AddProblem(PoolProblem p) {
    MutexLock l(&mu_);
    out_->problems.push_back(std::move(p));
  }

  const char* base_;
  const SuperBlock& sb_;
  Index* index_;
  const ScanOptions& options_;
  PoolScan* out_;
  IndexBuilder* builder_ = nullptr;
  CollBuilder* colls_ = nullptr;
  struct alignas(64) WorkerTotals {
    uint64_t max_seq = 0;
    uint64_t entries = 0;
    uint64_t system_entries = 0;
    std::vector<uint64_t> links;  // link entries found (kLink)
  };
  std::vector<WorkerTotals> totals_;
  Mutex mu_;  // serialises AddProblem
  std::atomic<uint64_t> next_segment_{0};
  std::atomic<uint64_t> bytes_done_{0};
  std::atomic<uint64_t> max_epoch_{0};
  uint64_t max_header_epoch_ = 0;  // over every valid header (ClassifyAll)
  std::atomic<uint64_t> records_{0};
};

// What the state word says, checked against the header: the state found,
// or kInvalid when no state consistent with the header can be decoded.
// "Allocating" names the new epoch: at least the header's (the header is
// the old one, or already the new one). A corrected word must moreover fit
// what the allocations one crash cut short can have reached (epochs are
// handed out one by one above the highest header), so that a word damaged
// beyond correction, which the decoder may take for another codeword,
// passes only by naming a state and an epoch that fit the segment.
format::SegState Scanner::DecideState(const format::DecodedState& st,
                                      const format::SegmentHeader& h,
                                      bool crc_ok) const {
  if (st.state == format::SegState::kAllocating) {
    const bool fits = (!crc_ok || st.epoch >= h.epoch) &&
                      (st.corrected_bits == 0 ||
                       st.epoch <= max_header_epoch_ + sb_.segment_count + 1);
    return fits ? st.state : format::SegState::kInvalid;
  }
  if (!crc_ok) return format::SegState::kInvalid;
  const bool own_epoch = !st.epoch_known || st.epoch == h.epoch;
  return own_epoch ? st.state : format::SegState::kInvalid;
}

// A span head whose state is unknown claims its covered segments only if
// none of them holds a newer segment header of this pool: one that does
// proves the span was released and its segments handed out again.
bool Scanner::CoveredSegmentsReused(uint64_t i,
                                    const format::SegmentHeader& h) const {
  for (uint64_t k = 1; k < h.span; ++k) {
    format::SegmentHeader c;
    std::memcpy(&c, base_ + SegmentOffset(sb_, i + k), sizeof(c));
    if (format::ValidSegmentHeader(c) &&
        std::memcmp(c.uuid, sb_.uuid, 16) == 0 && c.epoch > h.epoch) {
      return true;
    }
  }
  return false;
}

void Scanner::NoteEpoch(uint64_t e) {
  uint64_t cur = max_epoch_.load();
  while (e > cur && !max_epoch_.compare_exchange_weak(cur, e)) {
  }
}

void Scanner::ClassifySegment(uint64_t i, SegmentScan* seg) {
  const char* p = base_ + SegmentOffset(sb_, i);
  format::SegmentHeader h;
  std::memcpy(&h, p, sizeof(h));
  const uint64_t word = format::Load64(p + format::kStateWordOffset);
  const format::DecodedState st =
      format::DecodeStateWord(word, sb_.format_version);
  seg->state_word = word;
  if (st.state != format::SegState::kInvalid && st.epoch_known) {
    NoteEpoch(st.epoch);
  }
  if (std::memcmp(h.magic, format::kSegmentMagic, 8) != 0 ||
      std::memcmp(h.uuid, sb_.uuid, 16) != 0) {
    seg->state = SegmentState::kUnused;
    return;
  }
  const bool crc_ok = h.crc == format::SegmentHeaderCrc(h);
  if (crc_ok) NoteEpoch(h.epoch);
  const uint64_t room = sb_.segment_count - i;
  const bool span_ok =
      h.span != 0 && h.span <= room &&
      h.span * sb_.segment_size <= std::numeric_limits<uint32_t>::max();
  format::SegState decided = DecideState(st, h, crc_ok);
  seg->legacy_state = st.legacy;
  seg->decided = decided;
  seg->state_epoch =
      decided == format::SegState::kAllocating ? st.epoch : h.epoch;
  seg->state_damaged = st.corrected_bits > 0;
  if (crc_ok && span_ok && h.span > 1 &&
      decided == format::SegState::kInvalid && CoveredSegmentsReused(i, h)) {
    decided = seg->decided = format::SegState::kReleased;
    seg->state_damaged = true;
  }
  if (seg->state_damaged) {
    AddProblem({SegmentOffset(sb_, i) + format::kStateWordOffset, 8, true,
                "segment " + std::to_string(i) + " state word damaged (" +
                    (st.corrected_bits > 0
                         ? std::to_string(st.corrected_bits) + " bits corrected"
                         : std::string("the segments it covered hold newer "
                                       "segments")) +
                    "): " + format::SegStateName(decided) +
                    "; repair rewrites it"});
  }
  if (decided == format::SegState::kAllocating ||
      decided == format::SegState::kFreed ||
      decided == format::SegState::kReleased) {
    seg->state = SegmentState::kFree;
    // A span head allocating or freed under its own epoch: its header (span
    // N) was durable before any record byte reached the covered segments,
    // and they are not handed out again before its state says "released".
    seg->release_span = crc_ok && h.span > 1 && h.span <= room &&
                        st.epoch == h.epoch &&
                        decided != format::SegState::kReleased;
    seg->epoch = h.epoch;
    if (seg->release_span) seg->span = h.span;
    return;
  }
  if (!crc_ok) {
    seg->state = SegmentState::kDamaged;
    AddProblem({SegmentOffset(sb_, i), 64, true,
                "segment " + std::to_string(i) +
                    " header checksum mismatch; its records cannot be "
                    "verified (repair frees the segment, losing them)"});
    return;
  }
  if (!span_ok) {
    seg->state = SegmentState::kDamaged;
    AddProblem({SegmentOffset(sb_, i) + 40, 4, true,
                "segment " + std::to_string(i) + " header claims a span of " +
                    std::to_string(h.span) + " segments (" +
                    std::to_string(room) + " from here to the pool's end)"});
    return;
  }
  seg->state = SegmentState::kInUse;
  seg->span = h.span;
  seg->epoch = h.epoch;
  seg->seed = format::SegmentSeed(sb_.uuid, h.epoch);
  if (decided == format::SegState::kInUse) return;
  seg->ambiguous = true;
  AddProblem({SegmentOffset(sb_, i) + format::kStateWordOffset, 8, true,
              "segment " + std::to_string(i) + " state word " +
                  format::HexOffset(word) +
                  " is damaged beyond correction: the segment may be in use "
                  "or free"});
  if (!options_.ambiguous_in_use) {
    seg->state = SegmentState::kAmbiguous;
    seg->span = 1;  // claims nothing: its covered segments speak for
                    // themselves
  }
}

uint32_t Scanner::Resync(const char* seg_base, const SegmentScan& seg,
                         uint32_t from, uint32_t end) const {
  for (uint32_t p = format::Align8(from); p + format::kRecordHeaderSize <= end;
       p += 8) {
    const char* r = seg_base + p;
    uint8_t type = static_cast<uint8_t>(r[8]);
    if (type < format::kPut || type > format::kMaxEntryType ||
        format::Load32(r + 28) != static_cast<uint32_t>(seg.epoch)) {
      continue;
    }
    uint64_t n;
    if (format::CheckRecord(r, end - p, seg.seed, seg.epoch, &n) ==
        format::RecordCheck::kValid) {
      return p;
    }
  }
  return end;
}

std::string Scanner::FeedRecord(uint64_t rec_off, const char* rec) {
  std::string bad;
  bool consistent = format::ForEachEntry(
      rec, [&](uint64_t off, const format::EntryHeader& e) {
        bad = format::CheckEntry(rec + off, e);
        return bad.empty();
      });
  if (!consistent) {
    return "batch record with a valid checksum but inconsistent sub-entries";
  }
  if (!bad.empty()) return "record with a valid checksum but an invalid " + bad;
  const int w = tl_scan_worker;
  WorkerTotals& t = totals_[w];
  format::ForEachEntry(rec, [&](uint64_t off, const format::EntryHeader& e) {
    ++t.entries;
    if (format::IsSystemEntry(e)) {  // never voided by a flush
      ++t.system_entries;
      t.max_seq = std::max(t.max_seq, e.seq);
      if (options_.system != nullptr) {
        bool taken;
        options_.system->Offer(
            std::string_view(rec + off + format::kEntryHeaderSize, e.key_len),
            {rec_off + off, e.seq, e.type == format::kTombstone}, &taken);
      }
      return true;
    }
    if (e.seq <= sb_.flush_seq) return true;
    t.max_seq = std::max(t.max_seq, e.seq);
    const uint64_t loc = rec_off + off;
    if (format::IsElemEntry(e.type)) {
      // Ids are reserved from the seqs: never issued twice.
      t.max_seq = std::max(t.max_seq, format::ElemId(e));
      colls_->AddElem(w, loc, e);
      return true;
    }
    builder_->Add(w, loc, e);
    if (e.type == format::kLink) t.links.push_back(loc);
    if (e.type == format::kMeta) {
      t.max_seq = std::max(t.max_seq, format::LoadMeta(base_ + loc).id);
      colls_->AddMeta(w, loc);
    }
    return true;
  });
  return "";
}

uint32_t Scanner::ReadWatermark(uint64_t i, const char* sp, uint64_t extent,
                                SegmentScan* seg) {
  const uint64_t word = format::Load64(sp + format::kWatermarkOffset);
  if (word == 0) return 0;
  uint32_t wm = 0;
  if (format::DecodeWatermarkWord(word, seg->seed, &wm) &&
      wm >= format::kSegmentHeaderSize && wm <= extent) {
    return wm;
  }
  seg->watermark_damaged = true;
  AddProblem({SegmentOffset(sb_, i) + format::kWatermarkOffset, 8, true,
              "segment " + std::to_string(i) +
                  " durable watermark damaged: damage at the end of its log "
                  "cannot be told from a torn write (repair clears it and "
                  "treats such damage as torn)"});
  return 0;
}

void Scanner::ScanRecords(uint64_t i, SegmentScan* seg) {
  const uint64_t seg_off = SegmentOffset(sb_, i);
  const char* sp = base_ + seg_off;
  const uint64_t extent = seg->span * sb_.segment_size;
  uint32_t sealed_tail = 0;
  uint64_t seal = format::Load64(sp + format::kSealWordOffset);
  seg->sealed = format::DecodeSealWord(seal, seg->seed, &sealed_tail) &&
                sealed_tail >= format::kSegmentHeaderSize &&
                sealed_tail <= extent;
  if (seal != 0 && !seg->sealed) {
    seg->seal_damaged = true;
    AddProblem({seg_off + format::kSealWordOffset, 8, true,
                "segment " + std::to_string(i) +
                    " seal word damaged; scanned as unsealed"});
  }
  seg->watermark = ReadWatermark(i, sp, extent, seg);
  const uint32_t wm = seg->watermark;
  const uint32_t end =
      seg->sealed ? sealed_tail : static_cast<uint32_t>(extent);
  uint32_t off = format::kSegmentHeaderSize;
  while (off + format::kRecordHeaderSize <= end || (seg->sealed && off < end)) {
    uint64_t n = 0;
    auto check =
        format::CheckRecord(sp + off, end - off, seg->seed, seg->epoch, &n);
    if (check == format::RecordCheck::kValid) {
      std::string bad = FeedRecord(seg_off + off, sp + off);
      if (!bad.empty()) {
        seg->damaged.push_back({off, static_cast<uint32_t>(off + n)});
        AddProblem({seg_off + off, n, true, std::move(bad)});
      }
      ++seg->records;
      if (const uint64_t tomb = format::TombstoneBytes(sp + off)) {
        ++seg->tombstones;
        seg->tombstone_bytes += tomb;
      }
      off += static_cast<uint32_t>(n);
      continue;
    }
    uint32_t skip = check == format::RecordCheck::kBadData
                        ? off + static_cast<uint32_t>(n)
                        : off + 8;
    uint32_t next = Resync(sp, *seg, skip, end);
    bool prefix_durable =
        next < end && (sp[next + 9] & format::kFlagPrefixDurable);
    // Below the watermark every byte was durable once (a Sync() wrote it
    // after persisting them): damage there is corruption, not a crash.
    const bool durable = seg->sealed || prefix_durable || off < wm;
    if (!durable) {
      // A crash mid-append: nothing after this point was acknowledged.
      seg->torn_tail = !AllZero(sp + off, std::min<uint32_t>(end - off, 40));
      break;
    }
    // Only the bytes below the watermark are known damage; from it on the
    // scan goes on (a torn tail may follow).
    if (!seg->sealed && !prefix_durable && next > wm) next = wm;
    seg->damaged.push_back({off, next});
    AddProblem({seg_off + off, next - off, true,
                std::string(check == format::RecordCheck::kBadData
                                ? "record checksum mismatch"
                                : "record header damaged") +
                    " in segment " + std::to_string(i) + " at " +
                    format::HexOffset(seg_off + off) +
                    (off < wm && !seg->sealed ? " (below its durable watermark "
                                              : " (") +
                    std::to_string(next - off) + " bytes dropped on repair)"});
    off = next;
  }
  seg->tail = off;
  records_.fetch_add(seg->records, std::memory_order_relaxed);
}

// Sequential: a span head (in use, or a span write or free cut short)
// claims the segments after it whatever they hold, so segment i can only be
// classified once every segment before it is. Reads two lines per segment
// (spans are skipped whole).
void Scanner::ClassifyAll() {
  const uint64_t n = sb_.segment_count;
  for (uint64_t i = 0; i < n; ++i) {
    format::SegmentHeader h;
    std::memcpy(&h, base_ + SegmentOffset(sb_, i), sizeof(h));
    if (format::ValidSegmentHeader(h)) {
      max_header_epoch_ = std::max(max_header_epoch_, h.epoch);
    }
  }
  for (uint64_t i = 0; i < n;) {
    SegmentScan& seg = out_->segments[i];
    ClassifySegment(i, &seg);
    const bool in_use = seg.state == SegmentState::kInUse;
    const uint64_t span = in_use || seg.release_span ? seg.span : 1;
    for (uint64_t k = 1; k < span; ++k) {
      out_->segments[i + k].state =
          in_use ? SegmentState::kSpanned : SegmentState::kFree;
      out_->segments[i + k].span_head = i;
    }
    i += span;
  }
}

void Scanner::ScanSegment(uint64_t i) {
  SegmentScan* seg = &out_->segments[i];
  if (seg->state == SegmentState::kInUse) ScanRecords(i, seg);
  bytes_done_.fetch_add(sb_.segment_size, std::memory_order_relaxed);
}

void Scanner::Run() {
  const uint64_t n = sb_.segment_count;
  out_->segments.assign(n, SegmentScan{});
  out_->live_bytes.reset(new std::atomic<uint64_t>[n]);
  ClassifyAll();
  int threads = std::max(1, std::min<int>(options_.threads, n));
  IndexBuilder builder(base_, sb_, index_, threads);
  builder_ = &builder;
  CollBuilder colls(base_, sb_, options_.elem_hash_seed, threads);
  colls_ = &colls;
  totals_.assign(threads, WorkerTotals{});
  std::atomic<int> running{threads};
  Mutex done_mu;
  std::condition_variable_any done_cv;
  auto work = [&](int w) {
    tl_scan_worker = w;
    for (uint64_t i; (i = next_segment_.fetch_add(1)) < n;) ScanSegment(i);
    MutexLock l(&done_mu);
    running--;
    done_cv.notify_all();
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work, t);
  const uint64_t total = n * sb_.segment_size;
  {
    MutexLock l(&done_mu);
    while (running > 0) {
      done_cv.wait_for(done_mu, std::chrono::milliseconds(50));
      if (options_.progress) {
        done_mu.Unlock();
        options_.progress(bytes_done_.load(), total);
        done_mu.Lock();
      }
    }
  }
  for (auto& t : pool) t.join();
  if (options_.progress) options_.progress(total, total);
  builder.Build(options_.on_dead_put);
  for (uint64_t i = 0; i < n; ++i) out_->live_bytes[i] = builder.LiveBytes(i);
  colls.BuildCollections(*index_, options_.collections, out_);
  colls.BuildElements(*options_.collections, threads, options_.on_dead_put,
                      out_);
  // A batch's sub-entries may lie in the later segments of its span: their
  // bytes count for the span's head, the unit compaction frees.
  for (uint64_t i = 0; i < n; ++i) {
    const SegmentScan& s = out_->segments[i];
    if (s.state != SegmentState::kSpanned) continue;
    out_->live_bytes[s.span_head] += out_->live_bytes[i].load();
    out_->live_bytes[i] = 0;
  }
  std::vector<uint64_t> links;
  for (const WorkerTotals& t : totals_) {
    out_->max_seq = std::max(out_->max_seq, t.max_seq);
    out_->entries += t.entries;
    out_->system_entries += t.system_entries;
    links.insert(links.end(), t.links.begin(), t.links.end());
  }
  out_->max_epoch = max_epoch_.load();
  out_->records = records_.load();
  for (uint64_t i = 0; i < n; ++i) {
    const SegmentScan& s = out_->segments[i];
    out_->dropped_records += s.damaged.size();
    if (s.ambiguous) out_->ambiguous.push_back(i);
  }
  CheckLinks(base_, sb_, *index_, links, out_);
}

}  // namespace

void ScanPool(const char* base, const SuperBlock& sb, Index* index,
              const ScanOptions& options, PoolScan* out) {
  Scanner(base, sb, index, options, out).Run();
}

}  // namespace daxkv::engine
