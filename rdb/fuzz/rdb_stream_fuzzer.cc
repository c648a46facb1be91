// libFuzzer target for the RDB stream reader (a replica's full-sync input).
// The first byte seeds the chunk sizes the rest is fed in (1 byte to 4 KiB),
// the checksum check is off so mutations reach every opcode and encoding,
// and the first two bits of the second byte choose the database policy.
// Anything may fail; nothing may crash, hang or grow without bound.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "rdb/reader.h"

namespace {

class Sink : public daxkv::rdb::RdbVisitor {
 public:
  daxkv::Status OnFunction(std::string_view code) override {
    return code.size() % 2 ? daxkv::OkStatus()
                           : daxkv::rdb::RdbVisitor::OnFunction(code);
  }
  daxkv::Status OnKey(uint64_t, std::string key,
                      daxkv::rdb::Object object) override {
    elements += daxkv::rdb::ElementCount(object.value) + key.size();
    return daxkv::OkStatus();
  }
  uint64_t elements = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using daxkv::rdb::RdbStreamReader;
  if (size < 2) return 0;
  uint32_t seed = data[0] * 2654435761u + 1;
  RdbStreamReader::Options opts;
  opts.verify_checksum = false;
  opts.other_dbs = static_cast<RdbStreamReader::Options::OtherDbs>(data[1] % 3);
  Sink sink;
  RdbStreamReader reader(&sink, opts);
  std::string_view in(reinterpret_cast<const char*>(data) + 2, size - 2);
  while (!in.empty()) {
    seed = seed * 1103515245u + 12345u;
    size_t n = 1 + (seed >> 8) % 4096;
    if (n > in.size()) n = in.size();
    size_t used = 0;
    if (!reader.Feed(in.substr(0, n), &used).ok()) return 0;
    if (used > n) __builtin_trap();
    if (reader.buffered_bytes() > size) __builtin_trap();
    in.remove_prefix(n);
    if (reader.done()) break;
  }
  (void)reader.Finish();
  return 0;
}
