// FUNCTION RESTORE under power failure, on the simulator: the engine over
// a SimRegion, the command run as the server runs it, a crash image taken
// at every persist point (several keep probabilities) and recovered. The
// libraries loaded back from each image are those of before the command
// or those of after it, never a mix (kv/function_store.h: one atomic
// system batch per change).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/borrowed_region.h"
#include "engine/db.h"
#include "kv/function_store.h"
#include "kv/script_engine.h"
#include "tests/kv/direct_server.h"
#include "tests/kv/sim_engine_options.h"
#include "tests/support/sim_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::kv {
namespace {

constexpr size_t kSegment = 64 << 10;
constexpr size_t kSegments = 16;

engine::Options Options() { return QuietSimEngineOptions(kSegment); }

std::string Library(const std::string& name) {
  // Long enough that the batch spans many cache lines.
  return "#!lua name=" + name + "\nredis.register_function('f_" + name +
         "', function() return '" + std::string(700, name[0]) + "' end)";
}

LibraryCodes Recovered(const std::vector<char>& image) {
  testing::SimRegion region(image);
  auto db = engine::DB::Open(std::make_unique<engine::BorrowedRegion>(region),
                             Options());
  EXPECT_OK(db);
  if (!db.ok()) return {};
  ScriptEngine scripts;
  std::string warnings;
  EXPECT_OK(LoadStoredFunctions(**db, scripts.functions(), &warnings));
  EXPECT_EQ(warnings, "");
  return scripts.functions().Codes();
}

TEST(FunctionCrashTest, ARestoreIsAllOrNothingAfterACrash) {
  testing::SimRegion region(8192 + kSegments * kSegment);
  auto db = engine::DB::Open(std::make_unique<engine::BorrowedRegion>(region),
                             Options());
  ASSERT_OK(db);
  DirectServer server(db->get());
  for (const char* name : {"alpha", "beta", "gamma"}) {
    ASSERT_EQ(server.Run({"FUNCTION", "LOAD", Library(name)})[0], '$');
  }
  const std::string dump = server.Run({"FUNCTION", "DUMP"});
  const size_t at = dump.find("\r\n") + 2;
  const std::string payload = dump.substr(at, dump.size() - at - 2);
  ASSERT_EQ(server.Run({"FUNCTION", "FLUSH"}), "+OK\r\n");
  for (const char* name : {"delta", "epsilon"}) {
    ASSERT_EQ(server.Run({"FUNCTION", "LOAD", Library(name)})[0], '$');
  }
  const LibraryCodes before = server.state().scripts().functions().Codes();
  std::vector<std::vector<char>> images;
  uint64_t seed = 0;
  region.SetPersistHook([&](uint64_t) {
    for (double keep : {0.1, 0.5, 0.9}) {
      testing::SimRegion::CrashOptions o;
      o.keep_probability = keep;
      o.tear_words = seed % 2 == 1;
      images.push_back(region.CrashImage(++seed, o));
    }
  });
  // FLUSH policy: delta and epsilon deleted, three libraries written.
  ASSERT_EQ(server.Run({"FUNCTION", "RESTORE", payload, "FLUSH"}), "+OK\r\n");
  region.SetPersistHook(nullptr);
  const LibraryCodes after = server.state().scripts().functions().Codes();
  ASSERT_EQ(after.size(), 3u);
  images.push_back(region.CrashImage(++seed, 0.5));  // after the reply
  ASSERT_GE(images.size(), 4u);
  int saw_before = 0, saw_after = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    const LibraryCodes got = Recovered(images[i]);
    if (got == before) {
      ++saw_before;
    } else if (got == after) {
      ++saw_after;
    } else {
      ADD_FAILURE() << "image " << i << " recovered " << got.size()
                    << " libraries: neither before nor after the RESTORE";
    }
  }
  EXPECT_GT(saw_before, 0);
  EXPECT_GT(saw_after, 0);  // at least the image taken after the reply
  std::printf("[crash] FUNCTION RESTORE: %zu images (%d before, %d after)\n",
              images.size(), saw_before, saw_after);
}

}  // namespace
}  // namespace daxkv::kv
