#include "kv/info_sections.h"

#include <malloc.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "base/cycle_clock.h"
#include "base/version.h"
#include "dax/smaps.h"
#include "kv/command.h"
#include "kv/duration_histogram.h"
#include "kv/numbers.h"
#include "kv/script_engine.h"

namespace daxkv::kv {

void InfoField(std::string* s, std::string_view k, std::string_view v) {
  s->append(k);
  s->push_back(':');
  s->append(v);
  s->append("\r\n");
}

void InfoField(std::string* s, std::string_view k, uint64_t v) {
  InfoField(s, k, std::to_string(v));
}

std::string RedisBytesToHuman(uint64_t bytes) {
  char buf[32];
  const char* units = "BKMGT";
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  if (u == 0) {
    std::snprintf(buf, sizeof(buf), "%lluB",
                  static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f%c", v, units[u]);
  }
  return buf;
}

namespace {

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

// Redis prints rusage times as seconds.microseconds.
std::string Seconds(const timeval& tv) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(tv.tv_sec),
                static_cast<long>(tv.tv_usec));
  return buf;
}

uint64_t TotalSystemMemory() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0
             ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page)
             : 0;
}

// The error line without CR/LF (which would end the INFO field), or "none".
std::string ErrorField(const Status& s) {
  if (s.ok()) return "none";
  std::string t = s.ToString();
  std::replace(t.begin(), t.end(), '\r', ' ');
  std::replace(t.begin(), t.end(), '\n', ' ');
  return t;
}

}  // namespace

void ServerSection(ServerState& s, std::string* o) {
  o->append("# Server\r\n");
  InfoField(o, "redis_version", "7.0.0");
  InfoField(o, "daxkv_version", kVersion);
  InfoField(o, "redis_git_sha1", "00000000");
  InfoField(o, "redis_git_dirty", 0);
  InfoField(o, "redis_mode", "standalone");
  utsname u{};
  if (uname(&u) == 0) {
    InfoField(o, "os",
              std::string(u.sysname) + " " + u.release + " " + u.machine);
  }
  InfoField(o, "arch_bits", 64);
  // Redis's wording for its two clocks; command run times use this one.
  InfoField(o, "monotonic_clock",
            CycleClock::UsesTsc()
                ? "X86 TSC @ " +
                      std::to_string(static_cast<int64_t>(
                          CycleClock::TicksPerMicro() + 0.5)) +
                      " ticks/us"
                : std::string("POSIX clock_gettime"));
  InfoField(o, "multiplexing_api", IoEngineName(s.io_engine));
  InfoField(o, "atomicvar_api", "c11-builtin");
#ifdef __GNUC__  // as Redis: the compiler's GNU version macros
  InfoField(o, "gcc_version",
            std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) +
                "." + std::to_string(__GNUC_PATCHLEVEL__));
#endif
  InfoField(o, "process_id", static_cast<uint64_t>(getpid()));
  InfoField(o, "process_supervised", "no");
  InfoField(o, "run_id", s.run_id());
  InfoField(o, "tcp_port", static_cast<uint64_t>(s.config().port));
  const int64_t now_us = s.clock().NowMicros();
  InfoField(o, "server_time_usec", static_cast<uint64_t>(now_us));
  const uint64_t up =
      static_cast<uint64_t>((now_us / 1000 - s.start_time_ms()) / 1000);
  InfoField(o, "uptime_in_seconds", up);
  InfoField(o, "uptime_in_days", up / 86400);
  // Redis's LRU clock: seconds, 24 bits.
  InfoField(o, "lru_clock",
            static_cast<uint64_t>(now_us / 1000000) & ((1u << 24) - 1));
  // Redis: 1 when its I/O threads are in use; daxkv always serves clients
  // on its I/O threads.
  InfoField(o, "io_threads_active", 1);
  InfoField(o, "daxkv_io_threads",
            static_cast<uint64_t>(EffectiveThreads(s.config())));
  InfoField(o, "io_engine", IoEngineName(s.io_engine));
}

void ClientsSection(ServerState& s, std::string* o) {
  o->append("# Clients\r\n");
  InfoField(o, "connected_clients", s.ClientCount());
  InfoField(o, "cluster_connections", 0);
  InfoField(o, "maxclients",
            static_cast<uint64_t>(s.settings().maxclients.load()));
  InfoField(o, "blocked_clients", s.blocked().blocked_count());
  InfoField(o, "tracking_clients", 0);
}

uint64_t HeapBytes() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

