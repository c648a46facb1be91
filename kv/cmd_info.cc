// INFO: Redis 7.0's sections (kv/info_sections.h) plus "# daxkv", which
// describes the pool and its durability. "default" (or no argument) is
// Redis's default set; "all" adds commandstats and latencystats;
// "everything" is all.
#include <string>

#include "kv/command.h"
#include "kv/info_sections.h"

namespace daxkv::kv {
namespace {

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
  if (Wants(ctx, "replication", true)) {
    sep(), s.replication().AppendInfo(&o);
  }
  if (Wants(ctx, "cpu", true)) sep(), CpuSection(&o);
  if (Wants(ctx, "modules", true)) sep(), ModulesSection(&o);
  if (Wants(ctx, "commandstats", false)) sep(), CommandStatsSection(s, &o);
  if (Wants(ctx, "errorstats", true)) sep(), ErrorStatsSection(s, &o);
  if (Wants(ctx, "latencystats", false)) sep(), LatencyStatsSection(s, &o);
  if (Wants(ctx, "cluster", true)) sep(), ClusterSection(&o);
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
