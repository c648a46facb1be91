#include "kv/block_serve.h"

#include <utility>

#include "kv/coll_run.h"
#include "kv/net_io.h"
#include "kv/replica_link.h"
#include "kv/server_state.h"
#include "kv/store.h"
#include "kv/stream_group_read.h"
#include "kv/stream_group_store.h"
#include "kv/stream_store.h"

namespace daxkv::kv {
namespace {

using engine::KeyType;
using engine::Txn;

Status PopList(Txn& txn, std::string_view key, const BlockOp& op,
               ReplyWriter& out) {
  if (op.cmd == BlockOp::Cmd::kPop) {
    std::string value;
    DAXKV_RETURN_IF_ERROR(txn.ListPop(key, op.from, &value));
    out.ArrayHeader(2);
    out.Bulk(key);
    out.Bulk(value);
    return OkStatus();
  }
  std::vector<std::string> popped;  // kMpop
  for (int64_t i = 0; i < op.count; ++i) {
    std::string value;
    Status s = txn.ListPop(key, op.from, &value);
    if (s.code() == StatusCode::kNotFound) break;
    DAXKV_RETURN_IF_ERROR(s);
    popped.push_back(std::move(value));
  }
  out.ArrayHeader(2);
  out.Bulk(key);
  ReplyBulkArray(out, popped);
  return OkStatus();
}

Status MoveList(Txn& txn, std::string_view key, const BlockOp& op,
                ReplyWriter& out, std::vector<std::string>* modified) {
  Status dst = CollSize(txn, op.dst, KeyType::kList).status();
  if (engine::IsWrongType(dst)) {
    // Redis 7.0: the client gets WRONGTYPE, and nothing is popped.
    modified->pop_back();
    out.Error(dst.message());
    return OkStatus();
  }
  DAXKV_RETURN_IF_ERROR(dst);
  std::string value;
  DAXKV_RETURN_IF_ERROR(txn.ListPop(key, op.from, &value));
  uint64_t length = 0;
  DAXKV_RETURN_IF_ERROR(txn.ListPush(op.dst, op.to, value, false, &length));
  modified->push_back(op.dst);
  out.Bulk(value);
  return OkStatus();
}

Status PopZset(Txn& txn, std::string_view key, const BlockOp& op,
               ReplyWriter& out) {
  std::vector<std::pair<std::string, double>> popped;
  const uint64_t count =
      op.cmd == BlockOp::Cmd::kZPop ? 1 : static_cast<uint64_t>(op.count);
  DAXKV_RETURN_IF_ERROR(
      txn.ZPop(key, op.max, count, [&](std::string_view m, double score) {
        popped.emplace_back(m, score);
        return true;
      }));
  if (op.cmd == BlockOp::Cmd::kZPop) {
    out.ArrayHeader(3);
    out.Bulk(key);
    out.Bulk(popped[0].first);
    out.Double(popped[0].second);
    return OkStatus();
  }
  out.ArrayHeader(2);
  out.Bulk(key);
  out.ArrayHeader(popped.size());
  for (const auto& [m, score] : popped) {
    out.ArrayHeader(2);
    out.Bulk(m);
    out.Double(score);
  }
  return OkStatus();
}

}  // namespace

Status RunBlockOp(Txn& txn, std::string_view key, const BlockOp& op,
                  ReplyWriter& out, std::vector<std::string>* modified) {
  const size_t before = modified->size();
  modified->emplace_back(key);
  Status s;
  if (op.type == KeyType::kZset) {
    s = PopZset(txn, key, op, out);
  } else if (op.cmd == BlockOp::Cmd::kMove) {
    s = MoveList(txn, key, op, out, modified);
  } else {
    s = PopList(txn, key, op, out);
  }
  if (!s.ok()) modified->resize(before);
  return s;
}

// The head of XREAD's and XREADGROUP's reply for one stream: [[key, ...]]
// (RESP3: {key: ...}).
void OneStreamHeader(ReplyWriter& out, std::string_view key) {
  if (out.resp() >= 3) {
    out.MapHeader(1);
  } else {
    out.ArrayHeader(1);
    out.ArrayHeader(2);
  }
  out.Bulk(key);
}

// XREAD's reply for one ready stream: entries above the waiter's ID for
// `key`; *any false (nothing written) when there are none.
Status StreamReply(Txn& txn, const std::string& key, const Waiter& w,
                   std::string* reply, bool* any) {
  const BlockOp& op = w.op();
  size_t i = 0;
  while (i < w.keys().size() && w.keys()[i] != key) ++i;
  *any = false;
  if (i == w.keys().size() || i >= op.after.size()) return OkStatus();
  StreamId from{op.after[i].first, op.after[i].second};
  if (!IncrStreamId(&from)) return OkStatus();
  std::vector<std::pair<StreamId, std::string>> entries;
  DAXKV_RETURN_IF_ERROR(ForEachStreamEntry(
      txn, key, from, kMaxStreamId, false, static_cast<uint64_t>(op.count),
      [&](StreamId id, std::string_view v) {
        entries.emplace_back(id, std::string(v));
        return true;
      }));
  if (entries.empty()) return OkStatus();
  *any = true;
  ReplyWriter out(reply, w.resp());
  OneStreamHeader(out, key);
  out.ArrayHeader(entries.size());
  for (const auto& [id, v] : entries) ReplyStreamEntry(out, id, v);
  return OkStatus();
}

// XREADGROUP's reply for one ready stream, and the effects replicas apply.
// *any false when the group has nothing new for it.
Status GroupStreamReply(Txn& txn, const std::string& key, const Waiter& w,
                        int64_t now, std::string* reply, GroupEffects* effects,
                        bool* any) {
  const BlockOp& op = w.op();
  *any = false;
  GroupState g;
  bool found;
  DAXKV_RETURN_IF_ERROR(ReadGroup(txn, key, op.group, &g, &found));
  ReplyWriter out(reply, w.resp());
  if (!found) {
    out.Error(
        "NOGROUP the consumer group this client was blocked on no longer "
        "exists");
    *any = true;
    return OkStatus();
  }
  bool has_new;
  DAXKV_RETURN_IF_ERROR(GroupHasNew(txn, key, g, &has_new));
  if (!has_new) return OkStatus();
  *any = true;
  OneStreamHeader(out, key);
  // Redis serves at most 1000 entries to a waiter that gave no COUNT.
  const GroupReadArgs r{
      key,      op.group, op.consumer,
      false,    {},       static_cast<uint64_t>(op.count ? op.count : 1000),
      op.noack, now};
  return ServeGroupRead(txn, r, out, effects);
}

void UnblockGoneStreamReaders(ServerState& server) {
  BlockRegistry& registry = server.blocked();
  if (registry.group_readers() == 0) return;
  DirectStore store(&server.db(), &server.watches());
  for (const std::shared_ptr<Waiter>& w : registry.GroupReaders()) {
    bool gone = false;
    for (const std::string& key : w->keys()) {
      auto info = store.Stat(key);
      gone = !info.ok() || info->type != KeyType::kStream;
      if (gone) break;
    }
    if (!gone || !registry.Cancel(w)) continue;
    std::string reply;
    ReplyWriter out(&reply, w->resp());
    out.Error("UNBLOCKED the stream key no longer exists");
    w->Deliver(std::move(reply));
  }
}

void SettleBlocking(CommandContext& ctx, bool ok,
                    std::shared_ptr<Waiter> waiter) {
  if (waiter == nullptr) return;
  if (!ok) {  // replied an error: no longer waiting
    ctx.server.blocked().Cancel(waiter);
    return;
  }
  ctx.client.blocked = std::move(waiter);
  ctx.client.blocked_flag.store(true, std::memory_order_relaxed);
}

Status BlockedServer::ServeStreamKey(Txn& txn, const std::string& key) {
  BlockRegistry& registry = server_.blocked();
  std::vector<std::shared_ptr<Waiter>> skipped;
  Status s;
  while (s.ok()) {
    std::shared_ptr<Waiter> w = registry.Claim(key, KeyType::kStream);
    if (w == nullptr) break;
    std::string reply;
    bool any = false;
    GroupEffects effects;
    if (w->op().cmd == BlockOp::Cmd::kXReadGroup) {
      s = GroupStreamReply(txn, key, *w, server_.NowMs(), &reply, &effects,
                           &any);
    } else {
      s = StreamReply(txn, key, *w, &reply, &any);  // XREAD: no effect
    }
    if (s.ok() && any) {
      std::string effect;
      for (const auto& e : effects) {
        const std::vector<std::string_view> argv(e.begin(), e.end());
        AppendRespCommand(argv, &effect);
      }
      served_.push_back({w, std::move(reply), std::move(effect),
                         static_cast<int>(effects.size())});
    } else {
      skipped.push_back(w);
    }
  }
  for (const auto& w : skipped) registry.Unclaim(w);
  return s;
}

namespace {

// The non-blocking command that pops what `op` popped from `key` (the
// replica holds the same data), as Redis propagates a served BLPOP.
std::string PopEffect(const std::string& key, const BlockOp& op, KeyType type) {
  const bool front = op.from == engine::End::kFront;
  const std::string count = std::to_string(op.count);
  switch (op.cmd) {
    case BlockOp::Cmd::kPop:
      return EncodeRespCommand({front ? "LPOP" : "RPOP", key});
    case BlockOp::Cmd::kMove:
      return EncodeRespCommand(
          {"LMOVE", key, op.dst, front ? "LEFT" : "RIGHT",
           op.to == engine::End::kFront ? "LEFT" : "RIGHT"});
    case BlockOp::Cmd::kMpop:
      if (type == KeyType::kZset) {
        return EncodeRespCommand(
            {"ZMPOP", "1", key, op.max ? "MAX" : "MIN", "COUNT", count});
      }
      return EncodeRespCommand(
          {"LMPOP", "1", key, front ? "LEFT" : "RIGHT", "COUNT", count});
    case BlockOp::Cmd::kZPop:
      return EncodeRespCommand({op.max ? "ZPOPMAX" : "ZPOPMIN", key});
    case BlockOp::Cmd::kXRead:
    case BlockOp::Cmd::kXReadGroup:
      break;
  }
  return {};
}

}  // namespace

Status BlockedServer::ServeKey(Txn& txn, const std::string& key,
                               std::vector<std::string>* modified) {
  BlockRegistry& registry = server_.blocked();
  if (!registry.HasWaiters(key)) return OkStatus();
  for (;;) {
    DAXKV_ASSIGN_OR_RETURN(engine::KeyInfo info, txn.Stat(key));
    if (info.type == KeyType::kStream) return ServeStreamKey(txn, key);
    if (info.size == 0 ||
        (info.type != KeyType::kList && info.type != KeyType::kZset)) {
      return OkStatus();
    }
    std::shared_ptr<Waiter> w = registry.Claim(key, info.type);
    if (w == nullptr) return OkStatus();
    served_.push_back({w, {}, PopEffect(key, w->op(), info.type)});
    ReplyWriter out(&served_.back().reply, w->resp());
    DAXKV_RETURN_IF_ERROR(RunBlockOp(txn, key, w->op(), out, modified));
  }
}

// Ready keys may grow while serving (a BLMOVE's destination): by index.
Status BlockedServer::Serve(Txn& txn, std::vector<std::string>* modified,
                            std::span<const std::string> also) {
  for (const std::string& key : also) {
    DAXKV_RETURN_IF_ERROR(ServeKey(txn, key, modified));
  }
  for (size_t i = 0; i < txn.ReadyKeys().size(); ++i) {
    const std::string key = txn.ReadyKeys()[i];
    DAXKV_RETURN_IF_ERROR(ServeKey(txn, key, modified));
  }
  return OkStatus();
}

// Durability: the pops are committed but not yet durable (sync = false);
// the replies wait on the pusher's round, which delivers them after its
// Sync(). A crash before that keeps neither the pops nor their push.
void BlockedServer::Committed(Client& pusher) {
  for (Served& s : served_) {
    if (pusher.repl_recording && !s.effect.empty()) {
      pusher.repl_effects += s.effect;
      pusher.repl_effect_count += s.effect_count;
    }
    server_.blocked().Served(s.waiter);
    auto deliver = [w = s.waiter, reply = std::move(s.reply)](bool durable) {
      // Not durable (a failed round Sync): no reply may claim the pop.
      w->Deliver(durable ? reply : std::string(), !durable);
    };
    if (pusher.round_woken != nullptr) {
      pusher.round_woken->push_back(std::move(deliver));
    } else {
      deliver(true);  // no round (tests): the caller syncs before reading
    }
  }
  served_.clear();
}

void BlockedServer::Reset() {
  for (Served& s : served_) server_.blocked().Unclaim(s.waiter);
  served_.clear();
}

}  // namespace daxkv::kv