void MemorySection(ServerState& s, const engine::Stats& st, std::string* o) {
  const uint64_t used = HeapBytes();
  o->append("# Memory\r\n");
  InfoField(o, "used_memory", used);
  InfoField(o, "used_memory_human", RedisBytesToHuman(used));
  StatusOr<uint64_t> rss = dax::ReadResidentBytes();
  if (rss.ok()) {
    InfoField(o, "used_memory_rss", *rss);
    InfoField(o, "used_memory_rss_human", RedisBytesToHuman(*rss));
  }
  const uint64_t system = TotalSystemMemory();
  InfoField(o, "total_system_memory", system);
  InfoField(o, "total_system_memory_human", RedisBytesToHuman(system));
  const uint64_t lua = s.scripts().lua_memory_bytes();
  InfoField(o, "used_memory_lua", lua);
  InfoField(o, "used_memory_vm_eval", lua);
  InfoField(o, "used_memory_lua_human", RedisBytesToHuman(lua));
  InfoField(o, "number_of_cached_scripts", s.scripts().CachedScripts());
  InfoField(o, "maxmemory", 0);
  InfoField(o, "maxmemory_human", "0B");
  InfoField(o, "maxmemory_policy", "noeviction");
  if (rss.ok() && used > 0) {
    InfoField(o, "mem_fragmentation_ratio",
              Fixed(static_cast<double>(*rss) / static_cast<double>(used), 2));
  }
  InfoField(o, "mem_allocator", "libc");
  InfoField(o, "lazyfree_pending_objects", 0);
  InfoField(o, "daxkv_index_bytes", st.index_bytes);
  InfoField(o, "daxkv_pool_used_bytes", st.used_bytes);
}

// rdb_last_bgsave_status turns "err" as in Redis after a failed save, so
// monitoring that watches it sees a pool that cannot be persisted.
void PersistenceSection(ServerState& s, const Status& error, std::string* o) {
  o->append("# Persistence\r\n");
  InfoField(o, "loading", 0);
  InfoField(o, "async_loading", 0);
  InfoField(o, "rdb_changes_since_last_save", 0);
  InfoField(o, "rdb_bgsave_in_progress", 0);
  InfoField(o, "rdb_last_save_time",
            static_cast<uint64_t>(s.last_save_s().load()));
  InfoField(o, "rdb_last_bgsave_status", error.ok() ? "ok" : "err");
  InfoField(o, "rdb_saves", 0);
  InfoField(o, "aof_enabled", 0);
  InfoField(o, "aof_rewrite_in_progress", 0);
  InfoField(o, "aof_rewrite_scheduled", 0);
  InfoField(o, "module_fork_in_progress", 0);
  InfoField(o, "daxkv_durability",
            "every acknowledged write persisted before reply");
  InfoField(o, "daxkv_persistence_status", error.ok() ? "ok" : "err");
  InfoField(o, "daxkv_persistence_error", ErrorField(error));
  InfoField(o, "daxkv_writes_refused", s.stats().misconf_rejections.load());
}

void StatsSection(ServerState& s, const engine::Stats& st, std::string* o) {
  ServerStats& x = s.stats();
  o->append("# Stats\r\n");
  InfoField(o, "total_connections_received", x.connections_received.load());
  InfoField(o, "total_commands_processed", x.commands_processed.load());
  InfoField(o, "instantaneous_ops_per_sec", s.InstantaneousOps());
  InfoField(o, "total_net_input_bytes", x.net_input_bytes.load());
  InfoField(o, "total_net_output_bytes", x.net_output_bytes.load());
  InfoField(o, "rejected_connections", x.rejected_connections.load());
  InfoField(o, "expired_keys", st.expired_reclaimed);
  InfoField(o, "evicted_keys", 0);
  InfoField(o, "evicted_clients", 0);
  InfoField(o, "keyspace_hits", x.keyspace_hits.load());
  InfoField(o, "keyspace_misses", x.keyspace_misses.load());
  InfoField(o, "pubsub_channels", s.pubsub().Size(SubKind::kChannel));
  InfoField(o, "pubsub_patterns", s.pubsub().Size(SubKind::kPattern));
  InfoField(o, "pubsubshard_channels", s.pubsub().Size(SubKind::kShard));
  InfoField(o, "latest_fork_usec", 0);
  InfoField(o, "total_forks", 0);
  InfoField(o, "client_output_buffer_limit_disconnections",
            x.client_output_limit_disconnects.load());
  InfoField(o, "total_error_replies", s.command_stats().total_error_replies());
  InfoField(o, "daxkv_group_commits", x.syncs.load());
  InfoField(o, "daxkv_write_runs", x.write_runs.load());
  InfoField(o, "daxkv_write_run_commands", x.write_run_commands.load());
}

