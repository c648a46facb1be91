// Pub/sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE,
// SUNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB (CHANNELS, NUMSUB, NUMPAT,
// SHARDCHANNELS, SHARDNUMSUB, HELP), with Redis 7.0's replies: one
// confirmation per channel (a push in RESP3), counts of channels + patterns
// (shard channels counted apart), and the same errors.
//
// Delivery across I/O threads is kv/pubsub.h's; these handlers move the
// client's mail to its output before each confirmation, so a message
// published before an (UN)SUBSCRIBE takes effect is seen before its reply.
#include <optional>
#include <string>
#include <vector>

#include "kv/command.h"
#include "kv/pubsub.h"

namespace daxkv::kv {
namespace {

std::string_view SubscribeVerb(SubKind k) {
  switch (k) {
    case SubKind::kChannel:
      return "subscribe";
    case SubKind::kPattern:
      return "psubscribe";
    case SubKind::kShard:
      return "ssubscribe";
  }
  return "";
}

std::string_view UnsubscribeVerb(SubKind k) {
  switch (k) {
    case SubKind::kChannel:
      return "unsubscribe";
    case SubKind::kPattern:
      return "punsubscribe";
    case SubKind::kShard:
      return "sunsubscribe";
  }
  return "";
}

// The confirmation [verb, name or null, count].
void WriteConfirmation(CommandContext& ctx, std::string_view verb,
                       std::optional<std::string_view> name, int64_t count) {
  ctx.out.PushHeader(3);
  ctx.out.Bulk(verb);
  if (name) {
    ctx.out.Bulk(*name);
  } else {
    ctx.out.Null();
  }
  ctx.out.Integer(count);
}

// Mail first, then the confirmation: an unsubscribe takes effect before
// its confirmation, so what was published before it is seen before it.
void Confirm(CommandContext& ctx, std::string_view verb,
             std::optional<std::string_view> name, int64_t count) {
  DrainMailbox(ctx.server, ctx.client, ctx.out);
  WriteConfirmation(ctx, verb, name, count);
}

void SubscribeGeneric(CommandContext& ctx, SubKind kind) {
  // Redis refuses SSUBSCRIBE to a client that expects one reply per
  // command (inside MULTI); SUBSCRIBE and PSUBSCRIBE stay allowed there for
  // backward compatibility.
  if (kind == SubKind::kShard && ctx.in_exec) {
    ctx.out.Error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
    return;
  }
  PubSubRegistry& registry = ctx.server.pubsub();
  for (size_t j = 1; j < ctx.argv.size(); ++j) {
    // The mail is taken before the subscription takes effect: a publisher
    // on another I/O thread may post to this channel the moment it does,
    // and that message must follow the confirmation, not precede it.
    DrainMailbox(ctx.server, ctx.client, ctx.out);
    registry.Subscribe(&ctx.client, kind, ctx.argv[j]);
    WriteConfirmation(ctx, SubscribeVerb(kind), ctx.argv[j],
                      ctx.client.pubsub.ReplyCount(kind));
  }
}

void UnsubscribeGeneric(CommandContext& ctx, SubKind kind) {
  PubSubRegistry& registry = ctx.server.pubsub();
  std::string_view verb = UnsubscribeVerb(kind);
  if (ctx.argv.size() > 1) {
    for (size_t j = 1; j < ctx.argv.size(); ++j) {
      registry.Unsubscribe(&ctx.client, kind, ctx.argv[j]);
      Confirm(ctx, verb, ctx.argv[j], ctx.client.pubsub.ReplyCount(kind));
    }
    return;
  }
  std::vector<std::string> names = registry.UnsubscribeAll(&ctx.client, kind);
  const int64_t left = ctx.client.pubsub.ReplyCount(kind);
  if (names.empty()) {
    Confirm(ctx, verb, std::nullopt, left);
    return;
  }
  // One confirmation per name, counting down as Redis removes them one by
  // one.
  for (size_t i = 0; i < names.size(); ++i) {
    Confirm(ctx, verb, names[i],
            left + static_cast<int64_t>(names.size() - 1 - i));
  }
}

void SubscribeCommand(CommandContext& ctx) {
  SubscribeGeneric(ctx, SubKind::kChannel);
}
void PSubscribeCommand(CommandContext& ctx) {
  SubscribeGeneric(ctx, SubKind::kPattern);
}
void SSubscribeCommand(CommandContext& ctx) {
  SubscribeGeneric(ctx, SubKind::kShard);
}
void UnsubscribeCommand(CommandContext& ctx) {
  UnsubscribeGeneric(ctx, SubKind::kChannel);
}
void PUnsubscribeCommand(CommandContext& ctx) {
  UnsubscribeGeneric(ctx, SubKind::kPattern);
}
void SUnsubscribeCommand(CommandContext& ctx) {
  UnsubscribeGeneric(ctx, SubKind::kShard);
}

void PublishGeneric(CommandContext& ctx, bool shard) {
  if (ctx.in_exec) {
    // Inside EXEC or a script, whose Txn may run again or apply nothing:
    // the message waits for the block's commit (DeliverDeferred).
    ctx.client.pubsub.deferred.push_back(
        {std::string(ctx.argv[1]), std::string(ctx.argv[2]), shard});
    ctx.out.Integer(ctx.server.pubsub().CountReceivers(ctx.argv[1], shard));
    return;
  }
  int64_t receivers = ctx.server.pubsub().Publish(
      ctx.argv[1], ctx.argv[2], shard,
      ctx.server.settings().pubsub_output_limit.load());
  // A client subscribed to what it publishes (RESP3) gets the message
  // before the count, as from Redis.
  DrainMailbox(ctx.server, ctx.client, ctx.out);
  ctx.out.Integer(receivers);
}

void PublishCommand(CommandContext& ctx) { PublishGeneric(ctx, false); }
void SPublishCommand(CommandContext& ctx) { PublishGeneric(ctx, true); }

void ReplyNames(CommandContext& ctx, const std::vector<std::string>& names) {
  ctx.out.ArrayHeader(names.size());
  for (const auto& n : names) ctx.out.Bulk(n);
}

void PubSubChannels(CommandContext& ctx, SubKind kind) {
  if (ctx.argv.size() > 3) {
    ReplySubcommandSyntaxError(ctx);
    return;
  }
  std::optional<std::string_view> pattern;
  if (ctx.argv.size() == 3) pattern = ctx.argv[2];
  ReplyNames(ctx, ctx.server.pubsub().ActiveChannels(kind, pattern));
}

void PubSubNumSub(CommandContext& ctx, SubKind kind) {
  ctx.out.ArrayHeader(2 * (ctx.argv.size() - 2));
  for (size_t j = 2; j < ctx.argv.size(); ++j) {
    ctx.out.Bulk(ctx.argv[j]);
    ctx.out.Integer(ctx.server.pubsub().NumSubscribers(kind, ctx.argv[j]));
  }
}

void PubSubHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CHANNELS [<pattern>]",
      "    Return the currently active channels matching a <pattern> "
      "(default: '*').",
      "NUMPAT",
      "    Return number of subscriptions to patterns.",
      "NUMSUB [<channel> ...]",
      "    Return the number of subscribers for the specified channels, "
      "excluding",
      "    pattern subscriptions(default: no channels).",
      "SHARDCHANNELS [<pattern>]",
      "    Return the currently active shard level channels matching a "
      "<pattern> (default: '*').",
      "SHARDNUMSUB [<shardchannel> ...]",
      "    Return the number of subscribers for the specified shard level "
      "channel(s)",
      "HELP",
      "    Prints this help."};
  ReplyHelp(ctx, kLines);
}

