// LATENCY LATEST / HISTORY / RESET / GRAPH / DOCTOR (the latency monitor,
// kv/latency_monitor.h) and LATENCY HISTOGRAM (per-command durations,
// kv/command_stats.h), with Redis 7.0's syntax, errors and replies. The
// texts of DOCTOR for a disabled monitor and for one that saw nothing are
// Redis's; its report and GRAPH's drawing are daxkv's own.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kv/command.h"
#include "kv/duration_histogram.h"
#include "kv/server_state.h"

namespace daxkv::kv {
namespace {

void LatencyLatest(CommandContext& ctx) {
  const auto latest = ctx.server.latency().LatestSamples();
  ctx.out.ArrayHeader(latest.size());
  for (const LatencyMonitor::Latest& l : latest) {
    ctx.out.ArrayHeader(4);
    ctx.out.Bulk(l.event);
    ctx.out.Integer(l.last.unix_s);
    ctx.out.Integer(static_cast<int64_t>(l.last.ms));
    ctx.out.Integer(static_cast<int64_t>(l.max_ms));
  }
}

void LatencyHistory(CommandContext& ctx) {
  const auto samples = ctx.server.latency().History(ctx.argv[2]);
  ctx.out.ArrayHeader(samples.size());
  for (const LatencyMonitor::Sample& s : samples) {
    ctx.out.ArrayHeader(2);
    ctx.out.Integer(s.unix_s);
    ctx.out.Integer(static_cast<int64_t>(s.ms));
  }
}

// An event's samples as 4 rows of "_-`" levels (oldest left), under a
// title line, with each column's age in seconds written downwards.
std::string Graph(std::string_view event,
                  const std::vector<LatencyMonitor::Sample>& samples,
                  uint64_t max_all, int64_t now_s) {
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const auto& s : samples)
    lo = std::min(lo, s.ms), hi = std::max(hi, s.ms);
  char title[256];
  std::snprintf(title, sizeof(title),
                "%.*s - high %llu ms, low %llu ms (all time high %llu ms)\n",
                static_cast<int>(event.size()), event.data(),
                static_cast<unsigned long long>(hi),
                static_cast<unsigned long long>(lo),
                static_cast<unsigned long long>(max_all));
  std::string out = title;
  out += std::string(80, '-') + "\n";
  constexpr int kRows = 4;
  static constexpr char kLevels[] = "_-`";
  std::vector<int> level;  // 0 .. kRows * 3 - 1
  for (const auto& s : samples) {
    const double rel = hi == lo ? 0 : double(s.ms - lo) / double(hi - lo);
    level.push_back(std::min(kRows * 3 - 1, static_cast<int>(rel * kRows * 3)));
  }
  for (int row = kRows - 1; row >= 0; --row) {
    for (int l : level) {
      out += l / 3 == row ? kLevels[l % 3] : (l / 3 > row ? '|' : ' ');
    }
    out += "\n";
  }
  std::vector<std::string> ages;
  size_t tall = 0;
  for (const auto& s : samples) {
    ages.push_back(std::to_string(std::max<int64_t>(0, now_s - s.unix_s)) +
                   "s");
    tall = std::max(tall, ages.back().size());
  }
  for (size_t r = 0; r < tall; ++r) {
    for (const std::string& a : ages) out += r < a.size() ? a[r] : ' ';
    out += "\n";
  }
  return out;
}

void LatencyGraph(CommandContext& ctx) {
  const std::string_view event = ctx.argv[2];
  const auto samples = ctx.server.latency().History(event);
  const std::optional<uint64_t> max = ctx.server.latency().Max(event);
  if (samples.empty() || !max) {
    ctx.out.Error("ERR No samples available for event '" + std::string(event) +
                  "'");
    return;
  }
  ctx.out.Verbatim(Graph(event, samples, *max, ctx.server.NowMs() / 1000));
}

std::string EventReport(size_t n, const LatencyMonitor::Latest& l,
                        const std::vector<LatencyMonitor::Sample>& samples) {
  double sum = 0;
  for (const auto& s : samples) sum += static_cast<double>(s.ms);
  const double avg = sum / static_cast<double>(samples.size());
  double dev = 0;
  for (const auto& s : samples)
    dev += std::fabs(static_cast<double>(s.ms) - avg);
  dev /= static_cast<double>(samples.size());
  const int64_t span = samples.back().unix_s - samples.front().unix_s;
  const double period = static_cast<double>(std::max<int64_t>(span, 1)) /
                        static_cast<double>(samples.size());
  char line[512];
  std::snprintf(line, sizeof(line),
                "%zu. %s: %zu latency spikes (average %.0fms, mean deviation "
                "%.0fms, period %.2f sec). Worst all time event %llums.\n",
                n, l.event.c_str(), samples.size(), avg, dev, period,
                static_cast<unsigned long long>(l.max_ms));
  return line;
}

std::string Doctor(ServerState& s) {
  if (s.latency().threshold_ms() == 0) {
    return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled "
           "in this Redis instance. You may use \"CONFIG SET "
           "latency-monitor-threshold <milliseconds>.\" in order to enable "
           "it. If we weren't in a deep space mission I'd suggest to take a "
           "look at https://redis.io/topics/latency-monitor.\n";
  }
  const auto latest = s.latency().LatestSamples();
  if (latest.empty()) {
    return "Dave, no latency spike was observed during the lifetime of this "
           "Redis instance, not in the slightest bit. I honestly think you "
           "ought to sit down calmly, take a stress pill, and think things "
           "over.\n";
  }
  std::string out =
      "Dave, I have observed latency spikes in this daxkv instance. You "
      "don't mind talking about it, do you Dave?\n\n";
  for (size_t i = 0; i < latest.size(); ++i) {
    out += EventReport(i + 1, latest[i], s.latency().History(latest[i].event));
  }
  out +=
      "\nI have a few advices for you:\n\n"
      "- Check your Slow Log (SLOWLOG GET) to see which commands were slow; "
      "set slowlog-log-slower-than at or below the latency monitor's "
      "threshold so that it logs every command the monitor counts.\n"
      "- Commands over whole large collections (SMEMBERS, HGETALL, LRANGE "
      "0 -1, ZRANGE 0 -1, SORT) take time in proportion to their size; "
      "fetch large collections in ranges or with SCAN, HSCAN, SSCAN and "
      "ZSCAN.\n"
      "- A write's reply waits for the write to be durable on the pool: on "
      "a file pool (no DAX) that includes msync; put the pool on devdax or "
      "an fsdax mount for persistence at memory speed.\n";
  return out;
}

// LATENCY HISTOGRAM [command ...]: per command, its calls and the
// cumulative counts at each power of two from 1 µs, named as Redis names
// them (the highest value its hdr_histogram holds there, in µs).
void LatencyHistogram(CommandContext& ctx) {
  const CommandTable& table = CommandTable::Default();
  const std::vector<CommandSpec>& all = table.all();
  std::vector<size_t> wanted;
  if (ctx.argv.size() == 2) {
    for (size_t i = 0; i < all.size(); ++i) wanted.push_back(i);
  } else {
    for (size_t j = 2; j < ctx.argv.size(); ++j) {
      if (const CommandSpec* spec = table.Find(ctx.argv[j])) {
        wanted.push_back(static_cast<size_t>(spec - all.data()));
      }
    }
  }
  struct Found {
    size_t index;
    std::vector<uint64_t> h;
    uint64_t calls;
  };
  std::vector<Found> found;
  for (size_t i : wanted) {
    std::vector<uint64_t> h = ctx.server.command_stats().Histogram(i);
    const uint64_t calls = duration_histogram::Total(h);
    if (calls > 0) found.push_back({i, std::move(h), calls});
  }
  ctx.out.MapHeader(found.size());
  for (const auto& [i, h, calls] : found) {
    ctx.out.Bulk(all[i].name);
    ctx.out.MapHeader(2);
    ctx.out.Bulk("calls");
    ctx.out.Integer(static_cast<int64_t>(calls));
    ctx.out.Bulk("histogram_usec");
    std::vector<std::pair<uint64_t, uint64_t>> points;
    uint64_t seen = 0, last = 0;
    size_t b = 0;
    for (int k = 0; seen < calls && k < 64; ++k) {
      const uint64_t bound = uint64_t{1024} << k;  // ns
      while (b < h.size() && duration_histogram::BucketHigh(b) < bound) {
        seen += h[b++];
      }
      if (b == h.size()) seen = calls;
      if (seen > last)
        points.emplace_back((bound + (bound >> 7) - 1) / 1000, seen);
      last = seen;
    }
    ctx.out.MapHeader(points.size());
    for (const auto& [us, count] : points) {
      ctx.out.Integer(static_cast<int64_t>(us));
      ctx.out.Integer(static_cast<int64_t>(count));
    }
  }
}

void LatencyHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "DOCTOR",
      "    Return a human readable latency analysis report.",
      "GRAPH <event>",
      "    Return an ASCII latency graph for the <event> class.",
      "HISTORY <event>",
      "    Return time-latency samples for the <event> class.",
      "LATEST",
      "    Return the latest latency samples for all events.",
      "RESET [<event> ...]",
      "    Reset latency data of one or more <event> classes.",
      "    (default: reset all data for all event classes)",
      "HISTOGRAM [COMMAND ...]",
      "    Return a cumulative distribution of latencies in the format of a "
      "histogram for the specified command names.",
      "    If no commands are specified then all histograms are replied.",
      "HELP",
      "    Prints this help."};
  ReplyHelp(ctx, kLines);
}

