#include "kv/hyperloglog.h"

#include <cmath>
#include <cstring>

namespace daxkv::kv::hll {
namespace {

constexpr int kP = 14;
constexpr int kQ = 64 - kP;
constexpr uint64_t kSeed = 0xadc83b19ULL;
constexpr uint8_t kDense = 0, kSparse = 1;
constexpr int kMaxRegister = 63;
constexpr int kValMaxValue = 32, kValMaxLen = 4, kZeroMaxLen = 64;
constexpr size_t kEncodingAt = 4, kCardAt = 8;
constexpr double kAlphaInf = 0.721347520444481703680;  // 0.5 / ln(2)

// Sparse opcodes.
bool IsZero(uint8_t b) { return (b & 0xc0) == 0; }
bool IsXZero(uint8_t b) { return (b & 0xc0) == 0x40; }
bool IsVal(uint8_t b) { return (b & 0x80) != 0; }
int ZeroLen(uint8_t b) { return (b & 0x3f) + 1; }
int XZeroLen(uint8_t b0, uint8_t b1) { return (((b0 & 0x3f) << 8) | b1) + 1; }
int ValValue(uint8_t b) { return ((b >> 2) & 0x1f) + 1; }
int ValLen(uint8_t b) { return (b & 0x3) + 1; }
uint8_t Val(int value, int len) {
  return static_cast<uint8_t>(0x80 | ((value - 1) << 2) | (len - 1));
}
uint8_t Zero(int len) { return static_cast<uint8_t>(len - 1); }
void PutXZero(uint8_t* p, int len) {
  p[0] = static_cast<uint8_t>(((len - 1) >> 8) | 0x40);
  p[1] = static_cast<uint8_t>((len - 1) & 0xff);
}

uint8_t At(std::string_view s, size_t i) {
  // Redis reads the sds terminator one past the end: a zero byte.
  return i < s.size() ? static_cast<uint8_t>(s[i]) : 0;
}

// Dense registers: 6 bits each, from the least significant bit of byte 0.
int DenseGet(const uint8_t* regs, size_t size, int idx) {
  const size_t byte = static_cast<size_t>(idx) * 6 / 8;
  const unsigned fb = static_cast<unsigned>(idx) * 6 & 7;
  const unsigned b0 = regs[byte];
  const unsigned b1 = byte + 1 < size ? regs[byte + 1] : 0;
  return static_cast<int>(((b0 >> fb) | (b1 << (8 - fb))) & kMaxRegister);
}

void DenseSet(uint8_t* regs, size_t size, int idx, int val) {
  const size_t byte = static_cast<size_t>(idx) * 6 / 8;
  const unsigned fb = static_cast<unsigned>(idx) * 6 & 7;
  const auto v = static_cast<unsigned>(val);
  regs[byte] =
      static_cast<uint8_t>((regs[byte] & ~(kMaxRegister << fb)) | (v << fb));
  if (byte + 1 < size) {
    const unsigned fb8 = 8 - fb;
    regs[byte + 1] = static_cast<uint8_t>(
        (regs[byte + 1] & ~(kMaxRegister >> fb8)) | (v >> fb8));
  }
}

uint8_t* Regs(std::string* h) {
  return reinterpret_cast<uint8_t*>(h->data()) + kHeaderSize;
}
const uint8_t* Regs(std::string_view h) {
  return reinterpret_cast<const uint8_t*>(h.data()) + kHeaderSize;
}
constexpr size_t kDenseRegBytes = kDenseSize - kHeaderSize;

// Register index and the run of zeros (+1) an element gives.
int PatternLength(std::string_view element, int* index) {
  uint64_t hash = MurmurHash64A(element, kSeed);
  *index = static_cast<int>(hash & (kRegisters - 1));
  hash >>= kP;
  hash |= uint64_t{1} << kQ;  // ends the run: at most Q + 1
  int count = 1;
  for (uint64_t bit = 1; (hash & bit) == 0; bit <<= 1) ++count;
  return count;
}

// 1 when the register grew.
int DenseSetMax(std::string* h, int index, int count) {
  if (DenseGet(Regs(h), kDenseRegBytes, index) >= count) return 0;
  DenseSet(Regs(h), kDenseRegBytes, index, count);
  return 1;
}

// Redis's hllSparseToDense (the header, cache included, is kept).
bool SparseToDense(std::string* h) {
  if (static_cast<uint8_t>((*h)[kEncodingAt]) == kDense) return true;
  std::string dense(kDenseSize, '\0');
  std::memcpy(dense.data(), h->data(), kHeaderSize);
  dense[kEncodingAt] = static_cast<char>(kDense);
  uint8_t* regs = Regs(&dense);
  int idx = 0;
  for (size_t p = kHeaderSize; p < h->size();) {
    const uint8_t b = At(*h, p);
    if (IsZero(b)) {
      idx += ZeroLen(b);
      p += 1;
    } else if (IsXZero(b)) {
      idx += XZeroLen(b, At(*h, p + 1));
      p += 2;
    } else {
      int len = ValLen(b);
      if (idx + len > kRegisters) break;  // corrupt: runs past the end
      for (int i = 0; i < len; ++i) {
        DenseSet(regs, kDenseRegBytes, idx++, ValValue(b));
      }
      p += 1;
    }
  }
  if (idx != kRegisters) return false;
  h->swap(dense);
  return true;
}

// Redis's hllSparseSet: register `index` to `count` if larger, splitting
// the opcode that covers it and merging equal neighbours after.
int SparseSet(std::string* h, int index, int count, size_t sparse_max) {
  if (count > kValMaxValue) {
    if (!SparseToDense(h)) return -1;
    return DenseSetMax(h, index, count);
  }
  size_t p = kHeaderSize, end = h->size();
  size_t prev = 0;  // 0: p is the first opcode
  long first = 0, span = 0;
  while (p < end) {
    size_t oplen = 1;
    const uint8_t b = At(*h, p);
    if (IsZero(b)) {
      span = ZeroLen(b);
    } else if (IsVal(b)) {
      span = ValLen(b);
    } else {
      span = XZeroLen(b, At(*h, p + 1));
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span == 0 || p >= end) return -1;
  const uint8_t op = At(*h, p);
  const bool is_zero = IsZero(op), is_xzero = IsXZero(op);
  const long runlen = is_zero    ? ZeroLen(op)
                      : is_xzero ? XZeroLen(op, At(*h, p + 1))
                                 : ValLen(op);
  bool updated = false;
  if (!is_zero && !is_xzero) {
    if (ValValue(op) >= count) return 0;
    if (runlen == 1) {
      (*h)[p] = static_cast<char>(Val(count, 1));
      updated = true;
    }
  } else if (is_zero && runlen == 1) {
    (*h)[p] = static_cast<char>(Val(count, 1));
    updated = true;
  }
  if (!updated) {
    // Split the opcode: [before] VAL(count) [after], at most 5 bytes.
    uint8_t seq[5];
    size_t n = 0;
    const long last = first + span - 1;
    auto zeros = [&](long len) {
      if (len > kZeroMaxLen) {
        PutXZero(seq + n, static_cast<int>(len));
        n += 2;
      } else {
        seq[n++] = Zero(static_cast<int>(len));
      }
    };
    if (is_zero || is_xzero) {
      if (index != first) zeros(index - first);
      seq[n++] = Val(count, 1);
      if (index != last) zeros(last - index);
    } else {
      const int cur = ValValue(op);
      if (index != first) seq[n++] = Val(cur, static_cast<int>(index - first));
      seq[n++] = Val(count, 1);
      if (index != last) seq[n++] = Val(cur, static_cast<int>(last - index));
    }
    const size_t oldlen = is_xzero ? 2 : 1;
    if (n > oldlen && h->size() + (n - oldlen) > sparse_max) {
      if (!SparseToDense(h)) return -1;
      return DenseSetMax(h, index, count);
    }
    h->replace(p, std::min(oldlen, h->size() - p),
               reinterpret_cast<const char*>(seq), n);
    end = h->size();
  }
  // Merge adjacent VALs of equal value, scanning up to 5 opcodes from the
  // one before the change.
  p = prev != 0 ? prev : kHeaderSize;
  for (int scan = 5; p < end && scan-- > 0;) {
    const uint8_t b = At(*h, p);
    if (IsXZero(b)) {
      p += 2;
      continue;
    }
    if (IsZero(b)) {
      p += 1;
      continue;
    }
    const uint8_t next = At(*h, p + 1);
    if (p + 1 < end && IsVal(next) && ValValue(b) == ValValue(next)) {
      const int len = ValLen(b) + ValLen(next);
      if (len <= kValMaxLen) {
        (*h)[p + 1] = static_cast<char>(Val(ValValue(b), len));
        h->erase(p, 1);
        end = h->size();
        continue;  // try the merged opcode with its right neighbour
      }
    }
    p += 1;
  }
  InvalidateCache(h);
  return 1;
}

// Histogram of register values; false when sparse data is corrupt.
bool Histogram(std::string_view h, int hist[64]) {
  if (static_cast<uint8_t>(h[kEncodingAt]) == kDense) {
    for (int i = 0; i < kRegisters; ++i) {
      ++hist[DenseGet(Regs(h), kDenseRegBytes, i)];
    }
    return true;
  }
  const std::string_view s = h;
  int idx = 0;
  for (size_t p = kHeaderSize; p < s.size();) {
    const uint8_t b = At(s, p);
    int len, val = 0;
    if (IsZero(b)) {
      len = ZeroLen(b);
      p += 1;
    } else if (IsXZero(b)) {
      len = XZeroLen(b, At(s, p + 1));
      p += 2;
    } else {
      len = ValLen(b);
      val = ValValue(b);
      p += 1;
    }
    if (idx + len > kRegisters) return false;
    idx += len;
    hist[val] += len;
  }
  return idx == kRegisters;
}

double Sigma(double x) {
  if (x == 1.) return INFINITY;
  double z_prime;
  double y = 1;
  double z = x;
  do {
    x *= x;
    z_prime = z;
    z += x * y;
    y += y;
  } while (z_prime != z);
  return z;
}

double Tau(double x) {
  if (x == 0. || x == 1.) return 0.;
  double z_prime;
  double y = 1.0;
  double z = 1 - x;
  do {
    x = std::sqrt(x);
    z_prime = z;
    y *= 0.5;
    z -= std::pow(1 - x, 2) * y;
  } while (z_prime != z);
  return z / 3;
}

// Ertl's improved estimator, in Redis's order of floating-point operations
// (the result must match redis-server's to the unit).
uint64_t EstimateFromHistogram(const int hist[64]) {
  const double m = kRegisters;
  double z = m * Tau((m - hist[kQ + 1]) / m);
  for (int j = kQ; j >= 1; --j) {
    z += hist[j];
    z *= 0.5;
  }
  z += m * Sigma(hist[0] / m);
  return static_cast<uint64_t>(std::llroundl(kAlphaInf * m * m / z));
}

}  // namespace

uint64_t MurmurHash64A(std::string_view data, uint64_t seed) {
  const uint64_t m = 0xc6a4a7935bd1e995ULL;
  const int r = 47;
  const size_t len = data.size();
  uint64_t h = seed ^ (len * m);
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const uint8_t* end = p + (len - (len & 7));
  for (; p != end; p += 8) {
    uint64_t k = 0;
    for (int i = 7; i >= 0; --i) k = (k << 8) | p[i];  // little endian
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  const size_t tail = len & 7;
  if (tail != 0) {
    for (size_t i = tail; i-- > 0;) h ^= uint64_t{p[i]} << (8 * i);
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

bool LooksValid(std::string_view v) {
  if (v.size() < kHeaderSize || v.substr(0, 4) != "HYLL") return false;
  const auto enc = static_cast<uint8_t>(v[kEncodingAt]);
  if (enc > kSparse) return false;
  return enc != kDense || v.size() == kDenseSize;
}

bool ToDense(std::string* h) { return SparseToDense(h); }

int DenseRegister(std::string_view h, int index) {
  return DenseGet(Regs(h), kDenseRegBytes, index);
}

std::string DecodeSparse(std::string_view h) {
  std::string out;
  for (size_t p = kHeaderSize; p < h.size();) {
    const uint8_t b = At(h, p);
    if (IsZero(b)) {
      out += "z:" + std::to_string(ZeroLen(b)) + " ";
      p += 1;
    } else if (IsXZero(b)) {
      out += "Z:" + std::to_string(XZeroLen(b, At(h, p + 1))) + " ";
      p += 2;
    } else {
      out += "v:" + std::to_string(ValValue(b)) + "," +
             std::to_string(ValLen(b)) + " ";
      p += 1;
    }
  }
  if (!out.empty()) out.pop_back();
  return out;
}

bool IsDense(std::string_view h) {
  return static_cast<uint8_t>(h[kEncodingAt]) == kDense;
}

std::string New() {
  std::string h(kHeaderSize + 2, '\0');
  std::memcpy(h.data(), "HYLL", 4);
  h[kEncodingAt] = static_cast<char>(kSparse);
  PutXZero(reinterpret_cast<uint8_t*>(h.data()) + kHeaderSize, kRegisters);
  return h;
}

void InvalidateCache(std::string* h) {
  (*h)[kCardAt + 7] = static_cast<char>((*h)[kCardAt + 7] | 0x80);
}

int Add(std::string* h, std::string_view element, size_t sparse_max_bytes) {
  int index = 0;
  const int count = PatternLength(element, &index);
  if (IsDense(*h)) return DenseSetMax(h, index, count);
  return SparseSet(h, index, count, sparse_max_bytes);
}

bool Count(std::string* h, uint64_t* card, bool* recomputed) {
  auto* c = reinterpret_cast<uint8_t*>(h->data()) + kCardAt;
  if ((c[7] & 0x80) == 0) {
    *card = 0;
    for (int i = 7; i >= 0; --i) *card = (*card << 8) | c[i];
    *recomputed = false;
    return true;
  }
  int hist[64] = {0};
  if (!Histogram(*h, hist)) return false;
  *card = EstimateFromHistogram(hist);
  for (int i = 0; i < 8; ++i) c[i] = static_cast<uint8_t>(*card >> (8 * i));
  *recomputed = true;
  return true;
}

bool MergeInto(std::string_view h, Registers* max) {
  if (IsDense(h)) {
    for (int i = 0; i < kRegisters; ++i) {
      const auto v = static_cast<uint8_t>(DenseGet(Regs(h), kDenseRegBytes, i));
      if (v > (*max)[i]) (*max)[i] = v;
    }
    return true;
  }
  const std::string_view s = h;
  int idx = 0;
  for (size_t p = kHeaderSize; p < s.size();) {
    const uint8_t b = At(s, p);
    if (IsZero(b)) {
      idx += ZeroLen(b);
      p += 1;
    } else if (IsXZero(b)) {
      idx += XZeroLen(b, At(s, p + 1));
      p += 2;
    } else {
      const int len = ValLen(b);
      if (idx + len > kRegisters) break;
      const auto v = static_cast<uint8_t>(ValValue(b));
      for (int i = 0; i < len; ++i, ++idx) {
        if (v > (*max)[idx]) (*max)[idx] = v;
      }
      p += 1;
    }
  }
  return idx == kRegisters;
}

uint64_t Estimate(const Registers& regs) {
  int hist[64] = {0};
  for (uint8_t r : regs) ++hist[r & 63];
  return EstimateFromHistogram(hist);
}

bool Store(std::string* h, const Registers& max, bool dense,
           size_t sparse_max_bytes) {
  if (dense && !SparseToDense(h)) return false;
  for (int i = 0; i < kRegisters; ++i) {
    if (max[i] == 0) continue;
    if (IsDense(*h)) {
      DenseSetMax(h, i, max[i]);
    } else if (SparseSet(h, i, max[i], sparse_max_bytes) < 0) {
      return false;
    }
  }
  InvalidateCache(h);
  return true;
}

}  // namespace daxkv::kv::hll