// Subcommands with a fixed argument count: NUMPAT and HELP.
bool FixedArity(CommandContext& ctx, const std::string& sub) {
  if (ctx.argv.size() == 2) return true;
  ReplyWrongArity(ctx, "pubsub|" + sub);
  return false;
}

void PubSubCommand(CommandContext& ctx) {
  std::string sub = ToLower(ctx.argv[1]);
  if (sub == "channels") {
    PubSubChannels(ctx, SubKind::kChannel);
  } else if (sub == "shardchannels") {
    PubSubChannels(ctx, SubKind::kShard);
  } else if (sub == "numsub") {
    PubSubNumSub(ctx, SubKind::kChannel);
  } else if (sub == "shardnumsub") {
    PubSubNumSub(ctx, SubKind::kShard);
  } else if (sub == "numpat") {
    if (FixedArity(ctx, sub)) {
      ctx.out.Integer(
          static_cast<int64_t>(ctx.server.pubsub().Size(SubKind::kPattern)));
    }
  } else if (sub == "help") {
    if (FixedArity(ctx, sub)) PubSubHelp(ctx);
  } else {
    ReplyUnknownSubcommand(ctx);
  }
}

constexpr uint32_t kPubSub = kCmdLoading | kCmdStale;
// The shard commands name their channels as keys (COMMAND INFO), but a
// channel is no key: no access time is recorded for it.

}  // namespace

