// `daxkv-inspect pool`: rendering of the engine's PoolReport/RepairReport.
// Split from the command so tests can render synthetic reports.
#ifndef DAXKV_TOOLS_INSPECT_POOL_RENDER_H_
#define DAXKV_TOOLS_INSPECT_POOL_RENDER_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>

#include "dax/region.h"
#include "engine/pool_inspect.h"

namespace daxkv::inspect {

struct PoolView {
  dax::RegionInfo region;
  engine::PoolReport report;
  bool checked = false;  // --check: invariants verified, problems listed
  std::optional<engine::RepairReport> repair;
  int exit_code = 0;
  std::string verdict;  // one line: "clean", "2 repairable problems", ...
};

// fsck-style exit code and verdict for a report (and a repair, if any).
void Judge(PoolView* view);

void RenderPool(const PoolView& view, std::ostream& out);
nlohmann::json PoolToJson(const PoolView& view);

// "2026-11-23 10:31:00 UTC", or "never" for 0.
std::string UtcTime(int64_t ms_since_epoch);

}  // namespace daxkv::inspect

#endif  // DAXKV_TOOLS_INSPECT_POOL_RENDER_H_