void CpuSection(std::string* o) {
  o->append("# CPU\r\n");
  rusage self{};
  rusage children{};
  if (getrusage(RUSAGE_SELF, &self) != 0 ||
      getrusage(RUSAGE_CHILDREN, &children) != 0) {
    return;
  }
  InfoField(o, "used_cpu_sys", Seconds(self.ru_stime));
  InfoField(o, "used_cpu_user", Seconds(self.ru_utime));
  InfoField(o, "used_cpu_sys_children", Seconds(children.ru_stime));
  InfoField(o, "used_cpu_user_children", Seconds(children.ru_utime));
}

void ModulesSection(std::string* o) { o->append("# Modules\r\n"); }

void CommandStatsSection(ServerState& s, std::string* o) {
  o->append("# Commandstats\r\n");
  const std::vector<CommandSpec>& all = CommandTable::Default().all();
  std::vector<size_t> order(all.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return all[a].name < all[b].name; });
  for (size_t i : order) {
    const CommandStats::Totals t = s.command_stats().Get(i);
    if (t.calls == 0 && t.rejected == 0 && t.failed == 0) continue;
    const double per_call =
        t.calls == 0 ? 0 : static_cast<double>(t.usec) / t.calls;
    InfoField(o, "cmdstat_" + std::string(all[i].name),
              "calls=" + std::to_string(t.calls) +
                  ",usec=" + std::to_string(t.usec) +
                  ",usec_per_call=" + Fixed(per_call, 2) +
                  ",rejected_calls=" + std::to_string(t.rejected) +
                  ",failed_calls=" + std::to_string(t.failed));
  }
}

void LatencyStatsSection(ServerState& s, std::string* o) {
  o->append("# Latencystats\r\n");
  const std::vector<CommandSpec>& all = CommandTable::Default().all();
  const std::vector<double> percentiles = s.command_stats().percentiles();
  for (size_t i = 0; i < all.size(); ++i) {
    const std::vector<uint64_t> h = s.command_stats().Histogram(i);
    if (duration_histogram::Total(h) == 0) continue;
    std::string value;
    for (double p : percentiles) {
      char v[32];
      std::snprintf(v, sizeof(v), "%.3f",
                    duration_histogram::PercentileMicros(h, p));
      if (!value.empty()) value += ',';
      value += "p" + FormatFixedTrimmed(p) + "=" + v;
    }
    InfoField(o, "latency_percentiles_usec_" + std::string(all[i].name), value);
  }
}

void ErrorStatsSection(ServerState& s, std::string* o) {
  o->append("# Errorstats\r\n");
  for (const auto& [code, count] : s.command_stats().ErrorCounts()) {
    InfoField(o, "errorstat_" + code, "count=" + std::to_string(count));
  }
}

void ClusterSection(std::string* o) {
  o->append("# Cluster\r\n");
  InfoField(o, "cluster_enabled", 0);
}

void KeyspaceSection(const engine::Stats& st, std::string* o) {
  o->append("# Keyspace\r\n");
  if (st.keys == 0) return;
  o->append("db0:keys=" + std::to_string(st.keys) +
            ",expires=" + std::to_string(st.expiring_keys) + ",avg_ttl=0\r\n");
}

void DaxkvSection(ServerState& s, const engine::Stats& st, const Status& error,
                  std::string* o) {
  const dax::RegionInfo& r = s.db().region_info();
  o->append("# daxkv\r\n");
  InfoField(o, "pool_path", r.path);
  InfoField(o, "backing", dax::BackingKindName(r.kind));
  InfoField(o, "granularity", dax::GranularityName(r.granularity));
  InfoField(o, "map_sync", r.map_sync ? "yes" : "no");
  InfoField(o, "persistence", r.persistence);
  InfoField(o, "pool_size", st.pool_bytes);
  InfoField(o, "pool_used", st.used_bytes);
  InfoField(o, "pool_live", st.live_bytes);
  InfoField(o, "segments", st.segments);
  InfoField(o, "free_segments", st.free_segments);
  InfoField(o, "persists", st.persists);
  InfoField(o, "compactions", st.compactions);
  InfoField(o, "prefaulted_segments", st.prefaulted_segments);
  InfoField(o, "recovery_ms", st.recovery_ms);
  InfoField(o, "open_ms", static_cast<uint64_t>(s.recovery_ms));
  InfoField(o, "recovered_records", st.recovered_records);
  InfoField(o, "index_recovery", st.index_recovery);
  InfoField(o, "scrub_pending_segments", st.scrub_pending_segments);
  InfoField(o, "scrub_verified_records", st.scrub_verified_records);
  InfoField(o, "scrub_damaged_records", st.scrub_damaged_records);
  InfoField(o, "dropped_records", st.dropped_records);
  InfoField(o, "last_shutdown_clean", st.clean_shutdown ? "yes" : "no");
  InfoField(o, "background_error", ErrorField(s.db().BackgroundError()));
  InfoField(o, "persistence_error", ErrorField(error));
}

}  // namespace daxkv::kv
