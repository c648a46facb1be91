"""GEO commands side by side with redis-server (differential.py): GEOADD
(NX, XX, CH), GEOPOS, GEOHASH, GEODIST with every unit, the searches
(GEORADIUS, GEORADIUSBYMEMBER, their _RO forms, GEOSEARCH, GEOSEARCHSTORE)
with every option, the error texts in Redis's order, RESP3 coordinates, a
seeded random stream of points and searches over the whole globe (poles and
the antimeridian included), and a kill -9 after acknowledged GEOADDs.
DAXKV_IT_SEED replays a stream."""

import os
import random
import signal
import unittest

from differential import PeerTestCase
from harness import ServerProcess

SICILY = ("GEOADD Sicily 13.361389 38.115556 Palermo "
          "15.087269 37.502669 Catania 13.583333 37.316667 Agrigento")


class GeoDifferentialTest(PeerTestCase):
    def test_add_pos_hash_dist(self):
        self.both_script([
            SICILY, "ZRANGE Sicily 0 -1 WITHSCORES",
            "GEOPOS Sicily Palermo nosuch Catania", "GEOPOS nokey a",
            "GEOHASH Sicily Palermo Catania nosuch", "GEOHASH nokey a",
            "GEODIST Sicily Palermo Catania", "GEODIST Sicily Palermo Catania KM",
            "GEODIST Sicily Palermo Catania mi", "GEODIST Sicily Palermo Catania ft",
            "GEODIST Sicily Palermo Catania m", "GEODIST Sicily Palermo nosuch",
            "GEODIST nokey a b", "GEODIST Sicily Palermo Palermo",
            "GEOADD edge 180 85.05112878 ne -180 -85.05112878 sw 0 0 zero",
            "GEOPOS edge ne sw zero", "GEOHASH edge ne sw zero",
            "GEODIST edge ne sw km",
            # A score no GEOADD wrote still decodes (Redis's cast and clamp).
            "ZADD raw 0 a 1 b 4503599627370495 c 9007199254740992 d -5 e inf f",
            "ZADD raw -inf g 1e300 h",
            "GEOPOS raw a b c d e f g h", "GEOHASH raw a b c d e f g h",
        ])

    def test_add_options_and_errors(self):
        self.both_script([
            SICILY, "GEOADD Sicily NX 0 0 Palermo 1 1 New",
            "GEOPOS Sicily Palermo New", "GEOADD Sicily XX 2 2 Palermo 3 3 Gone",
            "GEOPOS Sicily Palermo Gone", "GEOADD Sicily CH 2 2 Palermo 4 4 x",
            "GEOADD Sicily XX CH 5 5 Palermo", "GEOADD Sicily ch nx 6 6 y",
            "GEOADD Sicily 2 2 Palermo", "GEOADD Sicily NX XX 1 1 a",
            "GEOADD Sicily 1 1", "GEOADD Sicily NX CH XX", "GEOADD Sicily NX 1 1",
            "GEOADD Sicily 200 100 a", "GEOADD Sicily 1 85.06 a",
            "GEOADD Sicily 1 2 a 181 2 b", "EXISTS b",
            "GEOADD Sicily x 1 a", "GEOADD Sicily 1 nan a", "GEOADD Sicily inf 1 a",
            "GEOADD Sicily 1 2", "GEOADD Sicily", "SET str v",
            "GEOADD str 1 1 a", "GEOADD str 1 100 a", "GEOPOS str a",
            "GEOHASH str a", "GEODIST str a b", "GEODIST str a b parsec",
            "GEODIST Sicily a b c d", "GEORADIUS str 1 1 1 km",
            "GEOSEARCH str FROMLONLAT 1 1 BYRADIUS 1 km",
            "GEOSEARCHSTORE dst str FROMLONLAT 1 1 BYRADIUS 1 km",
            "GEOADD Sicily XX 7 7 nobody", "ZCARD Sicily",
        ])

    def test_radius_searches(self):
        self.both_script([
            SICILY,
            "GEORADIUS Sicily 15 37 200 km", "GEORADIUS Sicily 15 37 200 KM ASC",
            "GEORADIUS Sicily 15 37 200 km DESC WITHDIST",
            "GEORADIUS Sicily 15 37 200 km WITHCOORD WITHDIST WITHHASH",
            "GEORADIUS Sicily 15 37 200 km WITHHASH WITHCOORD COUNT 2",
            "GEORADIUS Sicily 15 37 200 km COUNT 1 DESC",
            "GEORADIUS Sicily 15 37 200 km COUNT 1 ANY",
            "GEORADIUS Sicily 15 37 200 km COUNT 2 ANY ASC WITHDIST",
            "GEORADIUS Sicily 15 37 1 m", "GEORADIUS Sicily 15 37 0 km",
            "GEORADIUS Sicily 15 37 100000 mi WITHDIST",
            "GEORADIUS Sicily 15 37 inf km WITHDIST",
            "GEORADIUS Sicily 15 37 400 km STORE dst", "ZRANGE dst 0 -1 WITHSCORES",
            "GEORADIUS Sicily 15 37 400 km STOREDIST dd COUNT 2 DESC",
            "ZRANGE dd 0 -1 WITHSCORES", "SET s x",
            "GEORADIUS Sicily 15 37 1 m STORE s", "EXISTS s",
            "GEORADIUS nokey 15 37 1 km STORE dst", "EXISTS dst",
            "GEORADIUS nokey 15 37 1 km", "GEORADIUS_RO Sicily 15 37 200 km ASC",
            "GEORADIUS_RO Sicily 15 37 200 km STORE dst",
            "GEORADIUSBYMEMBER Sicily Agrigento 100 km WITHDIST",
            "GEORADIUSBYMEMBER Sicily Agrigento 100 km STORE bym",
            "ZRANGE bym 0 -1", "GEORADIUSBYMEMBER_RO Sicily Palermo 500 km DESC",
            "GEORADIUSBYMEMBER Sicily nosuch 100 km",
            "GEORADIUSBYMEMBER nokey nosuch x km",
            "GEORADIUSBYMEMBER nokey nosuch 1 km STORE x WITHDIST",
        ])

    def test_search_errors(self):
        self.both_script([
            SICILY,
            "GEORADIUS Sicily 15 37 -1 km", "GEORADIUS Sicily 15 37 x km",
            "GEORADIUS Sicily 15 37 1 parsec", "GEORADIUS Sicily 200 37 1 km",
            "GEORADIUS Sicily x 37 1 km", "GEORADIUS Sicily 15 37 1 km COUNT 0",
            "GEORADIUS Sicily 15 37 1 km COUNT -3", "GEORADIUS Sicily 15 37 1 km COUNT x",
            "GEORADIUS Sicily 15 37 1 km COUNT", "GEORADIUS Sicily 15 37 1 km ANY",
            "GEORADIUS Sicily 15 37 1 km STORE", "GEORADIUS Sicily 15 37 1 km STOREDIST",
            "GEORADIUS Sicily 15 37 1 km STORE d WITHDIST",
            "GEORADIUS Sicily 15 37 1 km WITHCOORD STOREDIST d",
            "GEORADIUS Sicily 15 37 1 km bogus", "GEORADIUS Sicily 15 37 1 km BYBOX 1 1 km",
            "GEORADIUS Sicily 15 37 1 km FROMMEMBER Palermo",
            "GEOSEARCH Sicily FROMLONLAT 15 37", "GEOSEARCH Sicily BYRADIUS 1 km x",
            "GEOSEARCH Sicily BYRADIUS 1 km ASC",
            "geosearch Sicily BYRADIUS 1 km FROMMEMBER Palermo FROMLONLAT 1 1",
            "GEOSEARCH Sicily FROMLONLAT 1 1 FROMMEMBER Palermo BYRADIUS 1 km",
            "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 1 1 km BYRADIUS 1 km",
            "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km BYBOX 1 1 km",
            "GeoSearch Sicily FROMMEMBER Palermo WITHDIST ASC",
            "geoSEARCH Sicily ASC WITHDIST BYRADIUS 1 km",
            "GEOSEARCH Sicily FROMMEMBER nosuch BYRADIUS 1 km",
            "GEOSEARCH Sicily FROMMEMBER nosuch BYRADIUS x km",
            "GEOSEARCH nokey FROMMEMBER nosuch BYRADIUS 1 km",
            "GEOSEARCH nokey FROMMEMBER nosuch BYRADIUS x km",
            "GEOSEARCH nokey FROMLONLAT 500 1 BYRADIUS 1 km",
            "GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX x 1 km",
            "GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX 1 x km",
            "GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX -1 1 km",
            "GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX 1 1 parsec",
            "GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX 1 1",
            "GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS 1 km STORE d",
            "GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS 1 km STOREDIST",
            "GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS 1 km COUNT 1 ANY ANY",
            "GEOSEARCHSTORE d Sicily FROMLONLAT 1 1 BYRADIUS 1 km WITHHASH",
            "GEOSEARCHSTORE d Sicily FROMLONLAT 1 1 BYRADIUS 1 km STORE x",
            "GEOSEARCHSTORE d Sicily BYRADIUS 1 km",
        ])

    def test_geosearch_and_store(self):
        self.both_script([
            SICILY, "GEOADD Sicily 12.758489 38.788135 edge1 17.241510 38.788135 edge2",
            "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC",
            "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 400 400 km ASC WITHDIST",
            "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km DESC WITHCOORD WITHDIST WITHHASH",
            "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 200 100 km ASC",
            "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 0 0 km",
            "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 0 km",
            "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 500 km COUNT 3",
            "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 500 km COUNT 3 ANY",
            "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 500 km COUNT 9 ANY DESC",
            "GEOSEARCH Sicily frommember Palermo frommember Catania byradius 1 km",
            "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC COUNT 3",
            "ZRANGE dst 0 -1 WITHSCORES",
            "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYBOX 400 400 km STOREDIST",
            "ZRANGE dst 0 -1 WITHSCORES", "TYPE dst",
            "GEOSEARCHSTORE dst Sicily FROMLONLAT 0 0 BYRADIUS 1 km", "EXISTS dst",
            "SET dst str", "GEOSEARCHSTORE dst nokey FROMMEMBER x BYRADIUS 1 km",
            "EXISTS dst", "GEOSEARCHSTORE Sicily Sicily FROMMEMBER Palermo BYRADIUS 100 km",
            "ZRANGE Sicily 0 -1 WITHSCORES",
        ])

    def test_inside_multi_and_scripts(self):
        self.both_script([
            "MULTI", SICILY, "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 200 km ASC",
            "GEORADIUS Sicily 15 37 200 km STORE near", "GEOADD Sicily 999 1 bad",
            "GEODIST Sicily Palermo Catania", "EXEC", "ZRANGE near 0 -1",
        ])
        script = ("redis.call('GEOADD', KEYS[1], 2.35, 48.85, 'paris') "
                  "return redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', 2.3, "
                  "48.8, 'BYRADIUS', 20, 'km', 'WITHDIST')")
        self.both("EVAL", script, 1, "geo")
        self.both("EVAL", "return redis.call('GEOADD', KEYS[1], 1, 100, 'x')",
                  1, "geo")

    def test_random_points_and_searches(self):
        """Seeded random points (clustered, spread, near the poles and the
        antimeridian) and searches of every kind and unit."""
        seed = int(os.environ.get("DAXKV_IT_SEED", random.randrange(1 << 30)))
        rng = random.Random(seed)
        centres = [(rng.uniform(-180, 180), rng.uniform(-85, 85))
                   for _ in range(4)] + [(179.9, 10), (-179.9, -10),
                                         (10, 84.9), (-30, -84.9)]
        cmd = ["GEOADD", "g"]
        for i in range(600):
            lon0, lat0 = rng.choice(centres)
            spread = rng.choice([0.01, 0.5, 5, 40])
            lon = max(-180, min(180, lon0 + rng.uniform(-spread, spread)))
            lat = max(-85.05, min(85.05, lat0 + rng.uniform(-spread, spread)))
            cmd += ["%.6f" % lon, "%.6f" % lat, "p%d" % i]
        self.both(*cmd)
        units = ["m", "km", "mi", "ft"]
        scale = {"m": 1, "km": 1000, "mi": 1609.34, "ft": 0.3048}
        for n in range(150):
            lon0, lat0 = rng.choice(centres)
            unit = rng.choice(units)
            size = rng.choice([500, 20000, 300000, 3000000]) / scale[unit]
            size = "%.3f" % (size * rng.uniform(0.2, 1))
            if rng.random() < 0.5:
                start = ["FROMLONLAT", "%.5f" % (lon0 + rng.uniform(-1, 1)),
                         "%.5f" % max(-85, min(85, lat0 + rng.uniform(-1, 1)))]
            else:
                start = ["FROMMEMBER", "p%d" % rng.randrange(600)]
            shape = (["BYRADIUS", size, unit] if rng.random() < 0.5 else
                     ["BYBOX", size, "%.3f" % (float(size) * rng.uniform(0.3, 2)),
                      unit])
            opts = ["WITHDIST", "WITHCOORD", "WITHHASH"][:rng.randrange(4)]
            order = rng.choice([[], ["ASC"], ["DESC"]])
            # COUNT below the number found sorts partially in Redis (pqsort,
            # not stable): the distinct random points leave no ties.
            count = rng.choice([[], ["COUNT", str(rng.randrange(1, 20))],
                                ["COUNT", str(rng.randrange(1, 20)), "ANY"]])
            msg = "seed %d, search %d" % (seed, n)
            with self.subTest(msg):
                self.both("GEOSEARCH", "g", *start, *shape, *order, *count,
                          *opts)
                if start[0] == "FROMMEMBER" and shape[0] == "BYRADIUS":
                    self.both("GEORADIUSBYMEMBER", "g", start[1], size, unit,
                              *opts, *order)
                self.both("GEOSEARCHSTORE", "out", "g", *start, *shape,
                          *order, *count, "STOREDIST")
                self.both("ZRANGE", "out", 0, -1, "WITHSCORES")