void RegisterPubSubCommands(CommandTable* t) {
  const std::string_view g = "pubsub";
  t->Add({.name = "subscribe",
          .arity = -2,
          .flags = kPubSub | kCmdRepliesPushes,
          .fn = SubscribeCommand,
          .group = g,
          .summary = "Listen for messages published to the given channels",
          .since = "2.0.0"});
  t->Add({.name = "psubscribe",
          .arity = -2,
          .flags = kPubSub | kCmdRepliesPushes,
          .fn = PSubscribeCommand,
          .group = g,
          .summary = "Listen for messages published to channels matching the "
                     "given patterns",
          .since = "2.0.0"});
  t->Add({.name = "ssubscribe",
          .arity = -2,
          .flags = kPubSub | kCmdRepliesPushes | kCmdNoTouch,
          .fn = SSubscribeCommand,
          .first_key = 1,
          .last_key = -1,
          .step = 1,
          .group = g,
          .summary = "Listen for messages published to the given shard "
                     "channels",
          .since = "7.0.0"});
  t->Add({.name = "unsubscribe",
          .arity = -1,
          .flags = kPubSub | kCmdRepliesPushes,
          .fn = UnsubscribeCommand,
          .group = g,
          .summary = "Stop listening for messages posted to the given "
                     "channels",
          .since = "2.0.0"});
  t->Add({.name = "punsubscribe",
          .arity = -1,
          .flags = kPubSub | kCmdRepliesPushes,
          .fn = PUnsubscribeCommand,
          .group = g,
          .summary = "Stop listening for messages posted to channels "
                     "matching the given patterns",
          .since = "2.0.0"});
  t->Add({.name = "sunsubscribe",
          .arity = -1,
          .flags = kPubSub | kCmdRepliesPushes | kCmdNoTouch,
          .fn = SUnsubscribeCommand,
          .first_key = 1,
          .last_key = -1,
          .step = 1,
          .group = g,
          .summary = "Stop listening for messages posted to the given shard "
                     "channels",
          .since = "7.0.0"});
  t->Add({.name = "publish",
          .arity = 3,
          .flags = kPubSub | kCmdFast | kCmdMayReplicate,
          .fn = PublishCommand,
          .group = g,
          .summary = "Post a message to a channel",
          .since = "2.0.0"});
  t->Add({.name = "spublish",
          .arity = 3,
          .flags = kPubSub | kCmdFast | kCmdNoTouch | kCmdMayReplicate,
          .fn = SPublishCommand,
          .first_key = 1,
          .last_key = 1,
          .step = 1,
          .group = g,
          .summary = "Post a message to a shard channel",
          .since = "7.0.0"});
  t->Add({.name = "pubsub",
          .arity = -2,
          .flags = kPubSub | kCmdContainer,
          .fn = PubSubCommand,
          .group = g,
          .summary = "A container for Pub/Sub commands",
          .since = "2.8.0"});
}

}  // namespace daxkv::kv
