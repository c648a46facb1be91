// What the GEO commands' two files (kv/cmd_geo.cc, kv/cmd_geo_search.cc)
// share: argument parsing and reply formats in Redis 7.0's words.
#ifndef DAXKV_KV_CMD_GEO_H_
#define DAXKV_KV_CMD_GEO_H_

#include <string>
#include <string_view>

#include "kv/command.h"
#include "kv/resp_writer.h"

namespace daxkv::kv {

// A longitude and latitude as Redis's extractLongLatOrReply takes them;
// false with Redis's error text in *error.
bool ParseGeoPoint(std::string_view lon_text, std::string_view lat_text,
                   double* lon, double* lat, std::string* error);
// M, KM, FT or MI (any case): metres per unit.
bool ParseGeoUnit(std::string_view unit, double* to_meters, std::string* error);
// A coordinate as Redis's addReplyHumanLongDouble: RESP2 a bulk string of
// %.17Lf without trailing zeros, RESP3 a double in that text.
void ReplyGeoCoordinate(ReplyWriter& out, double v);
// A distance: a bulk string with 4 decimals, in both protocols.
void ReplyGeoDistance(ReplyWriter& out, double d);

// GEORADIUS[_RO], GEORADIUSBYMEMBER[_RO], GEOSEARCH, GEOSEARCHSTORE.
void RegisterGeoSearchCommands(CommandTable* table);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_CMD_GEO_H_
