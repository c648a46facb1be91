// MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP, with Redis
// 7.0's syntax and errors. What daxkv counts differs from Redis's RAM
// because its data lives on the medium (docs/collections.md, section 6):
//   * USAGE: the key's DRAM (its index slot, a collection's structures)
//     plus the log bytes of its entries; a collection's
//     elements are estimated from the first SAMPLES (default 5, 0: all)
//     as Redis samples (engine::ReadOps::Footprint);
//   * STATS: Redis's fields that have a daxkv meaning, with real values,
//     plus daxkv.* fields for the index, the collections and the pool;
//   * DOCTOR: Redis's texts for an empty instance and a healthy one, and
//     a report of what it finds (a nearly full pool, a persistence error,
//     heap fragmentation).
#include <malloc.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "dax/smaps.h"
#include "kv/coll_run.h"
#include "kv/command.h"
#include "kv/info_sections.h"
#include "kv/script_engine.h"
#include "kv/server_state.h"

namespace daxkv::kv {
namespace {

constexpr int64_t kDefaultSamples = 5;  // Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES

// MEMORY USAGE key [SAMPLES count]
void MemoryUsage(CommandContext& ctx) {
  int64_t samples = kDefaultSamples;
  for (size_t j = 3; j < ctx.argv.size(); ++j) {
    if (!EqualsIgnoreCase(ctx.argv[j], "samples") || j + 1 >= ctx.argv.size()) {
      return ReplySyntaxError(ctx);
    }
    if (!ParseIntArg(ctx, ctx.argv[++j], &samples)) return;
    if (samples < 0) return ReplySyntaxError(ctx);
  }
  RunCollRead(ctx, [&](engine::ReadOps& ops, CollCall& call) {
    auto f = ops.Footprint(ctx.argv[2], static_cast<uint64_t>(samples));
    if (f.status().code() == StatusCode::kNotFound) {
      call.out.Null();
      return OkStatus();
    }
    DAXKV_RETURN_IF_ERROR(f.status());
    call.out.Integer(static_cast<int64_t>(f->dram_bytes + f->log_bytes));
    return OkStatus();
  });
}

void MemoryStats(CommandContext& ctx) {
  const engine::Stats st = ctx.server.db().GetStats();
  const uint64_t heap = HeapBytes();
  const uint64_t dataset = st.live_bytes + st.collection_bytes;
  StatusOr<uint64_t> rss = dax::ReadResidentBytes();
  ReplyWriter& out = ctx.out;
  out.MapHeader(rss.ok() && heap > 0 ? 17 : 15);
  auto field = [&](std::string_view name, uint64_t v) {
    out.Bulk(name);
    out.Integer(static_cast<int64_t>(v));
  };
  field("total.allocated", heap);
  field("aof.buffer", 0);  // no AOF: every write is durable in the pool
  field("lua.caches", ctx.server.scripts().lua_memory_bytes());
  out.Bulk("db.0");
  out.MapHeader(2);
  field("overhead.hashtable.main", st.index_bytes);
  field("overhead.hashtable.expires", 0);  // expiries live in the index
  field("overhead.total", st.index_bytes + st.collection_bytes);
  field("keys.count", st.keys);
  field("keys.bytes-per-key",
        st.keys == 0 ? 0 : (st.index_bytes + dataset) / st.keys);
  field("dataset.bytes", dataset);
  if (rss.ok() && heap > 0) {
    out.Bulk("fragmentation");
    out.Double(static_cast<double>(*rss) / static_cast<double>(heap));
    field("fragmentation.bytes", *rss > heap ? *rss - heap : 0);
  }
  field("daxkv.index.bytes", st.index_bytes);
  field("daxkv.collection.bytes", st.collection_bytes);
  field("daxkv.elements", st.elements);
  field("daxkv.pool.bytes", st.pool_bytes);
  field("daxkv.pool.used.bytes", st.used_bytes);
  field("daxkv.pool.live.bytes", st.live_bytes);
  field("daxkv.heap.bytes", heap);
}

std::string DoctorReport(ServerState& server) {
  const engine::Stats st = server.db().GetStats();
  if (st.live_bytes + st.collection_bytes < 5 * 1024 * 1024) {
    return "Hi Sam, this instance is empty or is using very little memory, "
           "my issues detector can't be used in these conditions. Please, "
           "leave for your mission on Earth and fill it with some data. The "
           "new Sam and I will be back to our programming as soon as I "
           "finished rebooting.\n";
  }
  std::string issues;
  char line[512];
  if (st.pool_bytes > 0 && st.used_bytes * 10 > st.pool_bytes * 9) {
    std::snprintf(line, sizeof(line),
                  " * Pool nearly full: %llu of %llu bytes hold records "
                  "(live: %llu). Writes fail with an error once no segment "
                  "is free; DEL or FLUSHALL what is no longer needed, or "
                  "move to a larger pool.\n\n",
                  static_cast<unsigned long long>(st.used_bytes),
                  static_cast<unsigned long long>(st.pool_bytes),
                  static_cast<unsigned long long>(st.live_bytes));
    issues += line;
  }
  if (!st.background_error.empty()) {
    issues += " * Persistence error: " + st.background_error +
              ". Writes are refused until the pool can be persisted again "
              "(INFO persistence).\n\n";
  }
  StatusOr<uint64_t> rss = dax::ReadResidentBytes();
  const uint64_t heap = HeapBytes();
  if (rss.ok() && heap > 0 && *rss > heap + 10 * 1024 * 1024 &&
      *rss > heap * 14 / 10) {
    issues +=
        " * High heap fragmentation: the process's resident memory "
        "is well above what it allocated. MEMORY PURGE returns free "
        "heap pages to the system.\n\n";
  }
  if (issues.empty()) {
    return "Hi Sam, I can't find any memory issue in your instance. I can "
           "only account for what occurs on this base.\n";
  }
  return "Sam, I detected a few issues in this daxkv instance memory "
         "implants:\n\n" +
         issues + "I'm here to keep you safe, Sam. I want to help you.\n";
}

void MemoryHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "DOCTOR",
      "    Return memory problems reports.",
      "MALLOC-STATS",
      "    Return internal statistics report from the memory allocator.",
      "PURGE",
      "    Attempt to purge dirty pages for reclamation by the allocator.",
      "STATS",
      "    Return information about the memory usage of the server.",
      "USAGE <key> [SAMPLES <count>]",
      "    Return memory in bytes used by <key> and its value. Nested values "
      "are",
      "    sampled up to <count> times (default: 5, 0 means sample all).",
      "HELP",
      "    Prints this help."};
  ReplyHelp(ctx, kLines);
}