void LatencyCommand(CommandContext& ctx) {
  const std::string sub = ToLower(ctx.argv[1]);
  const size_t argc = ctx.argv.size();
  if (sub == "reset") {
    std::vector<std::string> events(ctx.argv.begin() + 2, ctx.argv.end());
    return ctx.out.Integer(
        static_cast<int64_t>(ctx.server.latency().Reset(events)));
  }
  if (sub == "histogram") return LatencyHistogram(ctx);
  const bool one_arg = sub == "history" || sub == "graph";
  if (!one_arg && sub != "latest" && sub != "doctor" && sub != "help") {
    return ReplyUnknownSubcommand(ctx);
  }
  if (argc != (one_arg ? 3u : 2u)) {
    return ReplyWrongArity(ctx, "latency|" + sub);
  }
  if (sub == "latest") return LatencyLatest(ctx);
  if (sub == "history") return LatencyHistory(ctx);
  if (sub == "graph") return LatencyGraph(ctx);
  if (sub == "doctor") return ctx.out.Verbatim(Doctor(ctx.server));
  LatencyHelp(ctx);
}

}  // namespace

void RegisterLatencyCommands(CommandTable* t) {
  t->Add({.name = "latency",
          .arity = -2,
          .flags = kCmdAdmin | kCmdLoading | kCmdStale | kCmdContainer,
          .fn = LatencyCommand,
          .group = "server",
          .summary = "A container for latency diagnostics commands",
          .since = "2.8.13"});
}

}  // namespace daxkv::kv
