// libFuzzer target for the request parser: feeds arbitrary bytes in
// fuzzer-chosen chunk sizes (slow drip, truncation, pipelines), moving the
// buffer between calls like a connection does, and echoes every parsed
// request through the reply writer and the bitmap / HyperLogLog argument
// parsers and decoders (command_args.h). Garbage must end in a clean
// protocol error, never a crash, an out-of-bounds read or a hang.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kv/fuzz/command_args.h"
#include "kv/glob.h"
#include "kv/resp_parser.h"
#include "kv/resp_writer.h"

namespace {

using daxkv::kv::ParserLimits;
using daxkv::kv::ReplyWriter;
using daxkv::kv::RequestParser;

void Consume(RequestParser& parser, std::string& buf, size_t* start,
             bool authed, ReplyWriter& out, bool* dead) {
  while (!*dead && *start < buf.size()) {
    auto r = parser.Parse(buf.data() + *start, buf.size() - *start, authed);
    if (r == RequestParser::Result::kIncomplete) {
      (void)parser.pending_bulk_bytes(buf.size() - *start);
      return;
    }
    if (r == RequestParser::Result::kError) {
      out.Error(parser.error());
      *dead = true;
      return;
    }
    size_t n = parser.consumed();
    if (n == 0 || n > buf.size() - *start) __builtin_trap();
    const auto& args = parser.args();
    out.ArrayHeader(args.size());
    for (auto a : args) out.Bulk(a);
    if (args.size() >= 2) (void)daxkv::kv::GlobMatch(args[0], args[1]);
    daxkv::kv::fuzz::ExerciseCommandArgs(args);
    *start += n;
    parser.Reset();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  bool authed = data[0] & 1;
  int resp = (data[0] & 4) ? 3 : 2;
  size_t chunk = 1 + (data[1] % 64);
  if (data[0] & 2) chunk = size;  // everything at once
  data += 2;
  size -= 2;
  ParserLimits limits;
  limits.max_bulk = 1 << 20;  // keep allocations modest under ASan
  RequestParser parser(limits);
  std::string buf, out;
  ReplyWriter writer(&out, resp);
  size_t start = 0;
  bool dead = false;
  for (size_t off = 0; off < size && !dead; off += chunk) {
    size_t n = std::min(chunk, size - off);
    // Compact and append into a fresh allocation: the parser must not keep
    // pointers into the old buffer.
    std::string next(buf.substr(start));
    next.append(reinterpret_cast<const char*>(data + off), n);
    buf.swap(next);
    start = 0;
    Consume(parser, buf, &start, authed, writer, &dead);
    if (out.size() > (1u << 20)) out.clear();
  }
  return 0;
}
