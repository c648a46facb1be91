// COMMAND, COMMAND COUNT / INFO / DOCS / LIST / GETKEYS / HELP, in Redis
// 7.0's reply shapes (what redis-cli and client libraries read).
#include <string>
#include <vector>

#include "kv/acl_categories.h"
#include "kv/command.h"
#include "kv/key_specs.h"

namespace daxkv::kv {
namespace {

std::vector<std::string_view> FlagNames(const CommandSpec& c) {
  const uint32_t f = c.flags;
  std::vector<std::string_view> v;
  if (f & kCmdWrite) v.push_back("write");
  if (f & kCmdReadOnly) v.push_back("readonly");
  if (f & kCmdWrite) v.push_back("denyoom");
  if (f & kCmdAdmin) v.push_back("admin");
  if (f & kCmdNoAuth) v.push_back("no_auth");
  if (f & kCmdFast) v.push_back("fast");
  if (f & kCmdLoading) v.push_back("loading");
  if (f & kCmdStale) v.push_back("stale");
  if (f & kCmdSkipSlowlog) v.push_back("skip_slowlog");
  if (const MovableKeys* m = FindMovableKeys(c.name)) {
    if (m->optional) v.push_back("no_mandatory_keys");
    v.push_back("movablekeys");
  }
  return v;
}

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> v;
  while (!s.empty()) {
    const size_t sp = s.find(' ');
    if (sp != 0) v.push_back(s.substr(0, sp));
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
  return v;
}

// Redis's reply shapes: sets of simple strings, or of bulk strings.
void ReplySimpleSet(const std::vector<std::string_view>& items,
                    ReplyWriter& out) {
  out.SetHeader(items.size());
  for (auto i : items) out.Simple(i);
}

// {type: `type`, spec: {name: integer, ...}}, a key spec's part.
void ReplyTypedSpec(
    ReplyWriter& out, std::string_view type,
    std::initializer_list<std::pair<std::string_view, int64_t>> fields) {
  out.MapHeader(2);
  out.Bulk("type");
  out.Bulk(type);
  out.Bulk("spec");
  out.MapHeader(fields.size());
  for (const auto& [name, value] : fields) {
    out.Bulk(name);
    out.Integer(value);
  }
}

void ReplyKeySpec(const KeySpecDoc& k, ReplyWriter& out) {
  out.MapHeader(k.notes.empty() ? 3 : 4);
  if (!k.notes.empty()) {
    out.Bulk("notes");
    out.Bulk(k.notes);
  }
  out.Bulk("flags");
  ReplySimpleSet(Words(k.flags), out);
  if (k.unknown) {
    for (std::string_view part : {"begin_search", "find_keys"}) {
      out.Bulk(part);
      ReplyTypedSpec(out, "unknown", {});
    }
    return;
  }
  out.Bulk("begin_search");
  if (k.keyword.empty()) {
    ReplyTypedSpec(out, "index", {{"index", k.index}});
  } else {
    out.MapHeader(2);
    out.Bulk("type");
    out.Bulk("keyword");
    out.Bulk("spec");
    out.MapHeader(2);
    out.Bulk("keyword");
    out.Bulk(k.keyword);
    out.Bulk("startfrom");
    out.Integer(k.startfrom);
  }
  out.Bulk("find_keys");
  if (k.keynum) {
    ReplyTypedSpec(out, "keynum",
                   {{"keynumidx", k.keynumidx},
                    {"firstkey", k.firstkey},
                    {"keystep", k.keystep}});
  } else {
    ReplyTypedSpec(
        out, "range",
        {{"lastkey", k.lastkey}, {"keystep", k.keystep}, {"limit", k.limit}});
  }
}

void ReplyKeySpecs(const CommandSpec& c, ReplyWriter& out) {
  std::span<const KeySpecDoc> specs;
  if (c.doc != nullptr) {
    specs = c.doc->key_specs;
  } else if (const MovableKeys* m = FindMovableKeys(c.name)) {
    specs = m->specs;
  }
  if (!specs.empty() || c.doc != nullptr) {
    out.SetHeader(specs.size());
    for (const KeySpecDoc& k : specs) ReplyKeySpec(k, out);
    return;
  }
  if (c.first_key == 0) {
    out.SetHeader(0);
    return;
  }
  out.SetHeader(1);
  ReplyKeySpec({.flags = (c.flags & kCmdWrite) ? "RW" : "RO",
                .index = c.first_key,
                .lastkey = c.last_key < 0 ? -1 : c.last_key - c.first_key,
                .keystep = c.step},
               out);
}

void ReplyInfo(const CommandSpec& c, ReplyWriter& out) {
  out.ArrayHeader(10);
  out.Bulk(c.name);
  out.Integer(c.arity);
  ReplySimpleSet(c.doc ? Words(c.doc->flags) : FlagNames(c), out);
  if (const MovableKeys* m = FindMovableKeys(c.name)) {
    // Redis's legacy range: what a leading fixed-position spec covers.
    const KeySpecDoc& k = m->specs.front();
    const bool fixed = k.keyword.empty() && !k.keynum && !k.unknown;
    out.Integer(fixed ? k.index : 0);
    out.Integer(fixed ? k.index + k.lastkey : 0);
    out.Integer(fixed ? k.keystep : 0);
  } else {
    out.Integer(c.first_key);
    out.Integer(c.last_key);
    out.Integer(c.step);
  }
  // Every command has Redis's (AclCategoriesTest checks it).
  ReplySimpleSet(Words(RedisAclCategories(c.name)), out);
  const auto tips = Words(c.doc ? c.doc->tips : "");
  out.SetHeader(tips.size());
  for (auto t : tips) out.Bulk(t);
  ReplyKeySpecs(c, out);
  out.SetHeader(0);  // subcommands
}

void ReplyDocs(const CommandSpec& c, ReplyWriter& out) {
  out.Bulk(c.name);
  out.MapHeader(3);
  out.Bulk("summary");
  out.Bulk(c.summary);
  out.Bulk("since");
  out.Bulk(c.since);
  out.Bulk("group");
  out.Bulk(c.group);
}

void CommandDocs(CommandContext& ctx, const CommandTable& table) {
  std::vector<const CommandSpec*> specs;
  if (ctx.argv.size() == 2) {
    for (const auto& c : table.all()) specs.push_back(&c);
  } else {
    for (size_t j = 2; j < ctx.argv.size(); ++j) {
      if (const CommandSpec* c = table.Find(ctx.argv[j])) specs.push_back(c);
    }
  }
  ctx.out.MapHeader(specs.size());
  for (const auto* c : specs) ReplyDocs(*c, ctx.out);
}

void CommandGetKeys(CommandContext& ctx, const CommandTable& table) {
  const CommandSpec* c = table.Find(ctx.argv[2]);
  if (c == nullptr) {
    ctx.out.Error("ERR Invalid command specified");
    return;
  }
  int argc = static_cast<int>(ctx.argv.size()) - 2;
  if ((c->arity >= 0 && argc != c->arity) || argc < -c->arity) {
    ctx.out.Error("ERR Invalid number of arguments specified for command");
    return;
  }
  if (const MovableKeys* m = FindMovableKeys(c->name)) {
    const auto args = ctx.argv.subspan(2);
    auto keys = KeysBySpecs(m->specs, args);
    if (!keys.has_value() && m->fallback != nullptr) keys = m->fallback(args);
    if (!keys.has_value() || keys->empty()) {
      if (m->optional) {
        ctx.out.ArrayHeader(0);
      } else {
        ctx.out.Error("ERR Invalid arguments specified for command");
      }
      return;
    }
    ctx.out.ArrayHeader(keys->size());
    for (auto k : *keys) ctx.out.Bulk(k);
    return;
  }
  if (c->first_key == 0) {
    ctx.out.Error("ERR The command has no key arguments");
    return;
  }
  if (c->get_keys != nullptr) {
    auto keys = c->get_keys(ctx.argv.subspan(2));
    if (keys.empty()) {
      ctx.out.Error("ERR Invalid arguments specified for command");
      return;
    }
    ctx.out.ArrayHeader(keys.size());
    for (auto k : keys) ctx.out.Bulk(k);
    return;
  }
  int last = c->last_key < 0 ? argc + c->last_key : c->last_key;
  std::vector<std::string_view> keys;
  for (int i = c->first_key; i <= last && i < argc; i += c->step) {
    keys.push_back(ctx.argv[2 + i]);
  }
  ctx.out.ArrayHeader(keys.size());
  for (auto k : keys) ctx.out.Bulk(k);
}

void CommandHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "(no subcommand)",
      "    Return details about all Redis commands.",
      "COUNT",
      "    Return the total number of commands in this Redis server.",
      "LIST",
      "    Return a list of all commands in this Redis server.",
      "INFO [<command-name> ...]",
      "    Return details about multiple Redis commands.",
      "DOCS [<command-name> ...]",
      "    Return documentation details about multiple Redis commands.",
      "GETKEYS <full-command>",
      "    Return the keys from a full Redis command.",
      "HELP",
      "    Print this help."};
  ReplyHelp(ctx, kLines);
}

