// XREAD (Redis 7.0), without BLOCK's waiting: streams with entries above
// the given IDs are served at once, as Redis serves them synchronously;
// BLOCK with nothing to serve is refused (inside MULTI/EXEC and scripts it
// answers a null array, as Redis's blocking-denied clients get).
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kv/coll_run.h"
#include "kv/command.h"
#include "kv/resp_parser.h"
#include "kv/stream_codec.h"
#include "kv/stream_store.h"

namespace daxkv::kv {
namespace {

using engine::KeyType;
using engine::ReadOps;

struct XReadArgs {
  int64_t count = 0;  // 0: no limit
  bool block = false;
  size_t streams_arg = 0;
  size_t streams = 0;
};

// Redis 7.0's xreadCommand option loop: "" or the error to reply.
std::string ParseXReadArgs(std::span<const std::string_view> argv,
                           XReadArgs* a) {
  for (size_t i = 1; i < argv.size(); ++i) {
    const size_t more = argv.size() - i - 1;
    std::string_view o = argv[i];
    if (EqualsIgnoreCase(o, "block") && more) {
      int64_t ms;
      if (!ParseInt64(argv[++i], &ms)) {
        return "ERR timeout is not an integer or out of range";
      }
      if (ms < 0) return "ERR timeout is negative";
      a->block = true;
    } else if (EqualsIgnoreCase(o, "count") && more) {
      if (!ParseInt64(argv[++i], &a->count)) return std::string(kErrNotInteger);
      if (a->count < 0) a->count = 0;
    } else if (EqualsIgnoreCase(o, "streams") && more) {
      a->streams_arg = i + 1;
      const size_t n = argv.size() - a->streams_arg;
      if (n % 2 != 0) {
        return "ERR Unbalanced XREAD list of streams: for each stream key an "
               "ID or '$' must be specified.";
      }
      a->streams = n / 2;
      break;
    } else if (EqualsIgnoreCase(o, "group") && more >= 2) {
      return "ERR The GROUP option is only supported by XREADGROUP. You "
             "called XREAD instead.";
    } else if (EqualsIgnoreCase(o, "noack")) {
      return "ERR The NOACK option is only supported by XREADGROUP. You "
             "called XREAD instead.";
    } else {
      return std::string(kErrSyntax);
    }
  }
  if (a->streams_arg == 0) return std::string(kErrSyntax);
  return "";
}

// The ID after which argv's i-th stream is read ("$": its last ID).
Status ReadAfterId(ReadOps& ops, std::string_view key, std::string_view arg,
                   StreamId* after) {
  StreamMeta m;
  Status s = ReadStreamMeta(ops, key, &m);  // WRONGTYPE first, as Redis
  if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  if (arg == "$") {
    *after = s.ok() ? m.last_id : StreamId{0, 0};
    return OkStatus();
  }
  if (arg == ">") {
    return CommandError(
        "ERR The > ID can be specified only when calling XREADGROUP using "
        "the GROUP <group> <consumer> option.");
  }
  if (!ParseStreamId(arg, 0, true, after)) {
    return CommandError(
        "ERR Invalid stream ID specified as stream command argument");
  }
  return OkStatus();
}

using Served = std::vector<
    std::pair<size_t, std::vector<std::pair<StreamId, std::string>>>>;

void ReplyServed(ReplyWriter& out, std::span<const std::string_view> keys,
                 const Served& served) {
  if (out.resp() >= 3) {
    out.MapHeader(served.size());
  } else {
    out.ArrayHeader(served.size());
  }
  for (const auto& [i, entries] : served) {
    if (out.resp() < 3) out.ArrayHeader(2);
    out.Bulk(keys[i]);
    out.ArrayHeader(entries.size());
    for (const auto& [id, v] : entries) ReplyStreamEntry(out, id, v);
  }
}

void XReadCommand(CommandContext& ctx) {
  XReadArgs a;
  if (std::string err = ParseXReadArgs(ctx.argv, &a); !err.empty()) {
    ctx.out.Error(err);
    return;
  }
  const auto keys = ctx.argv.subspan(a.streams_arg, a.streams);
  const auto ids = ctx.argv.subspan(a.streams_arg + a.streams);
  RunCollRead(ctx, [&](ReadOps& ops, CollCall& call) {
    std::vector<StreamId> after(a.streams);
    for (size_t i = 0; i < a.streams; ++i) {
      DAXKV_RETURN_IF_ERROR(ReadAfterId(ops, keys[i], ids[i], &after[i]));
    }
    Served served;
    for (size_t i = 0; i < a.streams; ++i) {
      StreamId from = after[i];
      if (!IncrStreamId(&from)) continue;
      std::vector<std::pair<StreamId, std::string>> entries;
      DAXKV_RETURN_IF_ERROR(ForEachStreamEntry(
          ops, keys[i], from, kMaxStreamId, false,
          static_cast<uint64_t>(a.count), [&](StreamId id, std::string_view v) {
            entries.emplace_back(id, std::string(v));
            return true;
          }));
      if (!entries.empty()) served.emplace_back(i, std::move(entries));
    }
    if (!served.empty()) {
      ReplyServed(call.out, keys, served);
    } else if (a.block && !ctx.in_exec && ctx.store.block() == nullptr) {
      return CommandError(
          "ERR XREAD BLOCK is not supported by daxkv yet (nothing to serve "
          "now)");
    } else {
      call.out.NullArray();
    }
    return OkStatus();
  });
}

}  // namespace

void RegisterStreamReadCommands(CommandTable* t) {
  static constexpr CollCommand kCommands[] = {
      {"xread", -4, kCmdReadOnly, XReadCommand,
       "Return never seen elements in multiple streams, with IDs greater than "
       "the ones reported by the caller for each stream. Can block.",
       "5.0.0", 0, 0},
  };
  AddCollCommands(t, "stream", kCommands);
}

}  // namespace daxkv::kv
