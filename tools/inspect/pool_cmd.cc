// `daxkv-inspect pool PATH [--check] [--repair]`: read-only unless --repair.
#include <filesystem>
#include <memory>

#include "dax/region.h"
#include "engine/pool_inspect.h"
#include "tools/inspect/cli.h"
#include "tools/inspect/pool_render.h"

namespace daxkv::inspect {
namespace {

struct Failure {
  int code;
  std::string message;
};

// What a failed inspection means for the operator (and for fsck codes).
Failure InspectFailure(const std::string& path, const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      return {kExitOperational,
              path + " holds no daxkv pool (both superblocks blank)"};
    case StatusCode::kNotSupported:
      return {kExitOperational, s.ToString() + " (a newer daxkv wrote it)"};
    case StatusCode::kCorruption:
    case StatusCode::kInvalidArgument:
      // Garbage, a truncated copy or a wrecked superblock pair: nothing
      // repair could start from.
      return {kExitUnrecoverable, "not a usable daxkv pool: " + s.ToString()};
    default:
      return {kExitOperational, s.ToString()};
  }
}

int Fail(const Args& args, const std::string& path, const Failure& f,
         std::ostream& out, std::ostream& err) {
  err << "daxkv-inspect pool: " << f.message << "\n";
  if (args.Has("json")) {
    out << nlohmann::json{{"path", path},
                          {"error", f.message},
                          {"exit_code", f.code}}
               .dump(2)
        << "\n";
  }
  return f.code;
}

StatusOr<engine::PoolReport> Inspect(const dax::Region& region,
                                     const std::string& path, bool verify,
                                     const engine::RebuildOptions& rebuild) {
  engine::InspectOptions options;
  options.verify = verify;
  options.rebuild = rebuild;
  StatusOr<engine::PoolReport> report = engine::InspectPool(region, options);
  if (report.ok() && report->path.empty()) report->path = path;
  return report;
}

}  // namespace

int RunPool(const Args& args, std::ostream& out, std::ostream& err) {
  if (args.positional.size() != 1) {
    err << "daxkv-inspect pool: needs exactly one PATH\n";
    return kExitUsage;
  }
  const std::string& path = args.positional[0];
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Fail(args, path, {kExitOperational, path + ": no such file"}, out,
                err);
  }
  const bool repair = args.Has("repair");
  engine::RebuildOptions rebuild;
  if (!args.Value("uuid").empty()) rebuild.uuid = args.Value("uuid");
  if (!args.Value("segment_size").empty() &&
      !ParseByteSize(args.Value("segment_size"), &rebuild.segment_size)) {
    err << "daxkv-inspect pool: bad --segment_size '"
        << args.Value("segment_size") << "'\n";
    return kExitUsage;
  }
  dax::OpenOptions options;
  options.read_only = !repair;  // never writes unless asked to repair
  StatusOr<std::unique_ptr<dax::Region>> region =
      dax::OpenRegion(path, options);
  if (!region.ok()) {
    std::string why =
        "cannot open " + path + " as a pool: " + region.status().ToString();
    if (region.status().code() == StatusCode::kBusy) {
      why += " (held by a running server: stop it before --repair)";
    }
    return Fail(args, path, {kExitOperational, why}, out, err);
  }
  PoolView view;
  view.checked = args.Has("check") || repair;
  StatusOr<engine::PoolReport> report =
      Inspect(**region, path, view.checked, rebuild);
  if (!report.ok()) {
    return Fail(args, path, InspectFailure(path, report.status()), out, err);
  }
  if (repair) {
    StatusOr<engine::RepairReport> fixed =
        engine::RepairPool(**region, rebuild);
    if (!fixed.ok()) {
      return Fail(args, path, InspectFailure(path, fixed.status()), out, err);
    }
    view.repair = std::move(*fixed);
    report = Inspect(**region, path, true, {});  // the pool as it is now
    if (!report.ok()) {
      return Fail(args, path, InspectFailure(path, report.status()), out, err);
    }
  }
  view.region = (*region)->info();
  view.report = std::move(*report);
  Judge(&view);
  if (args.Has("json")) {
    out << PoolToJson(view).dump(2) << "\n";
  } else {
    RenderPool(view, out);
  }
  return view.exit_code;
}

}  // namespace daxkv::inspect