void CommandCommand(CommandContext& ctx) {
  const CommandTable& table = CommandTable::Default();
  if (ctx.argv.size() == 1) {
    ctx.out.ArrayHeader(table.all().size());
    for (const auto& c : table.all()) ReplyInfo(c, ctx.out);
    return;
  }
  std::string sub = ToLower(ctx.argv[1]);
  if (sub == "count" && ctx.argv.size() == 2) {
    ctx.out.Integer(static_cast<int64_t>(table.all().size()));
  } else if (sub == "list" && ctx.argv.size() == 2) {
    ctx.out.ArrayHeader(table.all().size());
    for (const auto& c : table.all()) ctx.out.Bulk(c.name);
  } else if (sub == "info") {
    if (ctx.argv.size() == 2) {
      ctx.out.ArrayHeader(table.all().size());
      for (const auto& c : table.all()) ReplyInfo(c, ctx.out);
      return;
    }
    ctx.out.ArrayHeader(ctx.argv.size() - 2);
    for (size_t j = 2; j < ctx.argv.size(); ++j) {
      const CommandSpec* c = table.Find(ctx.argv[j]);
      if (c == nullptr) {
        ctx.out.NullArray();
      } else {
        ReplyInfo(*c, ctx.out);
      }
    }
  } else if (sub == "docs") {
    CommandDocs(ctx, table);
  } else if (sub == "getkeys" && ctx.argv.size() >= 4) {
    CommandGetKeys(ctx, table);
  } else if (sub == "help" && ctx.argv.size() == 2) {
    CommandHelp(ctx);
  } else if (sub == "count" || sub == "list" || sub == "getkeys" ||
             sub == "help") {
    ReplyWrongArity(ctx, "command|" + sub);
  } else {
    ReplyUnknownSubcommand(ctx);
  }
}

}  // namespace

void RegisterIntrospectionCommands(CommandTable* t) {
  t->Add({.name = "command",
          .arity = -1,
          .flags = kCmdLoading | kCmdStale | kCmdContainer,
          .fn = CommandCommand,
          .group = "server",
          .summary = "Get array of Redis command details",
          .since = "2.8.13"});
}

}  // namespace daxkv::kv
