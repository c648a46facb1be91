// CLUSTER, ASKING, READONLY and READWRITE as a non-cluster Redis 7.0
// answers them, and MODULE: cluster-aware clients and tools probe a server
// with these, and tell a plain server by its replies. daxkv has no cluster
// mode and loads no modules: every CLUSTER subcommand of Redis's (its
// arity checked first, as Redis checks a subcommand's), ASKING, READONLY
// and READWRITE get Redis's "cluster support disabled"; MODULE LIST is the
// empty list, and loading refuses.
#include <string>
#include <string_view>

#include "kv/command.h"

namespace daxkv::kv {
namespace {

constexpr std::string_view kClusterDisabled =
    "ERR This instance has cluster support disabled";

// Redis 7.0's CLUSTER and MODULE subcommands and their arities.
constexpr SubcommandArity kClusterSubcommands[] = {
    {"addslots", -3},
    {"addslotsrange", -4},
    {"bumpepoch", 2},
    {"count-failure-reports", 3},
    {"countkeysinslot", 3},
    {"delslots", -3},
    {"delslotsrange", -4},
    {"failover", -2},
    {"flushslots", 2},
    {"forget", 3},
    {"getkeysinslot", 4},
    {"help", 2},
    {"info", 2},
    {"keyslot", 3},
    {"links", 2},
    {"meet", -4},
    {"myid", 2},
    {"nodes", 2},
    {"replicas", 3},
    {"replicate", 3},
    {"reset", -2},
    {"saveconfig", 2},
    {"set-config-epoch", 3},
    {"setslot", -4},
    {"shards", 2},
    {"slaves", 3},
    {"slots", 2},
};
constexpr SubcommandArity kModuleSubcommands[] = {
    {"help", 2}, {"list", 2}, {"load", -3}, {"loadex", -3}, {"unload", 3}};

void ClusterCommand(CommandContext& ctx) {
  if (FindSubcommand(ctx, kClusterSubcommands) != nullptr) {
    ctx.out.Error(kClusterDisabled);
  }
}

void ClusterOnlyCommand(CommandContext& ctx) {
  ctx.out.Error(kClusterDisabled);
}

void ModuleHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "LIST",
      "    Return a list of loaded modules.",
      "LOAD <path> [<arg> ...]",
      "    Load a module library from <path>, passing to it any optional "
      "arguments.",
      "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
      "    Load a module library from <path>, while passing it module "
      "configurations and optional arguments.",
      "UNLOAD <name>",
      "    Unload a module.",
      "HELP",
      "    Prints this help."};
  ReplyHelp(ctx, kLines);
}

void ModuleCommand(CommandContext& ctx) {
  const SubcommandArity* s = FindSubcommand(ctx, kModuleSubcommands);
  if (s == nullptr) return;
  if (s->name == "help") return ModuleHelp(ctx);
  if (s->name == "list") return ctx.out.ArrayHeader(0);
  ctx.out.Error("ERR MODULE command not allowed: daxkv loads no modules");
}

}  // namespace

void RegisterClusterCommands(CommandTable* t) {
  t->Add({.name = "cluster",
          .arity = -2,
          .flags = kCmdStale | kCmdContainer,
          .fn = ClusterCommand,
          .group = "cluster",
          .summary = "A container for Redis Cluster commands",
          .since = "3.0.0"});
  t->Add({.name = "asking",
          .arity = 1,
          .flags = kCmdFast,
          .fn = ClusterOnlyCommand,
          .group = "cluster",
          .summary = "Sent by cluster clients after an -ASK redirect",
          .since = "3.0.0"});
  constexpr uint32_t kConn = kCmdFast | kCmdLoading | kCmdStale;
  t->Add({.name = "readonly",
          .arity = 1,
          .flags = kConn,
          .fn = ClusterOnlyCommand,
          .group = "cluster",
          .summary = "Enables read queries for a connection to a cluster "
                     "replica node",
          .since = "3.0.0"});
  t->Add({.name = "readwrite",
          .arity = 1,
          .flags = kConn,
          .fn = ClusterOnlyCommand,
          .group = "cluster",
          .summary = "Disables read queries for a connection to a cluster "
                     "replica node",
          .since = "3.0.0"});
  t->Add({.name = "module",
          .arity = -2,
          .flags = kCmdAdmin | kCmdContainer,
          .fn = ModuleCommand,
          .group = "server",
          .summary = "A container for module commands",
          .since = "4.0.0"});
}

}  // namespace daxkv::kv
