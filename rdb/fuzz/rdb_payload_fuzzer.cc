// libFuzzer target for DUMP payload decoding (RESTORE's input). The first
// byte chooses the framing: odd = the rest is an object body that the
// harness frames with a valid version and CRC (so mutations reach the body
// parsers), even = the rest is a raw payload (footer checks). A payload
// that decodes must re-encode, and decode again to the same value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "rdb/crc64.h"
#include "rdb/payload.h"

namespace {

std::string Frame(std::string_view body) {
  std::string out(body);
  out.push_back(10);
  out.push_back(0);
  uint64_t crc = daxkv::rdb::crc64::Value(out);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace daxkv::rdb;
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string payload = (data[0] & 1) ? Frame(rest) : std::string(rest);
  auto decoded = DecodeDumpPayload(payload);
  if (!decoded.ok()) {
    (void)RestoreErrorReply(decoded.status());
    return 0;
  }
  Value value = *decoded;
  EncodeOptions opts;
  opts.rdb_compression = (data[0] & 2) != 0;
  auto encoded = EncodeDumpPayload(value, opts);
  if (!encoded.ok())
    __builtin_trap();  // Decode never yields what Encode refuses
  auto again = DecodeDumpPayload(*encoded);
  if (!again.ok()) __builtin_trap();
  Value a = value, b = *again;
  Canonicalize(&a);
  Canonicalize(&b);
  if (!(a == b)) __builtin_trap();
  return 0;
}
