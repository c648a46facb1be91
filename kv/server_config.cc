#include "kv/server_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "base/byte_size.h"
#include "kv/resp_parser.h"

namespace daxkv::kv {

namespace {

bool ParseBool(std::string_view v, bool* out) {
  if (v == "yes" || v == "true" || v == "1") {
    *out = true;
  } else if (v == "no" || v == "false" || v == "0") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

bool ParseInt(std::string_view v, int lo, int hi, int* out) {
  int64_t n = 0;
  if (!ParseInt64(v, &n) || n < lo || n > hi) return false;
  *out = static_cast<int>(n);
  return true;
}

std::string Normalize(std::string_view key) {
  std::string k(key);
  for (char& c : k) c = c == '-' ? '_' : static_cast<char>(std::tolower(c));
  return k;
}

}  // namespace

bool ParseOutputLimit(std::string_view v, uint64_t* hard, uint64_t* soft,
                      int* soft_seconds) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < v.size()) {
    size_t j = v.find(' ', i);
    if (j == std::string_view::npos) j = v.size();
    if (j > i) parts.push_back(v.substr(i, j - i));
    i = j + 1;
  }
  if (parts.size() == 1) {
    *soft = 0;
    *soft_seconds = 0;
    return ParseByteSize(parts[0], hard);
  }
  return parts.size() == 3 && ParseByteSize(parts[0], hard) &&
         ParseByteSize(parts[1], soft) &&
         ParseInt(parts[2], 0, 1 << 30, soft_seconds);
}

Status ApplySetting(std::string_view key, std::string_view value,
                    ServerConfig* c) {
  std::string k = Normalize(key);
  bool ok = true;
  if (k == "pool") {
    c->pool = std::string(value);
  } else if (k == "pool_size") {
    ok = ParseByteSize(value, &c->pool_size) && c->pool_size > 0;
  } else if (k == "port") {
    ok = ParseInt(value, 0, 65535, &c->port);
  } else if (k == "bind") {
    c->bind = std::string(value);
  } else if (k == "threads" || k == "io_threads") {
    ok = ParseInt(value, 0, 128, &c->threads);
  } else if (k == "io_engine") {
    ok = value == "auto" || value == "epoll" || value == "io_uring";
    if (ok) c->io_engine = std::string(value);
  } else if (k == "requirepass") {
    c->requirepass = std::string(value);
  } else if (k == "maxclients") {
    ok = ParseInt(value, 1, 1000000, &c->maxclients);
  } else if (k == "timeout") {
    ok = ParseInt(value, 0, 1 << 30, &c->timeout);
  } else if (k == "protected_mode") {
    ok = ParseBool(value, &c->protected_mode);
  } else if (k == "proto_max_bulk_len") {
    ok = ParseByteSize(value, &c->proto_max_bulk_len) &&
         c->proto_max_bulk_len >= 1024;
  } else if (k == "client_output_limit") {
    ok = ParseByteSize(value, &c->client_output_limit);
  } else if (k == "client_output_limit_pubsub") {
    ok = ParseOutputLimit(value, &c->pubsub_output_limit,
                          &c->pubsub_output_soft_limit,
                          &c->pubsub_output_soft_seconds);
  } else if (k == "client_query_buffer_limit") {
    ok = ParseByteSize(value, &c->client_query_buffer_limit) &&
         c->client_query_buffer_limit >= 1024 * 1024;
  } else if (k == "segment_size") {
    ok = ParseByteSize(value, &c->segment_size) &&
         (c->segment_size == 0 || c->segment_size % 4096 == 0);
  } else if (k == "require_dax") {
    ok = ParseBool(value, &c->require_dax);
  } else if (k == "format_over_existing_data") {
    ok = ParseBool(value, &c->format_over_existing_data);
  } else if (k == "replicaof" || k == "slaveof") {
    std::string host;
    int port = 0;
    ok = value.empty() || ParseReplicaOf(value, &host, &port);
    if (ok) c->replicaof = std::string(value);
  } else if (k == "masterauth") {
    c->masterauth = std::string(value);
  } else if (k == "masteruser") {
    c->masteruser = std::string(value);
  } else if (k == "replica_read_only" || k == "slave_read_only") {
    ok = ParseBool(value, &c->replica_read_only);
  } else if (k == "replica_serve_stale_data" ||
             k == "slave_serve_stale_data") {
    ok = ParseBool(value, &c->replica_serve_stale_data);
  } else if (k == "replica_priority" || k == "slave_priority") {
    ok = ParseInt(value, 0, 2147483647, &c->replica_priority);
  } else if (k == "enable_debug_command") {
    ok = value == "no" || value == "local" || value == "yes";
    if (ok) c->enable_debug_command = std::string(value);
  } else if (std::string_view name = RuntimeSettingOf(key); !name.empty()) {
    c->runtime_settings.emplace_back(std::string(name), std::string(value));
  } else {
    return InvalidArgumentError("unknown setting '" + std::string(key) + "'");
  }
  if (!ok) {
    return InvalidArgumentError("invalid value '" + std::string(value) +
                                "' for setting '" + std::string(key) + "'");
  }
  return OkStatus();
}