void MemoryCommand(CommandContext& ctx) {
  const std::string sub = ToLower(ctx.argv[1]);
  const size_t argc = ctx.argv.size();
  if (sub == "usage") {
    if (argc < 3) return ReplyWrongArity(ctx, "memory|usage");
    return MemoryUsage(ctx);
  }
  if (sub != "stats" && sub != "doctor" && sub != "malloc-stats" &&
      sub != "purge" && sub != "help") {
    return ReplyUnknownSubcommand(ctx);
  }
  if (argc != 2) return ReplyWrongArity(ctx, "memory|" + sub);
  if (sub == "stats") return MemoryStats(ctx);
  if (sub == "doctor") return ctx.out.Verbatim(DoctorReport(ctx.server));
  if (sub == "malloc-stats") {
    // Redis's answer when it runs on libc's malloc, as daxkv does.
    return ctx.out.Verbatim("Stats not supported for the current allocator");
  }
  if (sub == "purge") malloc_trim(0);  // free heap pages back to the system
  if (sub == "help") return MemoryHelp(ctx);
  ctx.out.Ok();
}

}  // namespace

void RegisterMemoryCommands(CommandTable* t) {
  t->Add({.name = "memory",
          .arity = -2,
          .flags = kCmdReadOnly | kCmdKeyspace | kCmdContainer,
          .fn = MemoryCommand,
          .first_key = 2,
          .last_key = 2,
          .step = 1,
          .group = "server",
          .summary = "A container for memory diagnostics commands",
          .since = "4.0.0"});
}

}  // namespace daxkv::kv
