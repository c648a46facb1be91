// SnapshotIo: writes a DBImpl's clean-close index snapshot (the format:
// index_snapshot.h) and loads it at the next open in place of a pool scan.
//
// Writing: index_snapshot.cc; loading: index_snapshot_load.cc; the
// collections' part of both: coll_snapshot.cc.
//
// Thread-safety: none of its own. REQUIRES: the DB is quiescent while a
// SnapshotIo works on it: Close() with every head sealed (Write), or
// Recover() before the segments are adopted and any thread starts (Load).
// Lifetime: a SnapshotIo borrows its DB for one call.
#ifndef DAXKV_ENGINE_SNAPSHOT_IO_H_
#define DAXKV_ENGINE_SNAPSHOT_IO_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "engine/format.h"
#include "engine/index_snapshot.h"
#include "engine/system_table.h"

namespace daxkv::engine {

class CollTable;
class DBImpl;
class Index;
struct PoolScan;

class SnapshotIo {
 public:
  explicit SnapshotIo(DBImpl& db) : db_(db) {}

  // Writes the snapshot that a superblock of `generation` will name;
  // *first = the segment of its header. Nothing names it yet on return.
  Status Write(uint64_t generation, uint64_t* first);
  // Loads the snapshot `sb` names into the index, dead counters and system
  // table, and `scan` as a pool scan would fill it; "" on success, else why
  // none was used (nothing changed then).
  std::string Load(const format::SuperBlock& sb, int threads, PoolScan* scan);

 private:
  using SystemList = std::vector<std::pair<std::string, SystemTable::Entry>>;

  // --- writing (index_snapshot.cc) ---
  // OK when a snapshot can be written now; fills the free segments.
  Status Ready(std::vector<int64_t>* free_segs) const;
  // Bytes of the stream; *keys = indexed keys, *collections = theirs.
  uint64_t StreamBytes(const SystemList& sys, uint64_t* keys,
                       uint64_t* collections) const;
  // Every field but the counts, CRCs and generation.
  void FillHeader(snapshot::Header* h) const;
  void WriteStream(snapshot::ChunkStream& out, const SystemList& sys);
  void WriteSegments(snapshot::ChunkStream& out,
                     const snapshot::ChunkStream::CopyFn& copy);
  void WriteShards(snapshot::ChunkStream& out,
                   const snapshot::ChunkStream::CopyFn& copy);

  // --- loading (index_snapshot_load.cc) ---
  std::string Apply(const snapshot::Header& h,
                    const std::vector<snapshot::Chunk>& table,
                    snapshot::ChunkStream& in, int threads, PoolScan* scan);
  // Restores every shard of `index` on `threads` threads.
  std::string ReadShards(const snapshot::Header& h, snapshot::ChunkStream& in,
                         int threads, Index* index);
  // Why segment i's header, state word or seal word contradict its
  // snapshot record ("" = they agree): the pool changed after the close.
  std::string SegmentDisagrees(uint64_t i, const snapshot::Segment& rec) const;
  void FillScan(const snapshot::Header& h,
                const std::vector<snapshot::Segment>& segs, PoolScan* scan);

  // --- the collections' part (coll_snapshot.cc): its bytes and count; the
  // writing; the reading into `table` ("" or why not: the caller then
  // discards what `table` holds).
  uint64_t CollectionBytes(uint64_t* collections) const;
  void WriteCollections(snapshot::ChunkStream& out,
                        const snapshot::ChunkStream::CopyFn& copy);
  std::string ReadCollections(const snapshot::Header& h,
                              snapshot::ChunkStream& in, int threads,
                              CollTable* table);

  DBImpl& db_;
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_SNAPSHOT_IO_H_
