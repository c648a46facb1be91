// daxkv-powercut: the guest half of the lab's power-cut test.
//
//   daxkv-powercut write  --path=P --seed=S --start=N [--count=C] [--keys=K]
//       Opens (or formats) the pool on P and puts workload writes N, N+1, ...
//       with sync=true. After each put returns OK it prints
//       "@@ACK seq=<n> key=<k> crc=<crc32c of value>"; the host records
//       these lines and cuts the power (SIGKILL of QEMU) at a random moment.
//   daxkv-powercut verify --path=P --seed=S [--keys=K]
//       Recovers the pool and prints one "@@PCV key=<k> seq=<n> crc=<c>
//       ok=<0|1>" line per live key (ok: the value is exactly what workload
//       write <n> put, and <n> writes that key), then "@@PCV_DONE ...".
//       The host checks every acknowledged write against these lines.
//   daxkv-powercut wipe   --path=P [--bytes=N]
//       Zeroes the first N bytes (default: all) of the region with
//       non-temporal stores, and every segment header left
//       beyond them, so the next user finds a blank region: the engine
//       refuses to format over the segments of an older pool (it offers to
//       rebuild its superblock instead). devdax cannot be cleared with
//       write(2).
//
// Exit status: 0 on success, 1 on any error (named on stderr).
#include <gflags/gflags.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <set>
#include <string>

#include "base/crc32c.h"
#include "dax/region.h"
#include "engine/db.h"
#include "engine/format.h"
#include "engine/superblock_rebuild.h"
#include "tests/lab/powercut/workload.h"

DEFINE_string(path, "", "pool: /dev/daxX.Y, or a file on an fsdax mount");
DEFINE_uint64(seed, 1, "workload seed (the same for write and verify)");
DEFINE_uint64(start, 1, "write: first workload seq");
DEFINE_uint64(count, 1000000, "write: stop after this many writes");
DEFINE_uint32(keys, 512, "number of distinct keys the workload writes");
DEFINE_uint64(size, 256ull << 20, "file pools: size when creating");
DEFINE_uint64(bytes, 0, "wipe: bytes to zero from the start (0 = all)");

namespace daxkv::lab {
namespace {

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "daxkv-powercut: %s: %s\n", what.c_str(),
               status.ToString().c_str());
  return 1;
}

StatusOr<std::unique_ptr<dax::Region>> OpenPool() {
  dax::OpenOptions options;
  options.create_if_missing = true;
  options.create_size = FLAGS_size;
  return dax::OpenRegion(FLAGS_path, options);
}

StatusOr<std::unique_ptr<engine::DB>> OpenDB() {
  DAXKV_ASSIGN_OR_RETURN(std::unique_ptr<dax::Region> region, OpenPool());
  engine::Options options;
  return engine::DB::Open(std::move(region), options);
}

int Write() {
  auto db = OpenDB();
  if (!db.ok()) return Fail("open " + FLAGS_path, db.status());
  std::printf("@@PC_WRITER_STARTED start=%" PRIu64 " recovered=%" PRIu64 "\n",
              FLAGS_start, (*db)->GetStats().recovered_records);
  std::fflush(stdout);
  for (uint64_t seq = FLAGS_start; seq < FLAGS_start + FLAGS_count; ++seq) {
    PutOp op = MakePut(FLAGS_seed, seq, FLAGS_keys);
    Status s = (*db)->Put(op.key, op.value);
    if (!s.ok()) return Fail("put seq " + std::to_string(seq), s);
    // The put returned OK: it is acknowledged from here on.
    std::printf("@@ACK seq=%" PRIu64 " key=%s crc=%08x\n", seq, op.key.c_str(),
                crc32c::Value(op.value.data(), op.value.size()));
    std::fflush(stdout);
  }
  return 0;
}

int Verify() {
  auto db = OpenDB();
  if (!db.ok()) return Fail("recover " + FLAGS_path, db.status());
  std::set<std::string> keys;
  uint64_t cursor = 0;
  do {
    auto page = (*db)->Scan(cursor, 256);
    if (!page.ok()) return Fail("scan", page.status());
    keys.insert(page->keys.begin(), page->keys.end());
    cursor = page->next_cursor;
  } while (cursor != 0);
  uint64_t bad = 0;
  for (const std::string& key : keys) {
    auto got = (*db)->Get(key);
    if (!got.ok()) return Fail("get " + key, got.status());
    std::optional<uint64_t> seq = ParseSeq(got->value);
    bool ok = seq && MakePut(FLAGS_seed, *seq, FLAGS_keys).key == key &&
              MakePut(FLAGS_seed, *seq, FLAGS_keys).value == got->value;
    bad += ok ? 0 : 1;
    std::printf("@@PCV key=%s seq=%" PRIu64 " crc=%08x ok=%d\n", key.c_str(),
                seq.value_or(0),
                crc32c::Value(got->value.data(), got->value.size()), ok);
  }
  engine::Stats stats = (*db)->GetStats();
  std::printf("@@PCV_DONE keys=%zu bad=%" PRIu64 " recovered_records=%" PRIu64
              " recovery_ms=%" PRIu64 " clean_shutdown=%d\n",
              keys.size(), bad, stats.recovered_records, stats.recovery_ms,
              stats.clean_shutdown);
  std::fflush(stdout);
  return bad == 0 ? 0 : 1;
}

int Wipe() {
  dax::OpenOptions options;
  auto region = dax::OpenRegion(FLAGS_path, options);
  if (!region.ok()) return Fail("open " + FLAGS_path, region.status());
  size_t n = (*region)->size();
  if (FLAGS_bytes != 0 && FLAGS_bytes < n) n = FLAGS_bytes;
  dax::Region& r = **region;
  // Durability: Set without kMemNoFlush/kMemNoDrain is durable on return.
  r.Set(r.data(), 0, n, dax::kMemNonTemporal);
  size_t headers = 0;
  if (n < r.size()) {
    const engine::SegmentEvidence ev =
        engine::FindSegmentEvidence(r.data(), r.size());
    for (uint64_t off : ev.offsets) {
      const size_t len =
          std::min<size_t>(engine::format::kSegmentHeaderSize, r.size() - off);
      // Durability: as above; a crash between two leaves fewer headers.
      r.Set(r.data() + off, 0, len, dax::kMemNonTemporal);
      ++headers;
    }
  }
  std::printf("wiped %zu bytes and %zu segment headers of %s\n", n, headers,
              FLAGS_path.c_str());
  return 0;
}

}  // namespace
}  // namespace daxkv::lab

int main(int argc, char** argv) {
  gflags::SetUsageMessage("daxkv-powercut write|verify|wipe --path=POOL ...");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  std::string command = argc > 1 ? argv[1] : "";
  if (FLAGS_path.empty() || FLAGS_keys == 0) command.clear();
  if (command == "write") return daxkv::lab::Write();
  if (command == "verify") return daxkv::lab::Verify();
  if (command == "wipe") return daxkv::lab::Wipe();
  std::fprintf(stderr,
               "usage: daxkv-powercut write|verify|wipe --path=POOL "
               "[--seed=S] [--start=N] [--count=C] [--keys=K]\n");
  return 2;
}
