// The GEO searches, Redis 7.0's georadiusGeneric: GEORADIUS and
// GEORADIUSBYMEMBER (with STORE / STOREDIST) and their _RO forms, GEOSEARCH
// and GEOSEARCHSTORE. A search reads the score ranges of at most 9 geohash
// cells (kv/geohash.h), each O(log n + m) on the engine's order index,
// keeps the points inside the shape, sorts them by distance when asked and
// replies them or stores them as a sorted set (one Txn: durable before the
// reply, as every write).
//
// Arguments are checked in Redis's order, inside the command's Txn or
// read: a WRONGTYPE source wins over every argument error, and FROMMEMBER
// of an absent member fails where Redis's parser meets it.
//
// Ties in distance keep the order of the cells and scores they were read
// in (Redis's glibc qsort is a stable merge sort). With COUNT below the
// number found, Redis sorts partially (pqsort, not stable): points at
// exactly equal distances may then come in another order than Redis's.
#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "base/int_text.h"
#include "kv/cmd_geo.h"
#include "kv/coll_run.h"
#include "kv/command.h"
#include "kv/geohash.h"
#include "kv/zset_args.h"

namespace daxkv::kv {
namespace {

using engine::KeyType;
using engine::ReadOps;
using engine::Txn;

enum SearchFlags : int {
  kFromCoords = 1,    // GEORADIUS key longitude latitude radius unit
  kFromMember = 2,    // GEORADIUSBYMEMBER key member radius unit
  kNoStore = 4,       // the _RO forms
  kSearch = 8,        // GEOSEARCH's FROM... and BY... options
  kSearchStore = 16,  // GEOSEARCHSTORE destination source
};

enum class Order { kNone, kAsc, kDesc };

struct SearchArgs {
  geo::Shape shape;
  bool store = false;
  std::string_view store_key;
  bool store_dist = false;
  bool with_dist = false, with_hash = false, with_coord = false;
  bool from_member = false, from_point = false;
  bool by_radius = false, by_box = false;
  Order order = Order::kNone;
  bool any = false;
  int64_t count = 0;  // 0: every point
};

struct Found {
  std::string member;
  double score, lon, lat, dist;
};

Status ParseRadius(std::string_view value, std::string_view unit,
                   geo::Shape* s) {
  double radius = 0;
  if (!ParseScore(value, &radius))
    return CommandError("ERR need numeric radius");
  if (radius < 0) return CommandError("ERR radius cannot be negative");
  std::string error;
  if (!ParseGeoUnit(unit, &s->to_meters, &error)) return CommandError(error);
  s->box = false;
  s->radius = radius;
  return OkStatus();
}

Status ParseBox(std::string_view w, std::string_view h, std::string_view unit,
                geo::Shape* s) {
  double width = 0, height = 0;
  if (!ParseScore(w, &width)) return CommandError("ERR need numeric width");
  if (!ParseScore(h, &height)) return CommandError("ERR need numeric height");
  if (width < 0 || height < 0) {
    return CommandError("ERR height or width cannot be negative");
  }
  std::string error;
  if (!ParseGeoUnit(unit, &s->to_meters, &error)) return CommandError(error);
  s->box = true;
  s->width = width;
  s->height = height;
  return OkStatus();
}

Status ParsePoint(std::string_view lon, std::string_view lat, geo::Shape* s) {
  std::string error;
  if (!ParseGeoPoint(lon, lat, &s->lon, &s->lat, &error))
    return CommandError(error);
  return OkStatus();
}

// The centre at a member's point.
Status MemberCentre(ReadOps& ops, std::string_view key, std::string_view member,
                    geo::Shape* s) {
  double score = 0;
  Status st = ops.ZScore(key, member, &score);
  if (st.code() != StatusCode::kNotFound) DAXKV_RETURN_IF_ERROR(st);
  if (!st.ok() || !geo::PointOf(score, &s->lon, &s->lat)) {
    return CommandError("ERR could not decode requested zset member");
  }
  return OkStatus();
}

// The arguments before the options; *base gets the first option's index.
Status ParseHead(CommandContext& ctx, int flags, ReadOps& ops,
                 std::string_view key, bool exists, SearchArgs* a,
                 size_t* base) {
  const auto& argv = ctx.argv;
  if (flags & kFromCoords) {
    *base = 6;
    DAXKV_RETURN_IF_ERROR(ParsePoint(argv[2], argv[3], &a->shape));
    return ParseRadius(argv[4], argv[5], &a->shape);
  }
  if (flags & kFromMember) {
    *base = 5;
    if (!exists) return OkStatus();  // parsed on, for the reply's kind
    DAXKV_RETURN_IF_ERROR(MemberCentre(ops, key, argv[2], &a->shape));
    return ParseRadius(argv[3], argv[4], &a->shape);
  }
  *base = 2;
  if (flags & kSearchStore) {
    *base = 3;
    a->store = true;
    a->store_key = argv[1];
  }
  return OkStatus();
}

// GEOSEARCH's FROMMEMBER / FROMLONLAT / BYRADIUS / BYBOX at argv[i]: how
// many arguments it took (0: not one of them here).
StatusOr<size_t> ParseSearchOption(CommandContext& ctx, ReadOps& ops,
                                   std::string_view key, bool exists, size_t i,
                                   SearchArgs* a) {
  const auto& argv = ctx.argv;
  std::string_view o = argv[i];
  const size_t left = argv.size() - i - 1;
  if (EqualsIgnoreCase(o, "frommember") && left >= 1 && !a->from_point) {
    if (exists) {
      DAXKV_RETURN_IF_ERROR(MemberCentre(ops, key, argv[i + 1], &a->shape));
    }
    a->from_member = true;
    return 2;
  }
  if (EqualsIgnoreCase(o, "fromlonlat") && left >= 2 && !a->from_member) {
    DAXKV_RETURN_IF_ERROR(ParsePoint(argv[i + 1], argv[i + 2], &a->shape));
    a->from_point = true;
    return 3;
  }
  if (EqualsIgnoreCase(o, "byradius") && left >= 2 && !a->by_box) {
    DAXKV_RETURN_IF_ERROR(ParseRadius(argv[i + 1], argv[i + 2], &a->shape));
    a->by_radius = true;
    return 3;
  }
  if (EqualsIgnoreCase(o, "bybox") && left >= 3 && !a->by_radius) {
    DAXKV_RETURN_IF_ERROR(
        ParseBox(argv[i + 1], argv[i + 2], argv[i + 3], &a->shape));
    a->by_box = true;
    return 4;
  }
  return 0;
}

// The output options at argv[i], as ParseSearchOption.
StatusOr<size_t> ParseOutputOption(CommandContext& ctx, int flags, size_t i,
                                   SearchArgs* a) {
  std::string_view o = ctx.argv[i];
  const size_t left = ctx.argv.size() - i - 1;
  const bool store_allowed = !(flags & (kNoStore | kSearch));
  const std::pair<std::string_view, bool*> kSwitches[] = {
      {"withdist", &a->with_dist},
      {"withhash", &a->with_hash},
      {"withcoord", &a->with_coord},
      {"any", &a->any}};
  for (const auto& [name, flag] : kSwitches) {
    if (EqualsIgnoreCase(o, name)) {
      *flag = true;
      return 1;
    }
  }
  if (EqualsIgnoreCase(o, "asc") || EqualsIgnoreCase(o, "desc")) {
    a->order = EqualsIgnoreCase(o, "asc") ? Order::kAsc : Order::kDesc;
    return 1;
  }
  if (EqualsIgnoreCase(o, "count") && left >= 1) {
    if (!ParseInt64(ctx.argv[i + 1], &a->count)) {
      return CommandError("ERR value is not an integer or out of range");
    }
    if (a->count <= 0) return CommandError("ERR COUNT must be > 0");
    return 2;
  }
  const bool dist = EqualsIgnoreCase(o, "storedist");
  if ((dist || EqualsIgnoreCase(o, "store")) && left >= 1 && store_allowed) {
    a->store = true;
    a->store_key = ctx.argv[i + 1];
    a->store_dist = dist;
    return 2;
  }
  if (dist && (flags & kSearchStore)) {
    a->store_dist = true;
    return 1;
  }
  return 0;
}

Status ParseSearch(CommandContext& ctx, int flags, ReadOps& ops,
                   std::string_view key, bool exists, SearchArgs* a) {
  size_t i = 0;
  DAXKV_RETURN_IF_ERROR(ParseHead(ctx, flags, ops, key, exists, a, &i));
  while (i < ctx.argv.size()) {
    DAXKV_ASSIGN_OR_RETURN(size_t took, ParseOutputOption(ctx, flags, i, a));
    if (took == 0 && (flags & kSearch)) {
      DAXKV_ASSIGN_OR_RETURN(took,
                             ParseSearchOption(ctx, ops, key, exists, i, a));
    }
    if (took == 0) return CommandError("ERR syntax error");
    i += took;
  }
  if (a->store && (a->with_dist || a->with_hash || a->with_coord)) {
    return CommandError(
        (flags & kSearchStore)
            ? "ERR GEOSEARCHSTORE is not compatible with WITHDIST, "
              "WITHHASH and WITHCOORD options"
            : "ERR STORE option in GEORADIUS is not compatible with "
              "WITHDIST, WITHHASH and WITHCOORD options");
  }
  const std::string name(ctx.argv[0]);  // as the client spelt it
  if ((flags & kSearch) && !a->from_member && !a->from_point) {
    return CommandError(
        "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified "
        "for " +
        name);
  }
  if ((flags & kSearch) && !a->by_radius && !a->by_box) {
    return CommandError(
        "ERR exactly one of BYRADIUS and BYBOX can be specified for " + name);
  }
  if (a->any && a->count == 0) {
    return CommandError("ERR the ANY argument requires COUNT argument");
  }
  return OkStatus();
}

// The points inside the shape, cell after cell; with ANY, the first
// `count` found.
Status Collect(ReadOps& ops, std::string_view key, const SearchArgs& a,
               std::vector<Found>* out) {
  const uint64_t limit = a.any ? static_cast<uint64_t>(a.count) : 0;
  const std::array<geo::Cell, 9> cells = geo::SearchCells(a.shape);
  size_t last = 0;  // a huge radius makes neighbours repeat
  for (size_t i = 0; i < cells.size(); ++i) {
    const geo::Cell& c = cells[i];
    if (c.none()) continue;
    if (last != 0 && c.bits == cells[last].bits && c.step == cells[last].step) {
      continue;
    }
    if (limit != 0 && out->size() >= limit) break;
    uint64_t min = 0, max = 0;
    geo::CellScores(c, &min, &max);
    const engine::ScoreRange range{static_cast<double>(min),
                                   static_cast<double>(max), false, true};
    DAXKV_RETURN_IF_ERROR(ops.ZRangeByScore(
        key, range, false, {},
        [&](std::string_view member, double score) {
          double lon = 0, lat = 0, dist = 0;
          if (geo::InShape(a.shape, score, &lon, &lat, &dist)) {
            out->push_back({std::string(member), score, lon, lat, dist});
          }
          return limit == 0 || out->size() < limit;
        },
        /*count=*/nullptr));
    last = i;
  }
  return OkStatus();
}

void ReplyFound(ReplyWriter& out, const SearchArgs& a,
                const std::vector<Found>& found, size_t n) {
  const size_t extras = a.with_dist + a.with_hash + a.with_coord;
  out.ArrayHeader(n);
  for (size_t i = 0; i < n; ++i) {
    const Found& f = found[i];
    if (extras != 0) out.ArrayHeader(extras + 1);
    out.Bulk(f.member);
    if (a.with_dist) ReplyGeoDistance(out, f.dist / a.shape.to_meters);
    if (a.with_hash) out.Integer(static_cast<int64_t>(f.score));
    if (a.with_coord) {
      out.ArrayHeader(2);
      ReplyGeoCoordinate(out, f.lon);
      ReplyGeoCoordinate(out, f.lat);
    }
  }
}

Status Search(CommandContext& ctx, int flags, ReadOps& ops, Txn* txn,
              CollCall& call) {
  std::string_view key = ctx.argv[(flags & kSearchStore) ? 2 : 1];
  DAXKV_ASSIGN_OR_RETURN(uint64_t size, CollSize(ops, key, KeyType::kZset));
  SearchArgs a;
  DAXKV_RETURN_IF_ERROR(ParseSearch(ctx, flags, ops, key, size > 0, &a));
  std::vector<Found> found;
  if (size > 0) DAXKV_RETURN_IF_ERROR(Collect(ops, key, a, &found));
  const size_t n =
      a.count == 0 ? found.size() : std::min<size_t>(found.size(), a.count);
  if (a.count != 0 && a.order == Order::kNone && !a.any) a.order = Order::kAsc;
  if (a.order == Order::kAsc) {
    std::stable_sort(
        found.begin(), found.end(),
        [](const Found& x, const Found& y) { return x.dist < y.dist; });
  } else if (a.order == Order::kDesc) {
    std::stable_sort(
        found.begin(), found.end(),
        [](const Found& x, const Found& y) { return x.dist > y.dist; });
  }
  if (!a.store) {
    ReplyFound(call.out, a, found, n);
    return OkStatus();
  }
  Scored items;
  for (size_t i = 0; i < n; ++i) {
    items.emplace_back(
        std::move(found[i].member),
        a.store_dist ? found[i].dist / a.shape.to_meters : found[i].score);
  }
  return StoreZset(*txn, call, a.store_key, items);
}

// GEORADIUS and GEORADIUSBYMEMBER are writes (their STORE), as in Redis.
void SearchGeneric(CommandContext& ctx, int flags) {
  const bool writes = (flags & kSearchStore) || !(flags & (kNoStore | kSearch));
  if (!writes) {
    RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
      return Search(ctx, flags, ops, nullptr, call);
    });
    return;
  }
  RunCollWrite(ctx, [&](Txn& txn, CollCall& call) {
    return Search(ctx, flags, txn, &txn, call);
  });
}

