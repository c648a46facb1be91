// Helpers shared by rdb_test's files: hex, hand-built legacy blobs (the
// encoder writes none of them), payload framing, random values and a
// visitor that records what an RdbStreamReader reports.
#ifndef DAXKV_TESTS_RDB_RDB_TEST_UTIL_H_
#define DAXKV_TESTS_RDB_RDB_TEST_UTIL_H_

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rdb/reader.h"
#include "rdb/value.h"

namespace daxkv::rdb::testing {

std::string Unhex(std::string_view hex);
std::string Hex(std::string_view bytes);

// A ziplist as Redis <= 6.2 wrote it (integers in the narrowest integer
// encoding, prevlen in 1 or 5 bytes).
std::string BuildZiplist(const std::vector<std::string>& entries);
// A zipmap as Redis <= 2.4 wrote it.
std::string BuildZipmap(
    const std::vector<std::pair<std::string, std::string>>& pairs);

// body + RDB version (little-endian) + CRC64 of both.
std::string FramePayload(std::string_view body, int version = 10);

// A random value of `kind` with up to `max_elements` elements (>= 1), mixing
// integer-like, binary and long strings.
Value RandomValue(std::mt19937_64& rng, ValueKind kind, size_t max_elements);
std::string RandomString(std::mt19937_64& rng);
// Random consumer groups for `s` (value.h's invariants hold); RandomValue
// adds them to half of its streams.
void AddRandomGroups(std::mt19937_64& rng, Stream* s);

// A visitor recording everything, keyed by (db, key).
class RecordingVisitor : public RdbVisitor {
 public:
  Status OnAux(std::string_view key, std::string_view value) override;
  Status OnFunction(std::string_view code) override;
  Status OnResizeDb(uint64_t db, uint64_t keys, uint64_t expires) override;
  Status OnKey(uint64_t db, std::string key, Object object) override;

  bool accept_functions = false;
  std::vector<std::pair<std::string, std::string>> aux;
  std::vector<std::string> functions;
  std::vector<std::pair<uint64_t, uint64_t>> resize;
  std::map<std::pair<uint64_t, std::string>, Object> keys;
  std::vector<std::string> key_order;
};

// Feeds `stream` to `reader` in random chunks of 1..max_chunk bytes.
Status FeedInChunks(RdbStreamReader* reader, std::string_view stream,
                    std::mt19937_64& rng, size_t max_chunk);

}  // namespace daxkv::rdb::testing

#endif  // DAXKV_TESTS_RDB_RDB_TEST_UTIL_H_
