// HyperLogLog in Redis's exact string encoding, so values move between
// redis-server and daxkv (GET/SET, DUMP/RESTORE) and give the same PFCOUNT:
//
//   "HYLL" | encoding (0 dense, 1 sparse) | 3 unused | 8-byte cardinality
//   cache, little endian, top bit set = stale | registers
//
// 16384 registers (P = 14) of 6 bits; dense: packed 6-bit registers, least
// significant bits first; sparse: run-length opcodes ZERO (00xxxxxx, 1..64
// zero registers), XZERO (01xxxxxx yyyyyyyy, 1..16384) and VAL (1vvvvvxx,
// value 1..32 repeated 1..4 times). Elements hash with MurmurHash64A (seed
// 0xadc83b19); the estimate is Ertl's improved estimator, as in Redis 5+.
// Sparse updates and the sparse-to-dense promotion follow Redis step for
// step, so the same PFADDs produce the same bytes.
//
// Thread-safety: pure functions on caller-owned strings.
#ifndef DAXKV_KV_HYPERLOGLOG_H_
#define DAXKV_KV_HYPERLOGLOG_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace daxkv::kv::hll {

inline constexpr int kRegisters = 1 << 14;
inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kDenseSize = kHeaderSize + kRegisters * 6 / 8;
// Redis's hll-sparse-max-bytes default: a sparse value that would grow past
// it is promoted to dense.
inline constexpr size_t kSparseMaxBytes = 3000;

// One byte per register: PFCOUNT of several keys and PFMERGE work on the
// union of their registers.
using Registers = std::array<uint8_t, kRegisters>;

uint64_t MurmurHash64A(std::string_view data, uint64_t seed);

// Redis's isHLLObjectOrReply: the magic, a known encoding and, for dense,
// the exact size. False: "WRONGTYPE Key is not a valid HyperLogLog string
// value."
bool LooksValid(std::string_view v);

// An empty HLL (sparse, cached cardinality 0), as PFADD / PFMERGE create.
std::string New();
void InvalidateCache(std::string* h);

// PFADD of one element: 1 when a register grew, 0 when not, -1 when the
// sparse data is corrupt. REQUIRES: LooksValid(*h).
int Add(std::string* h, std::string_view element,
        size_t sparse_max_bytes = kSparseMaxBytes);

// The cardinality: from the cache when valid (*recomputed = false), else
// computed and stored in the cache (*recomputed = true). False when the
// sparse data is corrupt. REQUIRES: LooksValid(*h).
bool Count(std::string* h, uint64_t* card, bool* recomputed);

// max[i] = max(max[i], register i of h); false when corrupt.
bool MergeInto(std::string_view h, Registers* max);
// The estimate for a set of raw registers (PFCOUNT of several keys).
uint64_t Estimate(const Registers& regs);

// PFMERGE's store: sets every non-zero register of `max` in *h (promoting
// it to dense first when `dense`) and invalidates the cache. False when h
// is corrupt.
bool Store(std::string* h, const Registers& max, bool dense,
           size_t sparse_max_bytes = kSparseMaxBytes);

bool IsDense(std::string_view h);

// PFDEBUG: converts a sparse HLL to dense (false when corrupt; a dense one
// is left alone), reads a dense register, and spells out the sparse opcodes
// ("Z:12711 v:2,1 Z:3672").
bool ToDense(std::string* h);
int DenseRegister(std::string_view h, int index);
std::string DecodeSparse(std::string_view h);

}  // namespace daxkv::kv::hll

#endif  // DAXKV_KV_HYPERLOGLOG_H_
