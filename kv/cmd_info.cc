// INFO: Redis's server, clients, memory, persistence, stats and keyspace
// sections, plus "# daxkv" describing the pool and its durability.
#include <malloc.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "base/version.h"
#include "kv/command.h"

namespace daxkv::kv {
namespace {

void Field(std::string* s, std::string_view k, std::string_view v) {
  s->append(k);
  s->push_back(':');
  s->append(v);
  s->append("\r\n");
}
void Field(std::string* s, std::string_view k, uint64_t v) {
  Field(s, k, std::to_string(v));
}

// Redis's bytesToHuman ("1.50M", "512B"), which INFO's *_human fields
// follow; daxkv's own output uses base/byte_size.h's HumanBytes.
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

void ServerSection(ServerState& s, std::string* o) {
  o->append("# Server\r\n");
  Field(o, "redis_version", "7.0.0");
  Field(o, "daxkv_version", kVersion);
  Field(o, "redis_mode", "standalone");
  utsname u{};
  if (uname(&u) == 0) {
    Field(o, "os", std::string(u.sysname) + " " + u.release + " " + u.machine);
  }
  Field(o, "arch_bits", 64);
  Field(o, "multiplexing_api", "epoll");
  Field(o, "process_id", static_cast<uint64_t>(getpid()));
  Field(o, "tcp_port", static_cast<uint64_t>(s.config().port));
  const int64_t now_us = s.clock().NowMicros();
  Field(o, "server_time_usec", static_cast<uint64_t>(now_us));
  uint64_t up =
      static_cast<uint64_t>((now_us / 1000 - s.start_time_ms()) / 1000);
  Field(o, "uptime_in_seconds", up);
  Field(o, "uptime_in_days", up / 86400);
  Field(o, "io_threads_active", static_cast<uint64_t>(s.config().threads));
}

void ClientsSection(ServerState& s, std::string* o) {
  o->append("# Clients\r\n");
  Field(o, "connected_clients", s.ClientCount());
  Field(o, "maxclients", static_cast<uint64_t>(s.settings().maxclients.load()));
  Field(o, "blocked_clients", s.blocked().blocked_count());
}

void MemorySection(ServerState& s, const engine::Stats& st, std::string* o) {
  struct mallinfo2 mi = mallinfo2();
  uint64_t used = mi.uordblks + mi.hblkhd;
  o->append("# Memory\r\n");
  Field(o, "used_memory", used);
  Field(o, "used_memory_human", RedisBytesToHuman(used));
  Field(o, "maxmemory", 0);
  Field(o, "maxmemory_policy", "noeviction");
  Field(o, "daxkv_index_bytes", st.index_bytes);
  Field(o, "daxkv_pool_used_bytes", st.used_bytes);
}

// The persistence failure as one INFO value (no CR/LF, which would end the
// field), or "none".
std::string ErrorField(const Status& s) {
  if (s.ok()) return "none";
  std::string t = s.ToString();
  for (char& c : t) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return t;
}

// rdb_last_bgsave_status turns "err" as in Redis after a failed save, so
// monitoring that watches it sees a pool that cannot be persisted.
void PersistenceSection(ServerState& s, const Status& error, std::string* o) {
  o->append("# Persistence\r\n");
  Field(o, "loading", 0);
  Field(o, "rdb_changes_since_last_save", 0);
  Field(o, "rdb_bgsave_in_progress", 0);
  Field(o, "rdb_last_save_time", static_cast<uint64_t>(s.last_save_s().load()));
  Field(o, "rdb_last_bgsave_status", error.ok() ? "ok" : "err");
  Field(o, "aof_enabled", 0);
  Field(o, "aof_rewrite_in_progress", 0);
  Field(o, "daxkv_durability",
        "every acknowledged write persisted before reply");
  Field(o, "daxkv_persistence_status", error.ok() ? "ok" : "err");
  Field(o, "daxkv_persistence_error", ErrorField(error));
  Field(o, "daxkv_writes_refused", s.stats().misconf_rejections.load());
}

void StatsSection(ServerState& s, const engine::Stats& st, std::string* o) {
  ServerStats& x = s.stats();
  o->append("# Stats\r\n");
  Field(o, "total_connections_received", x.connections_received.load());
  Field(o, "total_commands_processed", x.commands_processed.load());
  Field(o, "instantaneous_ops_per_sec", s.InstantaneousOps());
  Field(o, "total_net_input_bytes", x.net_input_bytes.load());
  Field(o, "total_net_output_bytes", x.net_output_bytes.load());
  Field(o, "rejected_connections", x.rejected_connections.load());
  Field(o, "expired_keys", st.expired_reclaimed);
  Field(o, "evicted_keys", 0);
  Field(o, "keyspace_hits", x.keyspace_hits.load());
  Field(o, "keyspace_misses", x.keyspace_misses.load());
  Field(o, "pubsub_channels", s.pubsub().Size(SubKind::kChannel));
  Field(o, "pubsub_patterns", s.pubsub().Size(SubKind::kPattern));
  Field(o, "pubsubshard_channels", s.pubsub().Size(SubKind::kShard));
  Field(o, "client_output_buffer_limit_disconnections",
        x.client_output_limit_disconnects.load());
  Field(o, "daxkv_group_commits", x.syncs.load());
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
  Field(o, "pool_path", r.path);
  Field(o, "backing", dax::BackingKindName(r.kind));
  Field(o, "granularity", dax::GranularityName(r.granularity));
  Field(o, "map_sync", r.map_sync ? "yes" : "no");
  Field(o, "persistence", r.persistence);
  Field(o, "pool_size", st.pool_bytes);
  Field(o, "pool_used", st.used_bytes);
  Field(o, "pool_live", st.live_bytes);
  Field(o, "segments", st.segments);
  Field(o, "free_segments", st.free_segments);
  Field(o, "persists", st.persists);
  Field(o, "compactions", st.compactions);
  Field(o, "recovery_ms", st.recovery_ms);
  Field(o, "open_ms", static_cast<uint64_t>(s.recovery_ms));
  Field(o, "recovered_records", st.recovered_records);
  Field(o, "dropped_records", st.dropped_records);
  Field(o, "last_shutdown_clean", st.clean_shutdown ? "yes" : "no");
  Field(o, "background_error", ErrorField(s.db().BackgroundError()));
  Field(o, "persistence_error", ErrorField(error));
}

bool Wants(CommandContext& ctx, std::string_view section, bool in_default) {
  if (ctx.argv.size() == 1) return in_default;
  for (size_t j = 1; j < ctx.argv.size(); ++j) {
    std::string_view a = ctx.argv[j];
    if (EqualsIgnoreCase(a, section) || EqualsIgnoreCase(a, "all") ||
        EqualsIgnoreCase(a, "everything") ||
        (in_default && EqualsIgnoreCase(a, "default"))) {
      return true;
    }
  }
  return false;
}

void InfoCommand(CommandContext& ctx) {
  ServerState& s = ctx.server;
  engine::Stats st = s.db().GetStats();
  std::string o;
  auto sep = [&o] {
    if (!o.empty()) o.append("\r\n");
  };
  if (Wants(ctx, "server", true)) ServerSection(s, &o);
  if (Wants(ctx, "clients", true)) sep(), ClientsSection(s, &o);
  if (Wants(ctx, "memory", true)) sep(), MemorySection(s, st, &o);
  const Status error = s.PersistenceError();
  if (Wants(ctx, "persistence", true)) sep(), PersistenceSection(s, error, &o);
  if (Wants(ctx, "stats", true)) sep(), StatsSection(s, st, &o);
  if (Wants(ctx, "keyspace", true)) sep(), KeyspaceSection(st, &o);
  if (Wants(ctx, "daxkv", true)) sep(), DaxkvSection(s, st, error, &o);
  ctx.out.Verbatim(o);
}

}  // namespace

void RegisterInfoCommands(CommandTable* t) {
  t->Add({.name = "info",
          .arity = -1,
          .flags = kCmdLoading | kCmdStale,
          .fn = InfoCommand,
          .group = "server",
          .summary = "Get information and statistics about the server",
          .since = "1.0.0"});
}

}  // namespace daxkv::kv
