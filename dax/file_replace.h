// ReplaceFileDurably: writes a small file (a config file CONFIG REWRITE
// produces) so that a crash at any point leaves either the old contents or
// the new ones, never a mix: a temporary file beside it is written and
// fsynced, renamed over the target, and the directory fsynced.
//
// Thread-safety: thread-safe; two callers replacing one path concurrently
// each leave a whole file (the last rename wins).
#ifndef DAXKV_DAX_FILE_REPLACE_H_
#define DAXKV_DAX_FILE_REPLACE_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace daxkv::dax {

// Replaces `path` with `contents`, durably. The new file keeps the old
// one's permission bits (0644 when there was none).
[[nodiscard]] Status ReplaceFileDurably(const std::string& path,
                                        std::string_view contents);

}  // namespace daxkv::dax

#endif  // DAXKV_DAX_FILE_REPLACE_H_
