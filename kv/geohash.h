// The geometry behind the GEO commands (kv/cmd_geo.cc), computed as Redis
// 7.0 computes it so that every score, hash, distance and search result is
// the one redis-server gives for the same input:
//   * a point is a sorted-set member whose score is the 52-bit geohash of
//     its coordinates: 26 bits of longitude in [-180, 180] interleaved with
//     26 of latitude in [-85.05112878, 85.05112878] (the Web-Mercator
//     bounds), latitude in the even bits;
//   * a point reads back as the centre of its 52-bit cell;
//   * distances are haversine on a sphere of Redis's Earth radius;
//   * a search covers its shape with the cell of a level chosen from the
//     shape's size and that cell's 8 neighbours (some dropped when the
//     shape cannot reach them), reads each cell's score range and keeps
//     the points inside the shape.
//
// Thread-safety: pure functions.
#ifndef DAXKV_KV_GEOHASH_H_
#define DAXKV_KV_GEOHASH_H_

#include <array>
#include <cstdint>
#include <string>

namespace daxkv::kv::geo {

inline constexpr double kLongMin = -180;
inline constexpr double kLongMax = 180;
inline constexpr double kLatMin = -85.05112878;
inline constexpr double kLatMax = 85.05112878;
// Bits per coordinate of a stored score (52 in all: a double holds them).
inline constexpr int kStepMax = 26;

struct Range {
  double min;
  double max;
};

// A cell: `step` bits per coordinate, interleaved into bits' low 2*step.
// {0, 0} is "no cell" (a neighbour a search skips).
struct Cell {
  uint64_t bits = 0;
  int step = 0;
  bool none() const { return bits == 0 && step == 0; }
};

struct Area {
  Range lon;
  Range lat;
};

// Whether Redis accepts the pair as a point.
inline bool ValidPoint(double lon, double lat) {
  return lon >= kLongMin && lon <= kLongMax && lat >= kLatMin && lat <= kLatMax;
}

// The cell of (lon, lat) at `step` (1..32) within the given ranges; false
// when the point lies outside them or outside the valid points.
bool Encode(Range lon_range, Range lat_range, double lon, double lat, int step,
            Cell* cell);
// The area a cell covers; false for "no cell".
bool Decode(Range lon_range, Range lat_range, Cell cell, Area* area);

// The score GEOADD stores for a valid point.
uint64_t ScoreOf(double lon, double lat);
// The point a stored score stands for (its cell's centre); false when the
// score is not a geohash (no cell).
bool PointOf(double score, double* lon, double* lat);
// GEOHASH's 11-character standard geohash of a stored score's point
// (re-encoded over latitude [-90, 90]; the 11th character is always '0').
std::string StandardHash(double lon, double lat);

// Great-circle distance in metres.
double Distance(double lon1, double lat1, double lon2, double lat2);

// What a search covers, in metres scaled by `to_meters` (the unit's).
struct Shape {
  bool box = false;
  double lon = 0;
  double lat = 0;
  double radius = 0;  // circle
  double width = 0;   // box
  double height = 0;
  double to_meters = 1;
};

// Whether the point of `score` lies in the shape; *lon, *lat, *dist (from
// the shape's centre, in metres) are set when it does.
bool InShape(const Shape& shape, double score, double* lon, double* lat,
             double* dist);

// The cells a search reads, in Redis's order: centre, N, S, E, W, NE, NW,
// SE, SW ("no cell" where the shape cannot reach).
std::array<Cell, 9> SearchCells(const Shape& shape);
// The score range [*min, *max) of the points in `cell`.
void CellScores(Cell cell, uint64_t* min, uint64_t* max);

}  // namespace daxkv::kv::geo

#endif  // DAXKV_KV_GEOHASH_H_