class GeoResp3Test(PeerTestCase):
    def setUp(self):
        super().setUp()
        self.c.cmd("HELLO", "3")
        self.ref.cmd("HELLO", "3")

    def test_coordinates_and_distances(self):
        self.both_script([
            SICILY, "GEOPOS Sicily Palermo nosuch", "GEOHASH Sicily Palermo x",
            "GEODIST Sicily Palermo Catania", "GEODIST Sicily Palermo x",
            "GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH ASC",
            "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 m",
        ])


class GeoKill9Test(unittest.TestCase):
    """Every acknowledged GEOADD and GEOSEARCHSTORE is there after kill -9
    (daxkv: durable before the reply; redis-server: its AOF, fsync always)."""

    def setUp(self):
        self.server = ServerProcess(persistent=True).start()

    def tearDown(self):
        self.server.cleanup()

    def test_acknowledged_points_survive(self):
        with self.server.client() as c:
            for i in range(200):
                self.assertEqual(c.cmd("GEOADD", "pts", "%.4f" % (i * 0.01),
                                       "%.4f" % (i * 0.005), "m%d" % i), 1)
            self.assertEqual(c.cmd("GEOSEARCHSTORE", "near", "pts",
                                   "FROMLONLAT", 0, 0, "BYRADIUS", 50, "km"),
                             c.cmd("ZCARD", "near"))
            before = c.cmd("GEOPOS", "pts", *["m%d" % i for i in range(200)])
            near = c.cmd("ZRANGE", "near", 0, -1, "WITHSCORES")
        self.server.restart(signal.SIGKILL)
        with self.server.client() as c:
            self.assertEqual(c.cmd("ZCARD", "pts"), 200)
            self.assertEqual(
                c.cmd("GEOPOS", "pts", *["m%d" % i for i in range(200)]), before)
            self.assertEqual(c.cmd("ZRANGE", "near", 0, -1, "WITHSCORES"), near)


if __name__ == "__main__":
    unittest.main()
