// Geospatial indexes: GEOADD, GEOPOS, GEODIST, GEOHASH and the searches
// (kv/cmd_geo_search.cc). As in Redis, a geospatial index IS a sorted set
// whose scores are 52-bit geohashes (kv/geohash.h): ZRANGE, ZREM, DUMP or
// a replica see an ordinary sorted set, and GEOADD writes through the same
// engine Txn as ZADD, so each acknowledged GEOADD is durable first
// (kv/coll_run.h).
#include "kv/cmd_geo.h"

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "base/function_ref.h"
#include "kv/coll_run.h"
#include "kv/command.h"
#include "kv/geohash.h"
#include "kv/numbers.h"
#include "kv/zset_args.h"

namespace daxkv::kv {

bool ParseGeoPoint(std::string_view lon_text, std::string_view lat_text,
                   double* lon, double* lat, std::string* error) {
  if (!ParseScore(lon_text, lon) || !ParseScore(lat_text, lat)) {
    *error = kErrNotFloat;
    return false;
  }
  if (!geo::ValidPoint(*lon, *lat)) {
    char text[128];
    std::snprintf(text, sizeof(text),
                  "ERR invalid longitude,latitude pair %f,%f", *lon, *lat);
    *error = text;
    return false;
  }
  return true;
}

bool ParseGeoUnit(std::string_view unit, double* to_meters,
                  std::string* error) {
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"m", 1}, {"km", 1000}, {"ft", 0.3048}, {"mi", 1609.34}};
  for (const auto& [name, factor] : kUnits) {
    if (EqualsIgnoreCase(unit, name)) {
      *to_meters = factor;
      return true;
    }
  }
  *error = "ERR unsupported unit provided. please use M, KM, FT, MI";
  return false;
}

void ReplyGeoCoordinate(ReplyWriter& out, double v) {
  out.DoubleText(FormatLongDouble(v));
}

void ReplyGeoDistance(ReplyWriter& out, double d) {
  char text[128];
  const int n = std::snprintf(text, sizeof(text), "%.4f", d);
  out.Bulk(std::string_view(text, static_cast<size_t>(n)));
}

namespace {

using engine::KeyType;
using engine::ReadOps;
using engine::Txn;

// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD's
// options, each point turned into its geohash score.
void GeoAddCommand(CommandContext& ctx) {
  size_t first = 2;
  bool nx = false, xx = false, ch = false;
  for (; first < ctx.argv.size(); ++first) {
    std::string_view o = ctx.argv[first];
    if (EqualsIgnoreCase(o, "nx")) {
      nx = true;
    } else if (EqualsIgnoreCase(o, "xx")) {
      xx = true;
    } else if (EqualsIgnoreCase(o, "ch")) {
      ch = true;
    } else {
      break;
    }
  }
  const size_t left = ctx.argv.size() - first;
  if (left % 3 != 0 || left == 0 || (nx && xx)) {
    ReplySyntaxError(ctx);
    return;
  }
  std::vector<std::pair<double, std::string_view>> points;
  for (size_t i = first; i < ctx.argv.size(); i += 3) {
    double lon = 0, lat = 0;
    std::string error;
    if (!ParseGeoPoint(ctx.argv[i], ctx.argv[i + 1], &lon, &lat, &error)) {
      ctx.out.Error(error);
      return;
    }
    points.emplace_back(static_cast<double>(geo::ScoreOf(lon, lat)),
                        ctx.argv[i + 2]);
  }
  engine::ZAddOptions options;
  options.cond = nx   ? engine::ZAddOptions::Cond::kIfAbsent
                 : xx ? engine::ZAddOptions::Cond::kIfPresent
                      : engine::ZAddOptions::Cond::kAlways;
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    std::string_view key = ctx.argv[1];
    DAXKV_RETURN_IF_ERROR(CollSize(txn, key, KeyType::kZset).status());
    int64_t counted = 0;
    for (const auto& [score, member] : points) {
      engine::ZAddResult r;
      DAXKV_RETURN_IF_ERROR(txn.ZAdd(key, member, score, options, &r));
      counted += (ch ? r.changed : r.added) ? 1 : 0;
      if (r.changed) call.Modified(key);
    }
    call.out.Integer(counted);
    return OkStatus();
  });
}