std::string_view RuntimeSettingOf(std::string_view key) {
  const std::string k = Normalize(key);
  for (const RuntimeSettingName& r : kRuntimeSettingNames) {
    for (std::string_view n : {r.name, r.alias}) {
      if (!n.empty() && Normalize(n) == k) return r.name;
    }
  }
  return {};
}

bool ParseReplicaOf(std::string_view value, std::string* host, int* port) {
  const size_t sp = value.find(' ');
  if (sp == std::string_view::npos || sp == 0) return false;
  *host = std::string(value.substr(0, sp));
  return ParseInt(value.substr(sp + 1), 1, 65535, port);
}

uint64_t EffectiveSegmentSize(const ServerConfig& config) {
  if (config.segment_size != 0) return config.segment_size;
  uint64_t seg = 4ull << 20;
  while (seg * 2 <= (64ull << 20) && seg * 2 <= config.pool_size / 32) seg *= 2;
  return seg;
}

int EffectiveThreads(const ServerConfig& config) {
  if (config.threads > 0) return config.threads;
  // One core is left to the background thread (compaction, the scrub,
  // expiry) and the kernel's network work. On 2 cores, one I/O thread
  // served every benchmarked command faster, and for less CPU, than two
  // (docs/networking.md, "How many I/O threads").
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores - 1);
}

Status LoadConfigFile(const std::string& path, ServerConfig* config) {
  std::ifstream in(path);
  if (!in) return IOError("cannot open config file " + path);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    size_t e = line.find_last_not_of(" \t\r");
    std::string_view body(line.data() + b, e - b + 1);
    size_t sp = body.find_first_of(" \t=");
    std::string_view key = body.substr(0, sp);
    std::string_view value;
    if (sp != std::string_view::npos) {
      value = body.substr(sp + 1);
      size_t vb = value.find_first_not_of(" \t=");
      value =
          vb == std::string_view::npos ? std::string_view() : value.substr(vb);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
    }
    Status s = ApplySetting(key, value, config);
    if (!s.ok()) {
      return s.WithContext(path + ":" + std::to_string(lineno));
    }
  }
  return OkStatus();
}

RuntimeSettings::RuntimeSettings(const ServerConfig& c)
    : maxclients(c.maxclients),
      timeout(c.timeout),
      protected_mode(c.protected_mode),
      proto_max_bulk_len(c.proto_max_bulk_len),
      client_output_limit(c.client_output_limit),
      pubsub_output_limit(c.pubsub_output_limit),
      pubsub_output_soft_limit(c.pubsub_output_soft_limit),
      pubsub_output_soft_seconds(c.pubsub_output_soft_seconds),
      replica_priority(c.replica_priority),
      requirepass_(c.requirepass),
      auth_required_(!c.requirepass.empty()) {}

std::string RuntimeSettings::requirepass() const {
  MutexLock l(&mu_);
  return requirepass_;
}

void RuntimeSettings::set_requirepass(std::string p) {
  MutexLock l(&mu_);
  auth_required_.store(!p.empty());
  requirepass_ = std::move(p);
}

}  // namespace daxkv::kv
