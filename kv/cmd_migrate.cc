// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
//     [AUTH password] [AUTH2 username password] [KEYS key [key ...]]
// as Redis 7.0's migrateCommand: the keys are serialized as DUMP does
// (rdb/payload.h), sent as one pipelined [AUTH] [SELECT] RESTORE ...
// request over a cached connection (kv/migrate_cache.h), and, unless COPY,
// deleted here once the target answered OK for them; the replies and
// errors are Redis's, case by case (docs/replication.md, "MIGRATE").
//
// What it blocks: Redis blocks its one thread for the whole exchange.
// daxkv blocks the I/O thread serving the client (its other clients wait)
// for at most the exchange, each step bounded by `timeout`. Other I/O
// threads go on serving; commands that need the whole server (EXEC,
// scripts, multi-key MSET and RENAME, a replica attaching) wait for it as
// for any round, since it keeps its round's shared exec lock.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kv/coll_run.h"
#include "kv/coll_value.h"
#include "kv/command.h"
#include "kv/migrate_cache.h"
#include "kv/net_io.h"
#include "kv/repl_effects.h"
#include "rdb/payload.h"

namespace daxkv::kv {
namespace {

constexpr std::string_view kErrConnecting =
    "IOERR error or timeout connecting to the client";
constexpr std::string_view kErrWriting =
    "IOERR error or timeout writing to target instance";
constexpr std::string_view kErrReading =
    "IOERR error or timeout reading to target instance";

struct MigrateArgs {
  std::string host;
  std::string port;  // as Redis's atoi() reads the argument
  std::string name;  // the cache's "host:port", as spelled
  bool copy = false;
  bool replace = false;
  bool auth = false;
  bool auth2 = false;  // AUTH username password
  std::string_view username;
  std::string_view password;
  int64_t dbid = 0;
  int timeout_ms = 0;
  std::vector<std::string_view> keys;
};

// Redis's option loop, then the timeout and the database, in its order of
// checks; replies and returns false on error.
bool ParseMigrateArgs(CommandContext& ctx, MigrateArgs* a) {
  const auto argv = ctx.argv;
  size_t first_key = 3, num_keys = 1;
  for (size_t j = 6; j < argv.size(); ++j) {
    const size_t more = argv.size() - 1 - j;
    if (EqualsIgnoreCase(argv[j], "copy")) {
      a->copy = true;
    } else if (EqualsIgnoreCase(argv[j], "replace")) {
      a->replace = true;
    } else if (EqualsIgnoreCase(argv[j], "auth") && more >= 1) {
      a->auth = true;
      a->password = argv[++j];
    } else if (EqualsIgnoreCase(argv[j], "auth2") && more >= 2) {
      a->auth = a->auth2 = true;
      a->username = argv[++j];
      a->password = argv[++j];
    } else if (EqualsIgnoreCase(argv[j], "keys")) {
      if (!argv[3].empty()) {
        ctx.out.Error(
            "ERR When using MIGRATE KEYS option, the key argument must be "
            "set to the empty string");
        return false;
      }
      first_key = j + 1;
      num_keys = argv.size() - j - 1;
      break;
    } else {
      ReplySyntaxError(ctx);
      return false;
    }
  }
  int64_t timeout = 0;
  if (!ParseIntArg(ctx, argv[5], &timeout)) return false;
  if (!ParseIntArg(ctx, argv[4], &a->dbid)) return false;
  if (timeout <= 0) timeout = 1000;
  a->timeout_ms = static_cast<int>(std::min<int64_t>(timeout, INT_MAX));
  a->host = std::string(argv[1]);
  const std::string port(argv[2]);
  a->port =
      std::to_string(static_cast<int>(std::strtol(port.c_str(), nullptr, 10)));
  a->name = a->host + ":" + port;
  a->keys.assign(argv.begin() + first_key, argv.begin() + first_key + num_keys);
  return true;
}

// A key to move: its DUMP payload, expiry and the version it had (the
// delete skips a key written since).
struct MigrateItem {
  std::string_view key;
  std::string payload;
  int64_t expire_at_ms = 0;
  uint64_t version = 0;
};

// Reads and serializes the keys that exist, in one consistent read (a key
// named twice is sent twice, as Redis does). False: an error was replied.
bool SerializeKeys(CommandContext& ctx, const MigrateArgs& a,
                   std::vector<MigrateItem>* items) {
  std::vector<std::string> declared(a.keys.begin(), a.keys.end());
  std::sort(declared.begin(), declared.end());
  declared.erase(std::unique(declared.begin(), declared.end()), declared.end());
  Status s = ctx.store.Read(declared, [&](engine::ReadOps& ops) {
    items->clear();
    for (std::string_view key : a.keys) {
      DAXKV_ASSIGN_OR_RETURN(engine::KeyInfo info, ops.Stat(key));
      if (info.type == engine::KeyType::kNone) continue;
      DAXKV_ASSIGN_OR_RETURN(rdb::Value value,
                             ReadKeyValue(ops, key, info.type));
      DAXKV_ASSIGN_OR_RETURN(
          std::string payload,
          rdb::EncodeDumpPayload(
              value,
              DumpOptions(
                  info, ctx.server.settings().set_max_intset_entries.load())));
      items->push_back(
          {key, std::move(payload), info.expire_at_ms, info.version});
    }
    return OkStatus();
  });
  if (!s.ok()) {
    ReplyEngineError(ctx, s);
    return false;
  }
  const int64_t now = ctx.server.NowMs();
  for (const MigrateItem& item : *items) {
    ctx.server.access_clock().Touch(item.key, now);  // lookupKeyRead
  }
  for (size_t i = 0; i < a.keys.size(); ++i) {
    CountLookup(ctx, i < items->size());  // hits, then misses
  }
  return true;
}

// The pipelined request: [AUTH] [SELECT] and a RESTORE with the TTL left
// for each key not expired by `now_ms` (their indexes go to *sent).
std::string BuildRequest(const MigrateArgs& a,
                         const std::vector<MigrateItem>& items, bool select,
                         int64_t now_ms, std::vector<size_t>* sent) {
  std::string buf;
  if (a.auth2) {
    AppendRespCommand(
        std::array<std::string_view, 3>{"AUTH", a.username, a.password}, &buf);
  } else if (a.auth) {
    AppendRespCommand(std::array<std::string_view, 2>{"AUTH", a.password},
                      &buf);
  }
  if (select) {
    const std::string db = std::to_string(a.dbid);
    AppendRespCommand(std::array<std::string_view, 2>{"SELECT", db}, &buf);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    int64_t ttl = 0;
    if (items[i].expire_at_ms != 0) {
      ttl = items[i].expire_at_ms - now_ms;
      if (ttl < 0) continue;  // expired since it was read
      ttl = std::max<int64_t>(ttl, 1);
    }
    const std::string ttl_s = std::to_string(ttl);
    std::array<std::string_view, 5> argv = {"RESTORE", items[i].key, ttl_s,
                                            items[i].payload, "REPLACE"};
    AppendRespCommand(std::span(argv).first(a.replace ? 5 : 4), &buf);
    sent->push_back(i);
  }
  return buf;
}

// How one exchange with the target went.
struct Exchange {
  std::vector<size_t> acked;  // items the target answered OK for
  std::string target_error;   // the reply for the first error it sent
  bool socket_error = false;
  bool write_error = false;
  bool timed_out = false;
  bool answered_any = false;  // a RESTORE reply was read
};

void NoteSocketError(const Status& s, bool writing, Exchange* ex) {
  ex->socket_error = true;
  ex->write_error = writing;
  ex->timed_out = IsIoTimeout(s);
}

// Sends the request, then reads the AUTH, SELECT and RESTORE replies.
void RunExchange(const MigrateArgs& a, int fd, const std::string& request,
                 bool select, const std::vector<size_t>& sent,
                 const IoLimits& limits, Exchange* ex) {
  Status s = SendAll(fd, request, limits);
  if (!s.ok()) return NoteSocketError(s, true, ex);
  std::string in, auth_reply, select_reply, line;
  size_t pos = 0;
  if (a.auth && !(s = ReadLine(fd, limits, &in, &pos, &auth_reply)).ok()) {
    return NoteSocketError(s, false, ex);
  }
  if (select && !(s = ReadLine(fd, limits, &in, &pos, &select_reply)).ok()) {
    return NoteSocketError(s, false, ex);
  }
  auto is_error = [](const std::string& r) { return r.rfind('-', 0) == 0; };
  for (size_t index : sent) {
    s = ReadLine(fd, limits, &in, &pos, &line);
    if (!s.ok()) return NoteSocketError(s, false, ex);
    ex->answered_any = true;
    const std::string* error = is_error(auth_reply)     ? &auth_reply
                               : is_error(select_reply) ? &select_reply
                               : is_error(line)         ? &line
                                                        : nullptr;
    if (error == nullptr) {
      ex->acked.push_back(index);
    } else if (ex->target_error.empty()) {
      ex->target_error =
          "ERR Target instance replied with error: " + error->substr(1);
    }
  }
}

// A connection to the target. As in Redis 7.0 (connBlockingConnect), only
// a connect that cannot even start is an error here; one refused or timed
// out later makes the first write fail ("writing to target instance").
bool Connect(const MigrateArgs& a, MigrateConn* conn) {
  Status ignored = ConnectTcp(a.host, a.port, a.timeout_ms, &conn->fd);
  if (conn->fd < 0) return false;
  int one = 1;
  setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return true;
}

struct Outcome {
  std::vector<size_t> acked;
  std::string error;  // the error reply; empty: +OK
};

// Redis's try_again/socket_err loop: a socket error before any RESTORE
// was answered (a cached connection the target closed, say) is retried
// once on a new connection, unless it was a timeout.
Outcome Transfer(ServerState& server, const MigrateArgs& a,
                 const std::vector<MigrateItem>& items) {
  MigrateCache& cache = server.migrate_cache();
  const IoLimits limits{.idle_timeout_ms = a.timeout_ms,
                        .stop = &server.shutdown_flag()};
  for (bool may_retry = true;; may_retry = false) {
    MigrateConn conn = cache.Take(a.name);
    if (conn.fd < 0 && !Connect(a, &conn))
      return {{}, std::string(kErrConnecting)};
    conn.last_use_ms = SteadyMs();
    const bool select = conn.last_dbid != a.dbid;
    std::vector<size_t> sent;
    const std::string request =
        BuildRequest(a, items, select, server.NowMs(), &sent);
    Exchange ex;
    RunExchange(a, conn.fd, request, select, sent, limits, &ex);
    if (!ex.socket_error) {
      conn.last_dbid = ex.target_error.empty() ? a.dbid : -1;
      cache.Put(a.name, conn);
      return {std::move(ex.acked), std::move(ex.target_error)};
    }
    close(conn.fd);
    if (!ex.target_error.empty()) {
      return {std::move(ex.acked), std::move(ex.target_error)};
    }
    if (may_retry && !ex.timed_out && !ex.answered_any) continue;
    return {std::move(ex.acked),
            std::string(ex.write_error ? kErrWriting : kErrReading)};
  }
}

// Releases the replication order mutex (kv/repl_effects.h) while MIGRATE
// talks to its target: nothing is applied meanwhile, and writers on other
// threads must not wait on a remote server (nor deadlock on a target that
// is this server). The round's shared exec lock stays held, so replicas
// cannot attach (nor a snapshot start) before the deletes are recorded.
class OrderReleased {
 public:
  explicit OrderReleased(Client& client) : order_(client.repl_order) {
    held_ = order_ != nullptr && order_->owns_lock();
    if (held_) order_->unlock();
  }
  ~OrderReleased() {
    if (held_) order_->lock();
  }
  OrderReleased(const OrderReleased&) = delete;
  OrderReleased& operator=(const OrderReleased&) = delete;

