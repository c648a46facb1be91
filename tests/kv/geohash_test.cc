// kv/geohash.h against figures redis-server 7.0.15 gives for the same
// input (GEOADD's score, GEOPOS, GEOHASH, GEODIST of Redis's own examples),
// and the cell arithmetic the searches rely on.
#include "kv/geohash.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "kv/numbers.h"

namespace daxkv::kv::geo {
namespace {

std::string Fixed4(double d) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.4f", d);
  return buf;
}

TEST(GeohashTest, ScoresPointsAndHashesAreRedis) {
  EXPECT_EQ(ScoreOf(13.361389, 38.115556), 3479099956230698u);  // Palermo
  EXPECT_EQ(ScoreOf(15.087269, 37.502669), 3479447370796909u);  // Catania
  double lon = 0, lat = 0;
  ASSERT_TRUE(PointOf(3479099956230698.0, &lon, &lat));
  EXPECT_EQ(FormatLongDouble(lon), "13.36138933897018433");
  EXPECT_EQ(FormatLongDouble(lat), "38.11555639549629859");
  EXPECT_EQ(StandardHash(lon, lat), "sqc8b49rny0");
  double lon2 = 0, lat2 = 0;
  ASSERT_TRUE(PointOf(3479447370796909.0, &lon2, &lat2));
  EXPECT_EQ(StandardHash(lon2, lat2), "sqdtr74hyu0");
  EXPECT_EQ(Fixed4(Distance(lon, lat, lon2, lat2)), "166274.1516");
}

TEST(GeohashTest, ValidPointsAreTheMercatorBounds) {
  EXPECT_TRUE(ValidPoint(180, 85.05112878));
  EXPECT_TRUE(ValidPoint(-180, -85.05112878));
  EXPECT_FALSE(ValidPoint(180.0001, 0));
  EXPECT_FALSE(ValidPoint(0, 85.06));
  EXPECT_FALSE(ValidPoint(0, NAN));
}

TEST(GeohashTest, AnyScoreDecodesAsRedisCastsIt) {
  double lon0 = 0, lat0 = 0, lon = 0, lat = 0;
  ASSERT_TRUE(PointOf(0, &lon0, &lat0));
  // +inf and 2^64 cast to 0 on x86-64, as in Redis's build.
  ASSERT_TRUE(PointOf(INFINITY, &lon, &lat));
  EXPECT_EQ(lon, lon0);
  EXPECT_EQ(lat, lat0);
  ASSERT_TRUE(PointOf(18446744073709551616.0, &lon, &lat));
  EXPECT_EQ(lon, lon0);
  // A negative score's high bits fall outside the 52: the point is
  // clamped to the valid range, never outside it.
  ASSERT_TRUE(PointOf(-5, &lon, &lat));
  EXPECT_TRUE(ValidPoint(lon, lat));
}

TEST(GeohashTest, OneMeridianDistanceIsTheLatitudeArc) {
  // Redis's shortcut: same longitude, distance = R * |dlat| (in radians).
  const double d =
      Distance(180, 15.10677208542421113, 180, 1.87978089578025731);
  EXPECT_EQ(d,
            6372797.560856 * std::fabs(1.87978089578025731 * (M_PI / 180.0) -
                                       15.10677208542421113 * (M_PI / 180.0)));
  EXPECT_EQ(Distance(10, 20, 10, 20), 0);
}

TEST(GeohashTest, CellsRoundTripAndCoverTheirScores) {
  Cell c;
  ASSERT_TRUE(Encode({kLongMin, kLongMax}, {kLatMin, kLatMax}, 13.361389,
                     38.115556, kStepMax, &c));
  EXPECT_EQ(c.bits, ScoreOf(13.361389, 38.115556));
  uint64_t min = 0, max = 0;
  CellScores(c, &min, &max);
  EXPECT_EQ(min, c.bits);
  EXPECT_EQ(max, c.bits + 1);
  Cell coarse;
  ASSERT_TRUE(Encode({kLongMin, kLongMax}, {kLatMin, kLatMax}, 13.361389,
                     38.115556, 10, &coarse));
  CellScores(coarse, &min, &max);
  EXPECT_LE(min, c.bits);  // the fine cell lies inside the coarse one
  EXPECT_LT(c.bits, max);
  EXPECT_EQ(max - min, uint64_t{1} << 32);
  Area a;
  ASSERT_TRUE(Decode({kLongMin, kLongMax}, {kLatMin, kLatMax}, coarse, &a));
  EXPECT_LE(a.lon.min, 13.361389);
  EXPECT_GE(a.lon.max, 13.361389);
  EXPECT_FALSE(Decode({kLongMin, kLongMax}, {kLatMin, kLatMax}, Cell{}, &a));
}

TEST(GeohashTest, SearchCellsSurroundTheCentre) {
  Shape s;
  s.lon = 15;
  s.lat = 37;
  s.radius = 200;
  s.to_meters = 1000;
  const std::array<Cell, 9> cells = SearchCells(s);
  Area centre;
  ASSERT_TRUE(
      Decode({kLongMin, kLongMax}, {kLatMin, kLatMax}, cells[0], &centre));
  EXPECT_LE(centre.lon.min, 15);
  EXPECT_GE(centre.lon.max, 15);
  for (int i = 1; i < 9; ++i) {
    if (cells[i].none()) continue;
    EXPECT_EQ(cells[i].step, cells[0].step);
    EXPECT_NE(cells[i].bits, cells[0].bits) << i;
  }
  Area north;  // index 1 is north: the same longitudes, above
  if (!cells[1].none()) {
    ASSERT_TRUE(
        Decode({kLongMin, kLongMax}, {kLatMin, kLatMax}, cells[1], &north));
    EXPECT_EQ(north.lon.min, centre.lon.min);
    EXPECT_EQ(north.lat.min, centre.lat.max);
  }
  s.radius = 0;  // a point: the finest cell
  EXPECT_EQ(SearchCells(s)[0].step, kStepMax);
}

}  // namespace
}  // namespace daxkv::kv::geo
