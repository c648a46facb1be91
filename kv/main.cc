// daxkv-server: a Redis-protocol key-value server whose every acknowledged
// write is durable on persistent memory.
#include <gflags/gflags.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "base/version.h"
#include "kv/server.h"
#include "kv/server_config.h"

// Flag defaults are ServerConfig's (a flag left at its default is not
// applied, so the two must agree); byte sizes are spelled out.
static const daxkv::kv::ServerConfig kDefaults;

DEFINE_string(config, "",
              "Config file: one 'key value' per line, same keys as the flags");
DEFINE_string(pool, kDefaults.pool.c_str(),
              "Pool: /dev/daxX.Y, a file on an fsdax mount (MAP_SYNC), or an "
              "ordinary file (created when missing)");
DEFINE_string(pool_size, "1G",
              "Size of a pool file created on first use (e.g. 256M, 4G)");
DEFINE_int32(port, kDefaults.port, "TCP port");
DEFINE_string(bind, kDefaults.bind.c_str(),
              "Addresses to listen on, space separated");
DEFINE_int32(threads, kDefaults.threads,
             "I/O threads (0 = one per core but one, at least one)");
DEFINE_string(io_engine, kDefaults.io_engine.c_str(),
              "Network loop of the I/O threads: auto (io_uring when the "
              "kernel allows it, else epoll), epoll or io_uring");
DEFINE_string(requirepass, kDefaults.requirepass.c_str(),
              "Password clients must AUTH with (default user)");
DEFINE_int32(maxclients, kDefaults.maxclients,
             "Maximum number of connected clients");
DEFINE_int32(timeout, kDefaults.timeout,
             "Close clients idle this many seconds (0 = never)");
DEFINE_bool(protected_mode, kDefaults.protected_mode,
            "Without a password, accept only loopback clients");
DEFINE_string(proto_max_bulk_len, "512M", "Largest accepted argument");
DEFINE_string(client_output_limit, "0",
              "Close a client whose unsent replies exceed this (0 = no limit)");
DEFINE_string(client_output_limit_pubsub, "32M 8M 60",
              "Output limit of a subscribed client: HARD [SOFT SECONDS] "
              "(closed at HARD unsent bytes, or after SECONDS over SOFT)");
DEFINE_string(client_query_buffer_limit, "1G",
              "Close a client whose unparsed input exceeds this");
DEFINE_string(segment_size, "0",
              "Engine segment size for a new pool (0 = pool_size/32 within "
              "[4M, 64M]); larger values span several segments");
DEFINE_string(enable_debug_command, kDefaults.enable_debug_command.c_str(),
              "Allow DEBUG: no, local (from 127.0.0.1 / ::1 only) or yes");
DEFINE_string(replicaof, "",
              "Start as a replica of \"HOST PORT\" (REPLICAOF at start-up)");
DEFINE_string(masterauth, "", "Password the replication link AUTHs with");
DEFINE_string(masteruser, "", "User the replication link AUTHs as");
DEFINE_bool(replica_read_only, kDefaults.replica_read_only,
            "Refuse client writes while a replica (-READONLY)");
DEFINE_bool(replica_serve_stale_data, kDefaults.replica_serve_stale_data,
            "While the link to the master is down, serve clients from the "
            "data set (false: -MASTERDOWN for all but a few commands)");
DEFINE_int32(replica_priority, kDefaults.replica_priority,
             "Sentinel promotes the replica with the lowest non-zero value "
             "(0: never)");
DEFINE_bool(require_dax, kDefaults.require_dax,
            "Refuse page-granularity (msync) backings: the pool must be DAX");
DEFINE_bool(format_over_existing_data, kDefaults.format_over_existing_data,
            "When the pool's superblocks are blank but its segments still "
            "hold data, format over them (destroying it) instead of refusing "
            "to start; `daxkv-inspect pool --repair` recovers them instead");

namespace {

using daxkv::Status;

// Applies every flag given on the command line over `c` (so they win over
// the config file). Only the flags this file defines are settings; gflags
// records each flag's defining file as that file's __FILE__.
Status ApplyFlags(daxkv::kv::ServerConfig* c) {
  std::vector<gflags::CommandLineFlagInfo> flags;
  gflags::GetAllFlags(&flags);
  for (const auto& f : flags) {
    if (f.is_default || f.name == "config") continue;
    if (f.filename != __FILE__) continue;
    std::string value = f.current_value;
    if (f.type == "bool") value = value == "true" ? "yes" : "no";
    DAXKV_RETURN_IF_ERROR(daxkv::kv::ApplySetting(f.name, value, c));
  }
  return daxkv::OkStatus();
}

Status BuildConfig(daxkv::kv::ServerConfig* c) {
  if (!FLAGS_config.empty()) {
    DAXKV_RETURN_IF_ERROR(daxkv::kv::LoadConfigFile(FLAGS_config, c));
    // CONFIG REWRITE writes it back (absolute: the server may be asked
    // from anywhere).
    std::error_code ec;
    c->config_file = std::filesystem::absolute(FLAGS_config, ec).string();
    if (ec) c->config_file = FLAGS_config;
  }
  return ApplyFlags(c);
}

}  // namespace

int main(int argc, char** argv) {
  // The log is stdout, one line per event: line-buffered even into a file,
  // so every start-up line is out before the listener answers its first
  // client (a test or an operator that waits for PONG then reads the log).
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  gflags::SetUsageMessage(
      "daxkv-server --pool PATH [--pool_size SIZE] [--port 6379] "
      "[--bind 127.0.0.1] [--threads N] [--requirepass PASS] [--config FILE]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  daxkv::kv::ServerConfig config;
  Status s = BuildConfig(&config);
  if (!s.ok()) {
    std::fprintf(stderr, "daxkv-server: %s\n", s.ToString().c_str());
    return 2;
  }
  // Signals: SIGTERM/SIGINT are taken by Server::Run via sigwait.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  std::printf("daxkv-server %.*s (Redis protocol, 7.0 command set), pid %d\n",
              static_cast<int>(daxkv::kVersion.size()), daxkv::kVersion.data(),
              static_cast<int>(getpid()));
  auto server = daxkv::kv::Server::Open(config);
  if (!server.ok()) {
    std::fprintf(stderr, "daxkv-server: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  s = (*server)->Run();
  if (!s.ok()) {
    std::fprintf(stderr, "daxkv-server: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
