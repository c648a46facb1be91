// The sections of INFO, each appending "# Name\r\n" and its "field:value"
// lines in Redis 7.0's words and order. Values are real or absent: a field
// daxkv cannot measure is left out rather than printed as a made-up 0.
#ifndef DAXKV_KV_INFO_SECTIONS_H_
#define DAXKV_KV_INFO_SECTIONS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/db.h"
#include "kv/server_state.h"

namespace daxkv::kv {

void InfoField(std::string* s, std::string_view k, uint64_t v);
// The heap bytes the process holds (mallinfo2): INFO's used_memory, MEMORY
// STATS' total.allocated.
uint64_t HeapBytes();
// Redis's bytesToHuman ("1.50M", "512B").
std::string RedisBytesToHuman(uint64_t bytes);

void ServerSection(ServerState& s, std::string* o);
void ClientsSection(ServerState& s, std::string* o);
void MemorySection(ServerState& s, const engine::Stats& st, std::string* o);
void PersistenceSection(ServerState& s, const Status& error, std::string* o);
void StatsSection(ServerState& s, const engine::Stats& st, std::string* o);
void CpuSection(std::string* o);
void ModulesSection(std::string* o);
void CommandStatsSection(ServerState& s, std::string* o);
// INFO latencystats: per command, the configured percentiles of its
// durations in µs (latency-tracking-info-percentiles).
void LatencyStatsSection(ServerState& s, std::string* o);
void ErrorStatsSection(ServerState& s, std::string* o);
void ClusterSection(std::string* o);
void KeyspaceSection(const engine::Stats& st, std::string* o);
void DaxkvSection(ServerState& s, const engine::Stats& st, const Status& error,
                  std::string* o);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_INFO_SECTIONS_H_
