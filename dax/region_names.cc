#include "dax/region.h"

namespace daxkv::dax {

const char* BackingKindName(BackingKind kind) {
  switch (kind) {
    case BackingKind::kDevDax: return "devdax";
    case BackingKind::kFsDax: return "fsdax";
    case BackingKind::kFile: return "file";
    case BackingKind::kTmpfs: return "tmpfs";
    case BackingKind::kSimulated: return "simulated";
  }
  return "unknown";
}

const char* GranularityName(Granularity g) {
  switch (g) {
    case Granularity::kByte: return "byte";
    case Granularity::kCacheLine: return "cache-line";
    case Granularity::kPage: return "page";
  }
  return "unknown";
}

}  // namespace daxkv::dax
