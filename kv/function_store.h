// Function libraries in the pool: each library's code is one entry of the
// engine's hidden system namespace (engine::DB::WriteSystem; docs/format.md,
// "System entries"), key "function/<library name>". FLUSHALL keeps them
// (as Redis keeps functions); FUNCTION FLUSH and DELETE remove them.
//
// Durability: a FUNCTION LOAD, DELETE, FLUSH or RESTORE is acknowledged
// only once its change is durable, and a change of several libraries
// (RESTORE, FLUSH) is one atomic batch: after a crash the pool holds the
// libraries of before or of after the command, never a mix.
//
// Thread-safety: REQUIRES the caller to run exclusively, as
// FunctionLibraries does.
#ifndef DAXKV_KV_FUNCTION_STORE_H_
#define DAXKV_KV_FUNCTION_STORE_H_

#include <map>
#include <string>
#include <string_view>

#include "base/status.h"
#include "engine/db.h"
#include "kv/script_functions.h"

namespace daxkv::kv {

using LibraryCodes = std::map<std::string, std::string>;

inline constexpr std::string_view kFunctionKeyPrefix = "function/";

// The batch that turns the stored libraries `before` into `after`.
engine::WriteBatch FunctionChanges(const LibraryCodes& before,
                                   const LibraryCodes& after);

// After `libs` changed from `before`: writes the change durably. On
// failure `libs` is put back to `before` and the error is returned (the
// command then fails: nothing was acknowledged). A non-empty
// `resume_record` (a replica applying its master's FUNCTION command,
// kv/replica_resume.h) is written in the same batch: the change and the
// offset past it are durable together or not at all.
Status SaveFunctionChange(engine::DB& db, const LibraryCodes& before,
                          FunctionLibraries& libs,
                          std::string_view resume_record = {});

// Server start: loads every stored library into `libs`. A library that no
// longer loads (its code refused) stays stored and is reported in
// *warnings, one line each. Returns how many loaded.
StatusOr<size_t> LoadStoredFunctions(engine::DB& db, FunctionLibraries& libs,
                                     std::string* warnings);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_FUNCTION_STORE_H_