// The point of `member`, or false when the key or the member is absent.
StatusOr<bool> MemberPoint(ReadOps& ops, std::string_view key,
                           std::string_view member, double* lon, double* lat) {
  double score = 0;
  Status s = ops.ZScore(key, member, &score);
  if (s.code() == StatusCode::kNotFound) return false;
  DAXKV_RETURN_IF_ERROR(s);
  return geo::PointOf(score, lon, lat);
}

// GEOPOS and GEOHASH: one reply per member, `reply` told whether the
// member is there and where.
void PerMember(CommandContext& ctx,
               FunctionRef<void(ReplyWriter&, bool, double, double)> reply) {
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    std::string_view key = ctx.argv[1];
    DAXKV_RETURN_IF_ERROR(CollSize(ops, key, KeyType::kZset).status());
    call.out.ArrayHeader(ctx.argv.size() - 2);
    for (size_t i = 2; i < ctx.argv.size(); ++i) {
      double lon = 0, lat = 0;
      DAXKV_ASSIGN_OR_RETURN(bool found,
                             MemberPoint(ops, key, ctx.argv[i], &lon, &lat));
      reply(call.out, found, lon, lat);
    }
    return OkStatus();
  });
}

// GEOPOS key member [...]: [longitude, latitude] or a null array each.
void GeoPosCommand(CommandContext& ctx) {
  PerMember(ctx, [](ReplyWriter& out, bool found, double lon, double lat) {
    if (!found) {
      out.NullArray();
      return;
    }
    out.ArrayHeader(2);
    ReplyGeoCoordinate(out, lon);
    ReplyGeoCoordinate(out, lat);
  });
}

// GEOHASH key member [...]: the standard 11-character geohash or null.
void GeoHashCommand(CommandContext& ctx) {
  PerMember(ctx, [](ReplyWriter& out, bool found, double lon, double lat) {
    if (found) {
      out.Bulk(geo::StandardHash(lon, lat));
    } else {
      out.Null();
    }
  });
}

// GEODIST key member1 member2 [M|KM|FT|MI]: null when either is absent.
void GeoDistCommand(CommandContext& ctx) {
  double to_meters = 1;
  if (ctx.argv.size() > 5) {
    ReplySyntaxError(ctx);
    return;
  }
  std::string error;
  if (ctx.argv.size() == 5 && !ParseGeoUnit(ctx.argv[4], &to_meters, &error)) {
    ctx.out.Error(error);
    return;
  }
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    std::string_view key = ctx.argv[1];
    DAXKV_RETURN_IF_ERROR(CollSize(ops, key, KeyType::kZset).status());
    double lon1 = 0, lat1 = 0, lon2 = 0, lat2 = 0;
    DAXKV_ASSIGN_OR_RETURN(bool first,
                           MemberPoint(ops, key, ctx.argv[2], &lon1, &lat1));
    DAXKV_ASSIGN_OR_RETURN(bool second,
                           MemberPoint(ops, key, ctx.argv[3], &lon2, &lat2));
    if (!first || !second) {
      call.out.Null();
    } else {
      ReplyGeoDistance(call.out,
                       geo::Distance(lon1, lat1, lon2, lat2) / to_meters);
    }
    return OkStatus();
  });
}

}  // namespace

void RegisterGeoCommands(CommandTable* t) {
  static constexpr CollCommand kCommands[] = {
      {"geoadd", -5, kCmdWrite, GeoAddCommand,
       "Add one or more geospatial items in the geospatial index represented "
       "using a sorted set",
       "3.2.0"},
      {"geopos", -2, kCmdReadOnly, GeoPosCommand,
       "Returns longitude and latitude of members of a geospatial index",
       "3.2.0"},
      {"geohash", -2, kCmdReadOnly, GeoHashCommand,
       "Returns members of a geospatial index as standard geohash strings",
       "3.2.0"},
      {"geodist", -4, kCmdReadOnly, GeoDistCommand,
       "Returns the distance between two members of a geospatial index",
       "3.2.0"},
  };
  AddCollCommands(t, "geo", kCommands);
  RegisterGeoSearchCommands(t);
}

}  // namespace daxkv::kv
