// Redis patches the Lua modules it bundles against bugs a script can reach;
// Debian's lua-bitop 1.0.2 and lua-cjson 2.1.0 carry none of those patches.
// HardenModules wraps the affected functions in a state where `bit` and
// `cjson` are open (before the tables become read-only):
// - bit.tohex(x, n) with n = INT32_MIN overflows its buffer
//   (CVE-2024-31449): replaced by Redis's fixed version;
// - cjson.encode sizes its buffer in int (CVE-2022-24834): values whose
//   encoding could pass 1 GiB are refused before cjson sees them.
#ifndef DAXKV_KV_SCRIPT_HARDENING_H_
#define DAXKV_KV_SCRIPT_HARDENING_H_

struct lua_State;

namespace daxkv::kv {

void HardenModules(lua_State* L);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_SCRIPT_HARDENING_H_
