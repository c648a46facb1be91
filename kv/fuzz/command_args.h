// The argument parsers and value decoders of the bitmap and HyperLogLog
// commands (kv/bitops.h, kv/hyperloglog.h), driven by the arguments of each
// request the fuzzer parses: offsets, field types, ranges, overflow
// arithmetic on fuzzer-chosen strings, and "HYLL" + argument decoded as a
// (mostly corrupt) HyperLogLog. Anything but a clean answer (a crash, an
// out-of-bounds access, UB) is a finding.
#ifndef DAXKV_KV_FUZZ_COMMAND_ARGS_H_
#define DAXKV_KV_FUZZ_COMMAND_ARGS_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "kv/bitops.h"
#include "kv/hyperloglog.h"
#include "kv/resp_parser.h"

namespace daxkv::kv::fuzz {

inline void ExerciseBitmaps(std::span<const std::string_view> args) {
  std::string_view s = args[0];
  BitfieldType type;
  const bool typed = args.size() > 1 && ParseBitfieldType(args[1], &type);
  uint64_t offset = 0;
  if (args.size() > 2 &&
      ParseBitOffset(args[2], typed ? type.bits : 0, 512ull << 20, &offset) &&
      typed && offset < (1u << 16)) {
    std::string v(s);
    (void)GetSignedBits(v, offset, type.bits);
    uint64_t u = GetUnsignedBits(v, offset, type.bits);
    int64_t incr = 0;
    if (args.size() > 3 && ParseInt64(args[3], &incr)) {
      uint64_t ur = 0;
      int64_t sr = 0;
      (void)CheckUnsignedOverflow(u, incr, type.bits < 64 ? type.bits : 63,
                                  BitfieldOverflow::kWrap, &ur);
      (void)CheckSignedOverflow(static_cast<int64_t>(u), incr, type.bits,
                                BitfieldOverflow::kSat, &sr);
      SetBits(&v, offset, type.bits, ur);
    }
  }
  int64_t start = 0, end = 0;
  uint64_t first = 0, last = 0;
  if (!s.empty() && args.size() > 2 && ParseInt64(args[1], &start) &&
      ParseInt64(args[2], &end) &&
      ResolveBitRange(start, end, args.size() % 2 == 0,
                      static_cast<int64_t>(s.size()), &first, &last)) {
    (void)CountBits(s, first, last);
    (void)FindBit(s, first, last, 0);
    (void)FindBit(s, first, last, 1);
  }
}

inline void ExerciseHyperLogLog(std::span<const std::string_view> args) {
  std::string h = "HYLL";
  h.append(args[0]);
  if (!hll::LooksValid(h)) return;
  hll::Registers max{};
  const bool merged = hll::MergeInto(h, &max);
  std::string counted = h;
  uint64_t card = 0;
  bool recomputed = false;
  (void)hll::Count(&counted, &card, &recomputed);
  for (size_t j = 1; j < args.size() && j < 8; ++j) {
    if (hll::Add(&h, args[j], 64) < 0) return;
  }
  if (merged) (void)hll::Store(&h, max, args.size() > 2, 200);
}

inline void ExerciseCommandArgs(std::span<const std::string_view> args) {
  if (args.empty()) return;
  ExerciseBitmaps(args);
  ExerciseHyperLogLog(args);
}

}  // namespace daxkv::kv::fuzz

#endif  // DAXKV_KV_FUZZ_COMMAND_ARGS_H_
