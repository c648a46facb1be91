#include "kv/geohash.h"

#include <cmath>
#include <initializer_list>

namespace daxkv::kv::geo {
namespace {

constexpr double kEarthRadiusMeters = 6372797.560856;
constexpr double kMercatorMax = 20037726.37;
constexpr double kDegToRad = M_PI / 180.0;
constexpr uint64_t kEvenBits = 0x5555555555555555ull;  // latitude
constexpr uint64_t kOddBits = 0xaaaaaaaaaaaaaaaaull;   // longitude

constexpr Range kLongRange{kLongMin, kLongMax};
constexpr Range kLatRange{kLatMin, kLatMax};

double ToRad(double deg) { return deg * kDegToRad; }
double ToDeg(double rad) { return rad / kDegToRad; }

// v's 32 bits into the even bits of the result.
uint64_t Spread(uint32_t v) {
  uint64_t x = v;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFull;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFull;
  x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0Full;
  x = (x | (x << 2)) & 0x3333333333333333ull;
  x = (x | (x << 1)) & kEvenBits;
  return x;
}

// Spread's inverse: the even bits of x, packed.
uint32_t Squash(uint64_t x) {
  x &= kEvenBits;
  x = (x | (x >> 1)) & 0x3333333333333333ull;
  x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0Full;
  x = (x | (x >> 4)) & 0x00FF00FF00FF00FFull;
  x = (x | (x >> 8)) & 0x0000FFFF0000FFFFull;
  x = (x | (x >> 16)) & 0x00000000FFFFFFFFull;
  return static_cast<uint32_t>(x);
}

// Moves a cell one cell along one coordinate (`mask`: its bits), with
// wrap-around: the carry runs through the other coordinate's bits.
void Move(Cell* c, uint64_t mask, int d) {
  const int shift = 64 - c->step * 2;
  uint64_t mine = c->bits & mask;
  const uint64_t other = c->bits & ~mask;
  const uint64_t fill = ~mask >> shift;  // the other coordinate's bits
  if (d > 0) {
    mine = mine + (fill + 1);
  } else {
    mine = (mine | fill) - (fill + 1);
  }
  c->bits = (mine & (mask >> shift)) | other;
}

int EstimateSteps(double range_meters, double lat) {
  if (range_meters == 0) return kStepMax;
  int step = 1;
  while (range_meters < kMercatorMax) {
    range_meters *= 2;
    ++step;
  }
  step -= 2;                    // so that the range fits the cell in most cases
  if (lat > 66 || lat < -66) {  // meridians converge towards the poles
    --step;
    if (lat > 80 || lat < -80) --step;
  }
  return step < 1 ? 1 : step > kStepMax ? kStepMax : step;
}

// The shape's bounding box: the widest longitude span on the side of the
// equator nearer to it.
Area BoundingBox(const Shape& s) {
  const double half_h = s.to_meters * (s.box ? s.height / 2 : s.radius);
  const double half_w = s.to_meters * (s.box ? s.width / 2 : s.radius);
  const double lat_delta = ToDeg(half_h / kEarthRadiusMeters);
  const double lon_delta_top =
      ToDeg(half_w / kEarthRadiusMeters / std::cos(ToRad(s.lat + lat_delta)));
  const double lon_delta_bottom =
      ToDeg(half_w / kEarthRadiusMeters / std::cos(ToRad(s.lat - lat_delta)));
  const double lon_delta = s.lat < 0 ? lon_delta_bottom : lon_delta_top;
  return {{s.lon - lon_delta, s.lon + lon_delta},
          {s.lat - lat_delta, s.lat + lat_delta}};
}

// (uint64_t)score as Redis's x86-64 build computes it, defined for every
// double: a score no GEOADD wrote (ZADD's -5, 1e300, inf) decodes to the
// same point as in Redis. Below 2^63 the conversion truncates to int64
// (cvttsd2si, whose out-of-range answer is 2^63); above, it converts
// score - 2^63 and flips the top bit.
uint64_t CastToBits(double score) {
  constexpr double kTwo63 = 9223372036854775808.0;
  constexpr uint64_t kIndefinite = uint64_t{1} << 63;
  auto truncate = [](double v) {
    return (v > -kTwo63 && v < kTwo63)
               ? static_cast<uint64_t>(static_cast<int64_t>(v))
               : kIndefinite;  // NaN, infinities, out of range
  };
  if (!(score >= kTwo63)) return truncate(score);
  return truncate(score - kTwo63) ^ kIndefinite;
}

Area DecodedArea(Cell c) {
  Area a{};
  Decode(kLongRange, kLatRange, c, &a);
  return a;
}

}  // namespace

bool Encode(Range lon_range, Range lat_range, double lon, double lat, int step,
            Cell* cell) {
  if (step > 32 || step == 0 || lat_range.max == lat_range.min ||
      lon_range.max == lon_range.min || !ValidPoint(lon, lat)) {
    return false;
  }
  cell->bits = 0;
  cell->step = step;
  if (lat < lat_range.min || lat > lat_range.max || lon < lon_range.min ||
      lon > lon_range.max) {
    return false;
  }
  double lat_offset = (lat - lat_range.min) / (lat_range.max - lat_range.min);
  double lon_offset = (lon - lon_range.min) / (lon_range.max - lon_range.min);
  lat_offset *= static_cast<double>(uint64_t{1} << step);
  lon_offset *= static_cast<double>(uint64_t{1} << step);
  cell->bits = Spread(static_cast<uint32_t>(lat_offset)) |
               Spread(static_cast<uint32_t>(lon_offset)) << 1;
  return true;
}

bool Decode(Range lon_range, Range lat_range, Cell cell, Area* area) {
  if (cell.none() || lat_range.max == lat_range.min ||
      lon_range.max == lon_range.min) {
    return false;
  }
  const double cells = static_cast<double>(uint64_t{1} << cell.step);
  const double lat_scale = lat_range.max - lat_range.min;
  const double lon_scale = lon_range.max - lon_range.min;
  const uint32_t ilat = Squash(cell.bits);
  const uint32_t ilon = Squash(cell.bits >> 1);
  // The expressions keep Redis's order of operations: the same doubles.
  area->lat.min = lat_range.min + (ilat * 1.0 / cells) * lat_scale;
  area->lat.max = lat_range.min + ((ilat + 1) * 1.0 / cells) * lat_scale;
  area->lon.min = lon_range.min + (ilon * 1.0 / cells) * lon_scale;
  area->lon.max = lon_range.min + ((ilon + 1) * 1.0 / cells) * lon_scale;
  return true;
}

uint64_t ScoreOf(double lon, double lat) {
  Cell c;
  if (!Encode(kLongRange, kLatRange, lon, lat, kStepMax, &c)) return 0;
  return c.bits;
}

bool PointOf(double score, double* lon, double* lat) {
  Area a;
  if (!Decode(kLongRange, kLatRange, Cell{CastToBits(score), kStepMax}, &a)) {
    return false;
  }
  *lon = std::fmin(std::fmax((a.lon.min + a.lon.max) / 2, kLongMin), kLongMax);
  *lat = std::fmin(std::fmax((a.lat.min + a.lat.max) / 2, kLatMin), kLatMax);
  return true;
}

std::string StandardHash(double lon, double lat) {
  static constexpr char kAlphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
  Cell c;
  if (!Encode({-180, 180}, {-90, 90}, lon, lat, kStepMax, &c)) c.bits = 0;
  std::string out(11, '0');  // 52 bits make 10 characters and 2 bits
  for (int i = 0; i < 10; ++i) {
    out[i] = kAlphabet[(c.bits >> (52 - (i + 1) * 5)) & 0x1f];
  }
  return out;
}

double Distance(double lon1, double lat1, double lon2, double lat2) {
  const double lon1r = ToRad(lon1);
  const double lon2r = ToRad(lon2);
  const double v = std::sin((lon2r - lon1r) / 2);
  // On one meridian the haversine reduces to the latitude difference;
  // Redis computes it so (and its last bit differs from the full formula).
  if (v == 0.0) {
    return kEarthRadiusMeters * std::fabs(ToRad(lat2) - ToRad(lat1));
  }
  const double lat1r = ToRad(lat1);
  const double lat2r = ToRad(lat2);
  const double u = std::sin((lat2r - lat1r) / 2);
  return 2.0 * kEarthRadiusMeters *
         std::asin(
             std::sqrt(u * u + std::cos(lat1r) * std::cos(lat2r) * v * v));
}

bool InShape(const Shape& s, double score, double* lon, double* lat,
             double* dist) {
  if (!PointOf(score, lon, lat)) return false;
  if (!s.box) {
    const double d = Distance(s.lon, s.lat, *lon, *lat);
    if (d > s.radius * s.to_meters) return false;
    *dist = d;
    return true;
  }
  const double lon_dist = Distance(*lon, *lat, s.lon, *lat);
  const double lat_dist = Distance(*lon, *lat, *lon, s.lat);
  if (lon_dist > s.width * s.to_meters / 2 ||
      lat_dist > s.height * s.to_meters / 2) {
    return false;
  }
  *dist = Distance(s.lon, s.lat, *lon, *lat);
  return true;
}

std::array<Cell, 9> SearchCells(const Shape& s) {
  const Area bounds = BoundingBox(s);
  const double half_diag = std::sqrt((s.width / 2) * (s.width / 2) +
                                     (s.height / 2) * (s.height / 2));
  int step = EstimateSteps((s.box ? half_diag : s.radius) * s.to_meters, s.lat);
  enum { kCentre, kN, kS, kE, kW, kNE, kNW, kSE, kSW };
  std::array<Cell, 9> cells;
  auto cover = [&](int at_step) {
    Encode(kLongRange, kLatRange, s.lon, s.lat, at_step, &cells[kCentre]);
    cells.fill(cells[kCentre]);
    const int moves[9][2] = {{0, 0}, {0, 1},  {0, -1}, {1, 0},  {-1, 0},
                             {1, 1}, {-1, 1}, {1, -1}, {-1, -1}};
    for (int i = 1; i < 9; ++i) {
      if (moves[i][0] != 0) Move(&cells[i], kOddBits, moves[i][0]);
      if (moves[i][1] != 0) Move(&cells[i], kEvenBits, moves[i][1]);
    }
  };
  cover(step);
  // A neighbour that does not reach the box's edge: one level coarser.
  if (step > 1 && (DecodedArea(cells[kN]).lat.max < bounds.lat.max ||
                   DecodedArea(cells[kS]).lat.min > bounds.lat.min ||
                   DecodedArea(cells[kE]).lon.max < bounds.lon.max ||
                   DecodedArea(cells[kW]).lon.min > bounds.lon.min)) {
    cover(--step);
  }
  if (step >= 2) {  // drop the neighbours the box cannot reach
    const Area centre = DecodedArea(cells[kCentre]);
    auto drop = [&](std::initializer_list<int> which) {
      for (int i : which) cells[i] = Cell{};
    };
    if (centre.lat.min < bounds.lat.min) drop({kS, kSW, kSE});
    if (centre.lat.max > bounds.lat.max) drop({kN, kNE, kNW});
    if (centre.lon.min < bounds.lon.min) drop({kW, kSW, kNW});
    if (centre.lon.max > bounds.lon.max) drop({kE, kSE, kNE});
  }
  return cells;
}

void CellScores(Cell cell, uint64_t* min, uint64_t* max) {
  const int shift = 52 - cell.step * 2;
  *min = cell.bits << shift;
  *max = (cell.bits + 1) << shift;
}

}  // namespace daxkv::kv::geo
