// `daxkv-inspect devices`: rendering of a probe::Inventory. Split from the
// command so tests can render synthetic inventories (a lab-like machine).
#ifndef DAXKV_TOOLS_INSPECT_DEVICES_H_
#define DAXKV_TOOLS_INSPECT_DEVICES_H_

#include <nlohmann/json.hpp>
#include <ostream>

#include "probe/discovery.h"

namespace daxkv::inspect {

nlohmann::json InventoryToJson(const probe::Inventory& inv);
void RenderInventory(const probe::Inventory& inv, std::ostream& out);

}  // namespace daxkv::inspect

#endif  // DAXKV_TOOLS_INSPECT_DEVICES_H_
