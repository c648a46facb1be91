#include "kv/function_store.h"

#include "kv/replica_resume.h"

namespace daxkv::kv {

namespace {

std::string KeyOf(std::string_view library) {
  return std::string(kFunctionKeyPrefix) + std::string(library);
}

// Puts `libs` back to exactly `codes` (each of which loaded before).
void ResetTo(const LibraryCodes& codes, FunctionLibraries& libs) {
  libs.Flush();
  for (const auto& [name, code] : codes) {
    std::string loaded, error;
    libs.Load(code, /*replace=*/false, &loaded, &error);
  }
}

}  // namespace

engine::WriteBatch FunctionChanges(const LibraryCodes& before,
                                   const LibraryCodes& after) {
  engine::WriteBatch batch;
  for (const auto& [name, code] : before) {
    if (after.count(name) == 0) batch.Delete(KeyOf(name));
  }
  for (const auto& [name, code] : after) {
    auto old = before.find(name);
    if (old == before.end() || old->second != code) {
      batch.Put(KeyOf(name), code);
    }
  }
  return batch;
}

Status SaveFunctionChange(engine::DB& db, const LibraryCodes& before,
                          FunctionLibraries& libs,
                          std::string_view resume_record) {
  engine::WriteBatch batch = FunctionChanges(before, libs.Codes());
  if (batch.empty()) return OkStatus();
  if (!resume_record.empty()) batch.Put(kReplicaResumeKey, resume_record);
  // Durability: WriteSystem commits the batch synchronously as one record:
  // a crash before it returns leaves every library as before or every one
  // as after (FunctionCrashTest), never a mix; the reply follows it.
  Status s = db.WriteSystem(batch);
  if (!s.ok()) ResetTo(before, libs);
  return s;
}

StatusOr<size_t> LoadStoredFunctions(engine::DB& db, FunctionLibraries& libs,
                                     std::string* warnings) {
  DAXKV_ASSIGN_OR_RETURN(engine::DB::SystemEntries stored,
                         db.ListSystem(kFunctionKeyPrefix));
  size_t loaded = 0;
  for (const auto& [key, code] : stored) {
    std::string name, error;
    if (libs.Load(code, /*replace=*/false, &name, &error)) {
      ++loaded;
    } else {
      *warnings += "function library stored as '" + key +
                   "' was not loaded: " + error + "\n";
    }
  }
  return loaded;
}

}  // namespace daxkv::kv
