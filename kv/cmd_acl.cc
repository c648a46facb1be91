// ACL as a Redis 7.0 server without an ACL file answers it, for the one
// user daxkv has: "default", with every permission, its password the
// requirepass (none: "nopass"). WHOAMI, USERS, LIST, GETUSER, CAT (Redis's
// categories, kv/acl_categories.h), GENPASS, DRYRUN, LOG (failed
// authentications, kv/acl_log.h) and HELP answer as Redis does; SETUSER
// accepts only rules that leave the default user as it is, DELUSER removes
// no user (the default one cannot be), SAVE and LOAD have no file.
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "kv/acl_categories.h"
#include "kv/command.h"
#include "kv/server_state.h"

namespace daxkv::kv {
namespace {

constexpr SubcommandArity kAclSubcommands[] = {
    {"cat", -2},    {"deluser", -3}, {"dryrun", -4},  {"genpass", -2},
    {"getuser", 3}, {"help", 2},     {"list", 2},     {"load", 2},
    {"log", -2},    {"save", 2},     {"setuser", -3}, {"users", 2},
    {"whoami", 2}};

constexpr std::string_view kDefaultUser = "default";

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

// The default user's password hashes: none ("nopass"), or the
// requirepass's SHA-256.
std::vector<std::string> PasswordHashes(CommandContext& ctx) {
  const std::string pass = ctx.server.settings().requirepass();
  if (pass.empty()) return {};
  return {Sha256Hex(pass)};
}

void AclList(CommandContext& ctx) {
  const std::vector<std::string> hashes = PasswordHashes(ctx);
  std::string line = "user default on";
  line += hashes.empty() ? " nopass" : " #" + hashes[0];
  line += " ~* &* +@all";
  ctx.out.ArrayHeader(1);
  ctx.out.Bulk(line);
}

void AclGetUser(CommandContext& ctx) {
  if (ctx.argv[2] != kDefaultUser) return ctx.out.Null();
  const std::vector<std::string> hashes = PasswordHashes(ctx);
  ctx.out.MapHeader(6);
  ctx.out.Bulk("flags");
  ctx.out.SetHeader(hashes.empty() ? 2 : 1);
  ctx.out.Bulk("on");
  if (hashes.empty()) ctx.out.Bulk("nopass");
  ctx.out.Bulk("passwords");
  ctx.out.ArrayHeader(hashes.size());
  for (const std::string& h : hashes) ctx.out.Bulk(h);
  ctx.out.Bulk("commands");
  ctx.out.Bulk("+@all");
  ctx.out.Bulk("keys");
  ctx.out.Bulk("~*");
  ctx.out.Bulk("channels");
  ctx.out.Bulk("&*");
  ctx.out.Bulk("selectors");
  ctx.out.ArrayHeader(0);
}

// ACL CAT [category]: the categories, or the commands of daxkv's that
// Redis puts in `category` (top-level commands: daxkv keeps no table of
// its containers' subcommands).
void AclCat(CommandContext& ctx) {
  if (ctx.argv.size() > 3) return ReplySubcommandSyntaxError(ctx);
  if (ctx.argv.size() == 2) {
    ctx.out.ArrayHeader(AclCategoryNames().size());
    for (std::string_view c : AclCategoryNames()) ctx.out.Bulk(c);
    return;
  }
  const std::string category = ToLower(ctx.argv[2]);
  const auto names = AclCategoryNames();
  if (std::find(names.begin(), names.end(), category) == names.end()) {
    ctx.out.Error("ERR Unknown category '" + std::string(ctx.argv[2]) + "'");
    return;
  }
  const std::string wanted = "@" + category;
  std::vector<std::string_view> commands;
  for (const CommandSpec& spec : CommandTable::Default().all()) {
    if (AclCategoriesInclude(RedisAclCategories(spec.name), wanted)) {
      commands.push_back(spec.name);
    }
  }
  ctx.out.ArrayHeader(commands.size());
  for (std::string_view n : commands) ctx.out.Bulk(n);
}

void AclGenPass(CommandContext& ctx) {
  int64_t bits = 256;
  if (ctx.argv.size() > 3) return ReplySubcommandSyntaxError(ctx);
  if (ctx.argv.size() == 3 && !ParseIntArg(ctx, ctx.argv[2], &bits)) return;
  if (bits <= 0 || bits > 4096) {
    ctx.out.Error(
        "ERR ACL GENPASS argument must be the number of bits for the output "
        "password, a positive number up to 4096");
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device entropy;  // getrandom(2): a password, not a simulation
  std::string pass;
  const size_t chars = static_cast<size_t>((bits + 3) / 4);
  while (pass.size() < chars) {
    uint32_t word = entropy();
    for (int i = 0; i < 8 && pass.size() < chars; ++i, word >>= 4) {
      pass += kHex[word & 15];
    }
  }
  ctx.out.Bulk(pass);
}

// ACL DRYRUN user command [arg ...]: whether `user` may run it (the
// default user may run anything that exists with a valid arity).
void AclDryRun(CommandContext& ctx) {
  if (ctx.argv[2] != kDefaultUser) {
    ctx.out.Error("ERR User '" + std::string(ctx.argv[2]) + "' not found");
    return;
  }
  const std::string name = ToLower(ctx.argv[3]);
  const CommandSpec* spec = CommandTable::Default().Find(name);
  const size_t argc = ctx.argv.size() - 3;
  if (spec != nullptr && argc >= 2 && RedisHasSubcommands(name) &&
      RedisAclCategories(name + "|" + ToLower(ctx.argv[4])).empty()) {
    spec = nullptr;  // Redis names the container as the command not found
  }
  if (spec == nullptr) {
    ctx.out.Error("ERR Command '" + name + "' not found");
    return;
  }
  if (!ArityOk(*spec, argc)) return ReplyWrongArity(ctx, spec->name);
  ctx.out.Ok();
}

void AclLogCommand(CommandContext& ctx) {
  if (ctx.argv.size() > 3) return ReplySubcommandSyntaxError(ctx);
  int64_t count = 10;
  if (ctx.argv.size() == 3) {
    if (EqualsIgnoreCase(ctx.argv[2], "reset")) {
      ctx.server.acl_log().Reset();
      return ctx.out.Ok();
    }
    if (!ParseIntArg(ctx, ctx.argv[2], &count)) return;
  }
  const std::vector<AclLog::Entry> entries =
      ctx.server.acl_log().Newest(count < 0 ? 0 : static_cast<size_t>(count));
  const int64_t now = ctx.server.NowMs();
  ctx.out.ArrayHeader(entries.size());
  for (const AclLog::Entry& e : entries) {
    ctx.out.MapHeader(7);
    ctx.out.Bulk("count");
    ctx.out.Integer(e.count);
    ctx.out.Bulk("reason");
    ctx.out.Bulk(e.reason);
    ctx.out.Bulk("context");
    ctx.out.Bulk(e.context);
    ctx.out.Bulk("object");
    ctx.out.Bulk(e.object);
    ctx.out.Bulk("username");
    ctx.out.Bulk(e.username);
    ctx.out.Bulk("age-seconds");
    ctx.out.Double(static_cast<double>(now - e.updated_ms) / 1000.0);
    ctx.out.Bulk("client-info");
    ctx.out.Bulk(e.client_info);
  }
}

// Rules that leave the default user as it is: accepted, as no change.
bool KeepsDefaultUser(CommandContext& ctx, std::string_view rule) {
  for (std::string_view same :
       {"on", "~*", "allkeys", "&*", "allchannels", "+@all", "allcommands"}) {
    if (EqualsIgnoreCase(rule, same)) return true;
  }
  return EqualsIgnoreCase(rule, "nopass") &&
         ctx.server.settings().requirepass().empty();
}

void AclSetUser(CommandContext& ctx) {
  bool same = ctx.argv[2] == kDefaultUser;
  for (size_t i = 3; same && i < ctx.argv.size(); ++i) {
    same = KeepsDefaultUser(ctx, ctx.argv[i]);
  }
  if (same) return ctx.out.Ok();
  ctx.out.Error(
      "ERR daxkv has one user, 'default', with every permission: ACL SETUSER "
      "cannot add users or change it (CONFIG SET requirepass sets its "
      "password)");
}

void AclDelUser(CommandContext& ctx) {
  for (size_t i = 2; i < ctx.argv.size(); ++i) {
    if (ctx.argv[i] == kDefaultUser) {
      ctx.out.Error("ERR The 'default' user cannot be removed");
      return;
    }
  }
  ctx.out.Integer(0);  // no other user exists
}

void AclHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CAT [<category>]",
      "    List all commands that belong to <category>, or all command "
      "categories",
      "    when no category is specified.",
      "DELUSER <username> [<username> ...]",
      "    Delete a list of users.",
      "DRYRUN <username> <command> [<arg> ...]",
      "    Returns whether the user can execute the given command without "
      "executing the command.",
      "GETUSER <username>",
      "    Get the user's details.",
      "GENPASS [<bits>]",
      "    Generate a secure 256-bit user password. The optional `bits` "
      "argument can",
      "    be used to specify a different size.",
      "LIST",
      "    Show users details in config file format.",
      "LOAD",
      "    Reload users from the ACL file.",
      "LOG [<count> | RESET]",
      "    Show the ACL log entries.",
      "SAVE",
      "    Save the current config to the ACL file.",
      "SETUSER <username> <attribute> [<attribute> ...]",
      "    Create or modify a user with the specified attributes.",
      "USERS",
      "    List all the registered usernames.",
      "WHOAMI",
      "    Return the current connection username.",
      "HELP",
      "    Prints this help."};
  ReplyHelp(ctx, kLines);
}

void AclCommand(CommandContext& ctx) {
  const SubcommandArity* s = FindSubcommand(ctx, kAclSubcommands);
  if (s == nullptr) return;
  const std::string_view sub = s->name;
  if (sub == "whoami") return ctx.out.Bulk(kDefaultUser);
  if (sub == "users") {
    ctx.out.ArrayHeader(1);
    return ctx.out.Bulk(kDefaultUser);
  }
  if (sub == "list") return AclList(ctx);
  if (sub == "getuser") return AclGetUser(ctx);
  if (sub == "cat") return AclCat(ctx);
  if (sub == "genpass") return AclGenPass(ctx);
  if (sub == "dryrun") return AclDryRun(ctx);
  if (sub == "log") return AclLogCommand(ctx);
  if (sub == "setuser") return AclSetUser(ctx);
  if (sub == "deluser") return AclDelUser(ctx);
  if (sub == "help") return AclHelp(ctx);
  ctx.out.Error(  // SAVE, LOAD
      "ERR This Redis instance is not configured to use an ACL file. You may "
      "want to specify users via the ACL SETUSER command and then issue a "
      "CONFIG REWRITE (assuming you have a Redis configuration file set) in "
      "order to store users in the Redis configuration.");
}

}  // namespace

void RegisterAclCommands(CommandTable* t) {
  t->Add({.name = "acl",
          .arity = -2,
          .flags = kCmdLoading | kCmdStale | kCmdContainer,
          .fn = AclCommand,
          .group = "server",
          .summary = "A container for Access List Control commands",
          .since = "6.0.0"});
}

}  // namespace daxkv::kv
