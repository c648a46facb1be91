// The rig of kv crash tests on a SimRegion: the engine options (small
// segments, one recovery thread, no background work: each persist point is
// the test's) and a two-thread server over the region whose persist points
// call the test's hook.
#ifndef DAXKV_TESTS_KV_SIM_ENGINE_OPTIONS_H_
#define DAXKV_TESTS_KV_SIM_ENGINE_OPTIONS_H_

#include <gtest/gtest.h>

#include <cstddef>
#include <functional>
#include <memory>

#include "engine/borrowed_region.h"
#include "engine/db.h"
#include "tests/kv/in_process_server.h"
#include "tests/support/sim_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::kv {

inline engine::Options QuietSimEngineOptions(size_t segment_size) {
  engine::Options o;
  o.segment_size = segment_size;
  o.recovery_threads = 1;
  o.background_compaction = false;
  o.background_expiry = false;
  return o;
}

// Opens a DB over `region` with `options` into *db, starts a two-thread
// server over it into *server, then routes the region's persist points to
// `hook`. Fatal failures when either does not start.
inline void StartSimServer(testing::SimRegion& region,
                           const engine::Options& options,
                           std::function<void(uint64_t)> hook,
                           std::unique_ptr<engine::DB>* db,
                           std::unique_ptr<InProcessServer>* server) {
  auto opened = engine::DB::Open(
      std::make_unique<engine::BorrowedRegion>(region), options);
  ASSERT_OK(opened);
  *db = std::move(*opened);
  ServerConfig config;
  config.threads = 2;
  *server = std::make_unique<InProcessServer>(db->get(), config);
  region.SetPersistHook(std::move(hook));
  ASSERT_OK((*server)->Start());
}

// The reverse: the hook first, so that closing persists nothing into it.
inline void StopSimServer(testing::SimRegion& region,
                          std::unique_ptr<engine::DB>* db,
                          std::unique_ptr<InProcessServer>* server) {
  region.SetPersistHook(nullptr);
  server->reset();
  db->reset();
}

}  // namespace daxkv::kv

#endif  // DAXKV_TESTS_KV_SIM_ENGINE_OPTIONS_H_