 private:
  std::unique_lock<Mutex>* order_;
  bool held_ = false;
};

void ReplyOutcome(ReplyWriter& out, const Outcome& o) {
  if (o.error.empty()) {
    out.Ok();
  } else {
    out.Error(o.error);
  }
}

// Deletes the keys the target took that still hold what was sent, and
// replies. A key written since it was read (by a client of another I/O
// thread) keeps its newer value here: it is then on both sides.
void DeleteMoved(CommandContext& ctx, const std::vector<MigrateItem>& items,
                 const Outcome& o) {
  std::vector<std::string> keys;
  for (size_t i : o.acked) keys.emplace_back(items[i].key);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  // Isolated, as MSET is: readers of several keys see all or none gone.
  std::optional<ExclusiveSection> isolated;
  if (keys.size() > 1 && !ctx.in_exec) isolated.emplace(ctx);
  std::vector<std::string> del;
  // Durability: the deletes are one engine Txn (one batch record),
  // committed with sync = false and made durable by the round's group
  // commit before the reply leaves. The target answered OK for each key
  // before this point, so a crash here leaves a key on both sides, never
  // on neither.
  const bool ok = RunStoreWrite(ctx, keys, [&](Store& store, ReplyWriter& out) {
    del.assign(1, "DEL");
    for (size_t i : o.acked) {
      const MigrateItem& item = items[i];
      DAXKV_ASSIGN_OR_RETURN(engine::KeyInfo info, store.Stat(item.key));
      if (info.type == engine::KeyType::kNone || info.version != item.version) {
        continue;
      }
      bool existed = false;
      DAXKV_RETURN_IF_ERROR(store.Delete(item.key, &existed));
      del.emplace_back(item.key);
    }
    ReplyOutcome(out, o);
    return OkStatus();
  });
  // Propagated as Redis does, as a DEL of the keys moved.
  if (ok && del.size() > 1) RecordEffect(ctx.client, del);
}

void MigrateCommand(CommandContext& ctx) {
  MigrateArgs a;
  if (!ParseMigrateArgs(ctx, &a)) return;
  std::vector<MigrateItem> items;
  if (!SerializeKeys(ctx, a, &items)) return;
  if (items.empty()) {
    ctx.out.Simple("NOKEY");
    return;
  }
  Outcome o;
  {
    OrderReleased released(ctx.client);
    o = Transfer(ctx.server, a, items);
  }
  if (a.copy) o.acked.clear();
  if (o.acked.empty()) {
    ReplyOutcome(ctx.out, o);
    return;
  }
  DeleteMoved(ctx, items, o);
}

// COMMAND GETKEYS as Redis 7.0 finds MIGRATE's keys: its key specs
// (argv[3]; after a KEYS searched backwards from the second last
// argument), and when KEYS is there, the incomplete spec hands over to
// migrateGetKeys, which skips AUTH's and AUTH2's arguments.
std::vector<std::string_view> MigrateGetKeys(
    std::span<const std::string_view> argv) {
  bool keyword = false;
  for (size_t i = argv.size() - 2; i > 0 && !keyword; --i) {
    keyword = EqualsIgnoreCase(argv[i], "keys");
  }
  if (!keyword) return {argv[3]};
  size_t first = 3, num = 1;
  for (size_t i = 6; i < argv.size(); ++i) {
    if (EqualsIgnoreCase(argv[i], "keys")) {
      if (!argv[3].empty()) return {};
      first = i + 1;
      num = argv.size() - first;
      break;
    }
    if (EqualsIgnoreCase(argv[i], "auth")) {
      i += 1;
    } else if (EqualsIgnoreCase(argv[i], "auth2")) {
      i += 2;
    }
  }
  return {argv.begin() + first, argv.begin() + first + num};
}

constexpr KeySpecDoc kMigrateKeySpecs[] = {
    {.flags = "RW access delete", .index = 3, .lastkey = 0},
    {.flags = "RW access delete incomplete",
     .keyword = "KEYS",
     .startfrom = -2,
     .lastkey = -1},
};
constexpr CommandDoc kMigrateDoc = {.flags = "write movablekeys",
                                    .tips = "nondeterministic_output",
                                    .key_specs = kMigrateKeySpecs};

}  // namespace

void RegisterMigrateCommands(CommandTable* t) {
  t->Add({.name = "migrate",
          .arity = -6,
          .flags = kCmdWrite | kCmdKeyspace | kCmdNoTouch |
                   kCmdKeepsWritesOnError,
          .fn = MigrateCommand,
          .first_key = 3,
          .last_key = 3,
          .step = 1,
          .group = "generic",
          .summary =
              "Atomically transfer a key from a Redis instance to another "
              "one.",
          .since = "2.6.0",
          .doc = &kMigrateDoc,
          .get_keys = MigrateGetKeys});
}

}  // namespace daxkv::kv
