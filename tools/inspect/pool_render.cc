#include "tools/inspect/pool_render.h"

#include <ctime>

#include "tools/inspect/cli.h"
#include "tools/inspect/format.h"

namespace daxkv::inspect {
namespace {

using nlohmann::json;

constexpr size_t kMaxSegmentRows = 64;
constexpr size_t kMaxProblemRows = 100;

json ProblemsToJson(const std::vector<engine::PoolProblem>& problems) {
  json out = json::array();
  for (const engine::PoolProblem& p : problems) {
    out.push_back({{"offset", p.offset},
                   {"length", p.length},
                   {"repairable", p.repairable},
                   {"what", p.what}});
  }
  return out;
}

json SegmentsToJson(const std::vector<engine::SegmentReport>& segments) {
  json out = json::array();
  for (const engine::SegmentReport& s : segments) {
    out.push_back({{"index", s.index},
                   {"offset", s.offset},
                   {"state", s.state},
                   {"state_note", s.state_note},
                   {"watermark", s.watermark},
                   {"span", s.span},
                   {"span_head", s.span_head},
                   {"sealed", s.sealed},
                   {"torn_tail", s.torn_tail},
                   {"epoch", s.epoch},
                   {"used_bytes", s.used_bytes},
                   {"live_bytes", s.live_bytes},
                   {"dead_bytes", s.dead_bytes},
                   {"records", s.records},
                   {"tombstones", s.tombstones}});
  }
  return out;
}

json RegionToJson(const dax::RegionInfo& r) {
  return {{"kind", dax::BackingKindName(r.kind)},
          {"size", r.size},
          {"alignment", r.alignment},
          {"granularity", dax::GranularityName(r.granularity)},
          {"map_sync", r.map_sync},
          {"numa_node", r.numa_node},
          {"read_only", r.read_only},
          {"in_use_elsewhere", r.in_use_elsewhere},
          {"persistence", r.persistence}};
}

void RenderProblems(const std::vector<engine::PoolProblem>& problems,
                    std::ostream& out) {
  for (size_t i = 0; i < problems.size() && i < kMaxProblemRows; ++i) {
    const engine::PoolProblem& p = problems[i];
    out << "    at +" << Hex(p.offset);
    if (p.length != 0) out << " (" << p.length << " bytes)";
    out << "  " << (p.repairable ? "repairable" : "UNRECOVERABLE") << ": "
        << p.what << "\n";
  }
  if (problems.size() > kMaxProblemRows) {
    out << "    ... " << problems.size() - kMaxProblemRows
        << " more (use --json)\n";
  }
}

void RenderSegments(const engine::PoolReport& r, std::ostream& out) {
  out << "  segments (in use/damaged; " << r.free_segments
      << " free or unused not listed):\n"
      << "    index  offset        state     sealed  epoch   used       live"
         "       dead       records\n";
  size_t shown = 0;
  size_t hidden = 0;
  for (const engine::SegmentReport& s : r.segments) {
    // A span is one row (its head's): its other segments are value bytes.
    if (s.state == "free" || s.state == "unused" || s.state == "spanned") {
      continue;
    }
    if (shown == kMaxSegmentRows) {
      ++hidden;
      continue;
    }
    ++shown;
    char line[200];
    std::snprintf(
        line, sizeof(line),
        "    %-6llu %-13s %-9s %-7s %-7llu %-10s %-10s %-10s %llu%s%s%s\n",
        static_cast<unsigned long long>(s.index), Hex(s.offset).c_str(),
        s.state.c_str(), s.sealed ? "yes" : "no",
        static_cast<unsigned long long>(s.epoch),
        HumanBytes(s.used_bytes).c_str(), HumanBytes(s.live_bytes).c_str(),
        HumanBytes(s.dead_bytes).c_str(),
        static_cast<unsigned long long>(s.records),
        s.torn_tail ? "  torn tail" : "",
        s.state_note.empty() ? "" : ("  state word " + s.state_note).c_str(),
        s.span > 1
            ? ("  span of " + std::to_string(s.span) + " segments").c_str()
            : "");
    out << line;
  }
  if (hidden > 0) out << "    ... " << hidden << " more (use --json)\n";
}

void RenderHeader(const PoolView& v, std::ostream& out) {
  const engine::PoolReport& r = v.report;
  const dax::RegionInfo& ri = v.region;
  out << "pool " << r.path << "\n"
      << "  backing:     " << dax::BackingKindName(ri.kind) << ", "
      << HumanBytes(ri.size) << ", " << dax::GranularityName(ri.granularity)
      << " granularity, MAP_SYNC " << (ri.map_sync ? "yes" : "no")
      << ", persistence: " << ri.persistence << "\n"
      << "  mapping:     " << (ri.read_only ? "read-only" : "read-write")
      << (ri.in_use_elsewhere
              ? "; IN USE by another process (a running server?): figures "
                "may move while read"
              : "; not in use elsewhere")
      << "\n"
      << "  format:      version " << r.format_version << " (this build reads "
      << r.supported_format_version << "), uuid " << r.uuid << "\n"
      << "  superblocks: "
      << (r.superblock_rebuilt
              ? std::string("LOST (read through one rebuilt from the "
                            "segments; --repair writes it)")
              : std::string("A ") +
                    (r.superblock_a_valid ? "valid" : "INVALID") + ", B " +
                    (r.superblock_b_valid ? "valid" : "INVALID") +
                    ", generation " + std::to_string(r.generation))
      << "\n"
      << "  geometry:    " << r.segment_count << " segments of "
      << HumanBytes(r.segment_size) << " from +" << Hex(r.data_offset) << " in "
      << HumanBytes(r.region_bytes) << "\n"
      << "  shutdown:    "
      << (r.clean_shutdown ? "clean"
                           : "NOT clean: the next open recovers a crash")
      << "; open count " << r.open_count << ", crash recoveries "
      << r.crash_recoveries << " (last recovery took " << r.last_recovery_ms
      << " ms)\n"
      << "  index:       "
      << (r.index_snapshot_segment >= 0
              ? "snapshot in segment " +
                    std::to_string(r.index_snapshot_segment) +
                    " (the next open loads it if it checks out)"
              : std::string("no snapshot (the next open scans)"))
      << "\n"
      << "  times:       created " << UtcTime(r.created_ms) << ", last open "
      << UtcTime(r.last_open_ms) << ", last close " << UtcTime(r.last_close_ms)
      << "\n";
}

void RenderContents(const engine::PoolReport& r, std::ostream& out) {
  out << "  keys:        " << r.keys << " (" << r.expiring_keys
      << " with a TTL, " << r.expired_keys << " already expired); " << r.records
      << " records, max seq " << r.max_seq << "\n";
  if (r.system_entries > 0) {
    out << "  system:      " << r.system_keys
        << " entries of the hidden system namespace (function libraries, "
           "replication state; kept by FLUSHALL)\n";
  }
  if (r.hashes + r.lists + r.sets + r.zsets + r.streams > 0) {
    out << "  collections: " << r.hashes << " hashes, " << r.lists << " lists, "
        << r.sets << " sets, " << r.zsets << " sorted sets, " << r.streams
        << " streams; " << r.elements << " elements, "
        << HumanBytes(r.collection_bytes) << " of DRAM to open\n";
  }
  out << "  space:       used " << HumanBytes(r.used_bytes) << " = live "
      << HumanBytes(r.live_bytes) << " + dead " << HumanBytes(r.dead_bytes)
      << "; free " << HumanBytes(r.free_bytes) << " (" << r.free_segments
      << " segments)";
  if (r.spans > 0) {
    out << "; " << r.spans << " span(s) holding records larger than a segment";
  }
  out << "\n"
      << "  index DRAM:  " << HumanBytes(r.index_bytes)
      << " to open; scan took " << r.scan_ms << " ms\n";
}

}  // namespace

std::string UtcTime(int64_t ms) {
  if (ms <= 0) return "never";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(ms) + " ms";
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

void Judge(PoolView* v) {
  const engine::PoolReport& r = v->report;
  if (v->repair) {
    const engine::RepairReport& rep = *v->repair;
    if (!rep.unrecoverable.empty()) {
      v->exit_code = kExitUnrecoverable;
      v->verdict = std::to_string(rep.unrecoverable.size()) +
                   " problems repair could not fix";
    } else if (!rep.repaired.empty() || rep.dropped_records > 0) {
      v->exit_code = kExitErrorsRepairable;
      v->verdict = "repaired " + std::to_string(rep.repaired.size()) +
                   " problems, dropped " + std::to_string(rep.dropped_records) +
                   " records";
    } else {
      v->exit_code = kExitOk;
      v->verdict = "nothing to repair";
    }
    return;
  }
  if (r.unrecoverable_problems > 0) {
    v->exit_code = v->checked ? kExitUnrecoverable : kExitOk;
    v->verdict =
        std::to_string(r.unrecoverable_problems) + " unrecoverable problems";
  } else if (r.repairable_problems > 0 || !r.problems.empty()) {
    v->exit_code = v->checked ? kExitErrorsRepairable : kExitOk;
    v->verdict = std::to_string(r.repairable_problems) +
                 " repairable problems (--repair fixes them)";
  } else {
    v->exit_code = kExitOk;
    v->verdict = v->checked ? "clean: every checksum and invariant holds"
                            : "no problems seen (run --check to verify all)";
  }
}

void RenderPool(const PoolView& v, std::ostream& out) {
  RenderHeader(v, out);
  RenderContents(v.report, out);
  RenderSegments(v.report, out);
  out << "  problems:    " << (v.report.problems.empty() ? "none" : "") << "\n";
  RenderProblems(v.report.problems, out);
  if (v.repair) {
    out << "  repair:      dropped " << v.repair->dropped_records
        << " records\n";
    RenderProblems(v.repair->repaired, out);
    RenderProblems(v.repair->unrecoverable, out);
  }
  out << (v.repair    ? "repair: "
          : v.checked ? "check: "
                      : "verdict: ")
      << v.verdict << " (exit " << v.exit_code << ")\n";
}

json PoolToJson(const PoolView& v) {
  const engine::PoolReport& r = v.report;
  json j = {
      {"path", r.path},
      {"region", RegionToJson(v.region)},
      {"format_version", r.format_version},
      {"supported_format_version", r.supported_format_version},
      {"uuid", r.uuid},
      {"region_bytes", r.region_bytes},
      {"segment_size", r.segment_size},
      {"segment_count", r.segment_count},
      {"data_offset", r.data_offset},
      {"generation", r.generation},
      {"superblock_a_valid", r.superblock_a_valid},
      {"superblock_b_valid", r.superblock_b_valid},
      {"superblock_rebuilt", r.superblock_rebuilt},
      {"ambiguous_segments", r.ambiguous_segments},
      {"clean_shutdown", r.clean_shutdown},
      {"open_count", r.open_count},
      {"crash_recoveries", r.crash_recoveries},
      {"created_ms", r.created_ms},
      {"last_open_ms", r.last_open_ms},
      {"last_close_ms", r.last_close_ms},
      {"last_recovery_ms", r.last_recovery_ms},
      {"index_snapshot_segment", r.index_snapshot_segment},
      {"flush_seq", r.flush_seq},
      {"max_seq", r.max_seq},
      {"keys", r.keys},
      {"system_keys", r.system_keys},
      {"expiring_keys", r.expiring_keys},
      {"expired_keys", r.expired_keys},
      {"hashes", r.hashes},
      {"lists", r.lists},
      {"sets", r.sets},
      {"zsets", r.zsets},
      {"streams", r.streams},
      {"elements", r.elements},
      {"collection_bytes", r.collection_bytes},
      {"records", r.records},
      {"free_segments", r.free_segments},
      {"spans", r.spans},
      {"free_bytes", r.free_bytes},
      {"used_bytes", r.used_bytes},
      {"live_bytes", r.live_bytes},
      {"dead_bytes", r.dead_bytes},
      {"index_bytes", r.index_bytes},
      {"scan_ms", r.scan_ms},
      {"segments", SegmentsToJson(r.segments)},
      {"problems", ProblemsToJson(r.problems)},
      {"repairable_problems", r.repairable_problems},
      {"unrecoverable_problems", r.unrecoverable_problems},
      {"checked", v.checked},
      {"verdict", v.verdict},
      {"exit_code", v.exit_code},
  };
  if (v.repair) {
    j["repair"] = {{"repaired", ProblemsToJson(v.repair->repaired)},
                   {"dropped_records", v.repair->dropped_records},
                   {"unrecoverable", ProblemsToJson(v.repair->unrecoverable)}};
  }
  return j;
}

}  // namespace daxkv::inspect