void GeoRadiusCommand(CommandContext& ctx) { SearchGeneric(ctx, kFromCoords); }
void GeoRadiusRoCommand(CommandContext& ctx) {
  SearchGeneric(ctx, kFromCoords | kNoStore);
}
void GeoRadiusByMemberCommand(CommandContext& ctx) {
  SearchGeneric(ctx, kFromMember);
}
void GeoRadiusByMemberRoCommand(CommandContext& ctx) {
  SearchGeneric(ctx, kFromMember | kNoStore);
}
void GeoSearchCommand(CommandContext& ctx) { SearchGeneric(ctx, kSearch); }
void GeoSearchStoreCommand(CommandContext& ctx) {
  SearchGeneric(ctx, kSearch | kSearchStore);
}

}  // namespace

void RegisterGeoSearchCommands(CommandTable* t) {
  static constexpr CollCommand kCommands[] = {
      {"georadius", -6, kCmdWrite, GeoRadiusCommand,
       "Query a sorted set representing a geospatial index to fetch members "
       "matching a given maximum distance from a point",
       "3.2.0"},
      {"georadius_ro", -6, kCmdReadOnly, GeoRadiusRoCommand,
       "A read-only variant for GEORADIUS", "3.2.10"},
      {"georadiusbymember", -5, kCmdWrite, GeoRadiusByMemberCommand,
       "Query a sorted set representing a geospatial index to fetch members "
       "matching a given maximum distance from a member",
       "3.2.0"},
      {"georadiusbymember_ro", -5, kCmdReadOnly, GeoRadiusByMemberRoCommand,
       "A read-only variant for GEORADIUSBYMEMBER", "3.2.10"},
      {"geosearch", -7, kCmdReadOnly, GeoSearchCommand,
       "Query a sorted set representing a geospatial index to fetch members "
       "inside an area of a box or a circle.",
       "6.2.0"},
      {"geosearchstore", -8, kCmdWrite, GeoSearchStoreCommand,
       "Query a sorted set representing a geospatial index to fetch members "
       "inside an area of a box or a circle, and store the result in another "
       "key.",
       "6.2.0", 1, 2},
  };
  AddCollCommands(t, "geo", kCommands);
}

}  // namespace daxkv::kv
