#include "rdb/bytes.h"

namespace daxkv::rdb {

bool CheckSizedBlob(std::string_view blob, size_t header_size, const char* what,
                    std::string* error) {
  const char* why = nullptr;
  if (blob.size() < header_size + 1) {
    why = " shorter than its header";
  } else if (LoadLE(blob.data(), 4) != blob.size()) {
    why = " size header does not match its length";
  } else if (static_cast<uint8_t>(blob.back()) != 0xFF) {
    why = " does not end with its terminator";
  } else {
    return true;
  }
  *error = std::string(what) + why;
  return false;
}

}  // namespace daxkv::rdb
