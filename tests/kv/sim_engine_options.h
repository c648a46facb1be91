// The engine options of kv crash tests on a SimRegion: small segments, one
// recovery thread, no background work (each persist point is the test's).
#ifndef DAXKV_TESTS_KV_SIM_ENGINE_OPTIONS_H_
#define DAXKV_TESTS_KV_SIM_ENGINE_OPTIONS_H_

#include <cstddef>

#include "engine/db.h"

namespace daxkv::kv {

inline engine::Options QuietSimEngineOptions(size_t segment_size) {
  engine::Options o;
  o.segment_size = segment_size;
  o.recovery_threads = 1;
  o.background_compaction = false;
  o.background_expiry = false;
  return o;
}

}  // namespace daxkv::kv

#endif  // DAXKV_TESTS_KV_SIM_ENGINE_OPTIONS_H_
