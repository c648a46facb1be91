#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/kv/kv_fixture.h"

namespace daxkv::kv {
namespace {

using ServerCommandsTest = KvFixture;

TEST_F(ServerCommandsTest, UnknownCommandsAndArity) {
  EXPECT_EQ(
      Run("FOO a b"),
      "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n");
  EXPECT_EQ(Run("FOO"),
            "-ERR unknown command 'FOO', with args beginning with: \r\n");
  EXPECT_EQ(Run("GET"), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(Run("GET a b"),
            "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(Run("PING a b"),
            "-ERR wrong number of arguments for 'ping' command\r\n");
  EXPECT_EQ(Run("CONFIG FOO"),
            "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n");
  EXPECT_EQ(Run("CLIENT SETNAME"),
            "-ERR wrong number of arguments for 'client|setname' command\r\n");
}

TEST_F(ServerCommandsTest, Connection) {
  EXPECT_EQ(Run("PING"), "+PONG\r\n");
  EXPECT_EQ(Run("PING hi"), Bulk("hi"));
  EXPECT_EQ(Run("ECHO hey"), Bulk("hey"));
  EXPECT_EQ(Run("SELECT 0"), kOk);
  EXPECT_EQ(Run("SELECT 1"), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(Run("SELECT x"),
            "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run("QUIT"), kOk);
  EXPECT_TRUE(client_.close_after_reply);
}

TEST_F(ServerCommandsTest, AuthWithoutPassword) {
  EXPECT_EQ(
      Run("AUTH x"),
      "-ERR AUTH <password> called without any password configured for "
      "the default user. Are you sure your configuration is correct?\r\n");
  EXPECT_EQ(Run("AUTH default anything"), kOk);
  EXPECT_EQ(
      Run("AUTH bob x"),
      "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(Run("AUTH a b c"), "-ERR syntax error\r\n");
}

TEST_F(ServerCommandsTest, AuthWithPassword) {
  EXPECT_EQ(Run("CONFIG SET requirepass secret"), kOk);
  Client c;
  c.id = 99;
  EXPECT_EQ(RunAs(c, {"GET", "k"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(RunAs(c, {"FOO"}),
            "-ERR unknown command 'FOO', with args beginning with: \r\n");
  EXPECT_EQ(RunAs(c, {"HELLO", "3"}).substr(0, 7), "-NOAUTH");
  EXPECT_EQ(
      RunAs(c, {"AUTH", "wrong"}),
      "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(RunAs(c, {"AUTH", "secret"}), kOk);
  EXPECT_EQ(RunAs(c, {"GET", "k"}), kNil);
  EXPECT_EQ(RunAs(c, {"RESET"}), "+RESET\r\n");
  EXPECT_EQ(RunAs(c, {"GET", "k"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(RunAs(c, {"HELLO", "2", "AUTH", "default", "secret"}).substr(0, 4),
            "*14\r");
  EXPECT_EQ(RunAs(c, {"GET", "k"}), kNil);
}

TEST_F(ServerCommandsTest, HelloAndResp3) {
  EXPECT_EQ(Run("HELLO 4"), "-NOPROTO unsupported protocol version\r\n");
  EXPECT_EQ(Run("HELLO x"),
            "-ERR Protocol version is not an integer or out of range\r\n");
  EXPECT_EQ(Run("HELLO 3 FOO"), "-ERR Syntax error in HELLO option 'FOO'\r\n");
  std::string hello = Run("HELLO 3 SETNAME app");
  EXPECT_EQ(hello.substr(0, 4), "%7\r\n");
  EXPECT_NE(hello.find("$5\r\nproto\r\n:3\r\n"), std::string::npos);
  EXPECT_EQ(Run("CLIENT GETNAME"), Bulk("app"));
  EXPECT_EQ(Run("GET none"), "_\r\n");
  EXPECT_EQ(Run("MGET none"), "*1\r\n_\r\n");
  EXPECT_EQ(Run("CONFIG GET port"), "%1\r\n$4\r\nport\r\n$4\r\n6379\r\n");
  EXPECT_EQ(Run("INFO server").substr(0, 1), "=");
  EXPECT_EQ(Run("HELLO 2").substr(0, 4), "*14\r");
  EXPECT_EQ(Run("GET none"), kNil);
}

TEST_F(ServerCommandsTest, Client) {
  EXPECT_EQ(Run("CLIENT ID"), Int(static_cast<int64_t>(client_.id)));
  EXPECT_EQ(Run("CLIENT GETNAME"), kNil);
  EXPECT_EQ(RunArgs({"CLIENT", "SETNAME", "a b"}),
            "-ERR Client names cannot contain spaces, newlines or special "
            "characters.\r\n");
  EXPECT_EQ(Run("CLIENT SETNAME worker"), kOk);
  std::string list = Run("CLIENT LIST");
  EXPECT_NE(list.find("name=worker"), std::string::npos);
  EXPECT_NE(list.find("id=" + std::to_string(client_.id) + " "),
            std::string::npos);
  EXPECT_NE(Run("CLIENT INFO").find("name=worker"), std::string::npos);
  EXPECT_EQ(Run("CLIENT KILL 1.2.3.4:5"), "-ERR No such client\r\n");
  EXPECT_EQ(Run("CLIENT KILL ID 123456"), Int(0));
  EXPECT_EQ(Run("CLIENT KILL ID " + std::to_string(client_.id)),
            Int(0));  // skipme
  EXPECT_EQ(Run("CLIENT KILL ID " + std::to_string(client_.id) + " SKIPME no"),
            Int(1));
  EXPECT_TRUE(client_.kill_requested.load());
}

TEST_F(ServerCommandsTest, ClientListShowsMultiState) {
  Client other;
  other.id = state_->NextClientId();
  state_->Register(&other, [] {});
  auto line_of = [&](const Client& c) {
    std::string list = Run("CLIENT LIST");
    size_t at = list.find("id=" + std::to_string(c.id) + " ");
    EXPECT_NE(at, std::string::npos);
    return list.substr(at, list.find('\n', at) - at);
  };
  EXPECT_NE(line_of(other).find(" flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 "),
            std::string::npos);
  EXPECT_EQ(RunAs(other, {"MULTI"}), kOk);
  EXPECT_EQ(RunAs(other, {"SET", "k", "v"}), "+QUEUED\r\n");
  EXPECT_EQ(RunAs(other, {"GET", "k"}), "+QUEUED\r\n");
  EXPECT_NE(line_of(other).find(" flags=x db=0 sub=0 psub=0 ssub=0 multi=2 "),
            std::string::npos);
  EXPECT_EQ(RunAs(other, {"DISCARD"}), kOk);
  EXPECT_NE(line_of(other).find(" multi=-1 "), std::string::npos);
  state_->Unregister(&other);
}

TEST_F(ServerCommandsTest, ConfigInfoTimeSave) {
  EXPECT_EQ(Run("CONFIG GET maxclients"),
            "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n");
  EXPECT_EQ(Run("CONFIG SET maxclients 5"), kOk);
  EXPECT_EQ(Run("CONFIG GET maxclients"),
            "*2\r\n$10\r\nmaxclients\r\n$1\r\n5\r\n");
  EXPECT_EQ(
      Run("CONFIG SET maxclients x"),
      "-ERR CONFIG SET failed (possibly related to argument 'maxclients') "
      "- argument couldn't be parsed into an integer\r\n");
  EXPECT_EQ(
      Run("CONFIG SET foo 1"),
      "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n");
  EXPECT_EQ(Run("CONFIG SET port 1"),
            "-ERR CONFIG SET failed (possibly related to argument 'port') - "
            "can't set immutable config\r\n");
  EXPECT_EQ(Run("CONFIG GET save"), "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
  EXPECT_EQ(Run("CONFIG RESETSTAT"), kOk);
  EXPECT_EQ(Run("SET k v"), kOk);
  std::string info = Run("INFO");
  for (const char* section :
       {"# Server", "# Clients", "# Memory", "# Persistence", "# Stats",
        "# Keyspace", "# daxkv"}) {
    EXPECT_NE(info.find(section), std::string::npos) << section;
  }
  EXPECT_NE(info.find("db0:keys=1,expires=0"), std::string::npos);
  EXPECT_NE(info.find("backing:tmpfs"), std::string::npos) << info;
  std::string stats = Run("INFO stats");
  EXPECT_EQ(stats.find("# Server"), std::string::npos);
  EXPECT_NE(stats.find("total_commands_processed:"), std::string::npos);
  EXPECT_EQ(Run("TIME").substr(0, 4), "*2\r\n");
  EXPECT_EQ(Run("SAVE"), kOk);
  EXPECT_EQ(Run("BGSAVE"), "+Background saving started\r\n");
  EXPECT_EQ(Run("LASTSAVE").substr(0, 1), ":");
  EXPECT_EQ(Run("SHUTDOWN ABORT"), "-ERR No shutdown in progress.\r\n");
}

// TIME, INFO's clock fields and CLIENT LIST's ages read the server's clock
// (the fixture's FakeClock), never the system's.
TEST_F(ServerCommandsTest, TimeUptimeAndIdleFollowTheServersClock) {
  const int64_t start_ms = clock_.NowMs();
  ASSERT_EQ(start_ms % 1000, 0);
  clock_.AdvanceMs(5'250);
  const std::string seconds = std::to_string(start_ms / 1000 + 5);
  EXPECT_EQ(Run("TIME"), "*2\r\n" + Bulk(seconds) + Bulk("250000"));
  std::string info = Run("INFO server");
  EXPECT_NE(info.find("\r\nuptime_in_seconds:5\r\n"), std::string::npos)
      << info;
  EXPECT_NE(info.find("\r\nserver_time_usec:" + seconds + "250000\r\n"),
            std::string::npos)
      << info;
  Client other;
  other.id = state_->NextClientId();
  other.authenticated = true;
  other.created_ms = clock_.NowMs();
  other.last_interaction_ms = clock_.NowMs();
  state_->Register(&other, nullptr);
  clock_.AdvanceMs(7'000);
  std::string list = Run("CLIENT LIST");
  state_->Unregister(&other);
  const size_t line = list.find("id=" + std::to_string(other.id) + " ");
  ASSERT_NE(line, std::string::npos) << list;
  const std::string other_line =
      list.substr(line, list.find('\n', line) - line);
  EXPECT_NE(other_line.find(" age=7 idle=7 "), std::string::npos) << other_line;
}

// Redis 7.0's SHUTDOWN argument rules.
TEST_F(ServerCommandsTest, ShutdownArguments) {
  for (const char* bad :
       {"SHUTDOWN NOSAVE SAVE", "SHUTDOWN SAVE NOSAVE", "SHUTDOWN ABORT NOW",
        "SHUTDOWN NOW ABORT", "SHUTDOWN FORCE ABORT", "SHUTDOWN BOGUS",
        "SHUTDOWN NOSAVE NOSAVE ABORT"}) {
    EXPECT_EQ(Run(bad), "-ERR syntax error\r\n") << bad;
  }
  EXPECT_FALSE(client_.close_after_reply);
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("SHUTDOWN"),
            "-ERR Command not allowed inside a transaction\r\n");
  EXPECT_EQ(Run("EXEC"),
            "-EXECABORT Transaction discarded because of previous errors."
            "\r\n");
  // No shutdown handler in tests: the server reports it cannot.
  EXPECT_EQ(Run("SHUTDOWN NOSAVE NOW FORCE"),
            "-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
}

constexpr std::string_view kDebugRefused =
    "-ERR DEBUG command not allowed. If the enable-debug-command option is "
    "set to \"local\", you can run it from a local connection, otherwise "
    "you need to set this option in the configuration file, and then "
    "restart the server.\r\n";

// enable-debug-command: no (the default, as Redis 7), local, yes.
TEST_F(ServerCommandsTest, DebugNeedsEnableDebugCommand) {
  EXPECT_EQ(Run("DEBUG SLEEP 0"), kDebugRefused);
  EXPECT_EQ(Run("DEBUG"),
            "-ERR wrong number of arguments for 'debug' command\r\n");
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("DEBUG SLEEP 0"), kDebugRefused);
  EXPECT_EQ(Run("EXEC").substr(0, 11), "-EXECABORT ");
  config_.enable_debug_command = "local";
  UseDb(db_.get());
  EXPECT_EQ(Run("CONFIG GET enable-debug-command"),
            "*2\r\n$20\r\nenable-debug-command\r\n$5\r\nlocal\r\n");
  client_.addr = "127.0.0.1:5000";
  EXPECT_EQ(Run("DEBUG SLEEP 0"), kOk);
  client_.addr = "::1:5000";
  EXPECT_EQ(Run("DEBUG SLEEP 0"), kOk);
  client_.addr = "127.0.0.2:5000";  // loopback, but not "local" to Redis
  EXPECT_EQ(Run("DEBUG SLEEP 0"), kDebugRefused);
  config_.enable_debug_command = "yes";
  UseDb(db_.get());
  EXPECT_EQ(Run("DEBUG SLEEP 0"), kOk);
  EXPECT_EQ(Run("DEBUG SET-ACTIVE-EXPIRE 0"), kOk);
  EXPECT_EQ(Run("DEBUG FOO"),
            "-ERR unknown subcommand or wrong number of arguments for 'FOO'. "
            "Try DEBUG HELP.\r\n");
}

// A shutdown ends a DEBUG SLEEP at once (it used to hold the I/O thread,
// and with it SIGTERM, for the whole sleep).
TEST_F(ServerCommandsTest, DebugSleepEndsOnShutdown) {
  config_.enable_debug_command = "yes";
  UseDb(db_.get());
  std::thread stopper([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    state_->BeginShutdown();
  });
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(Run("DEBUG SLEEP 1000000"), kOk);
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(60));
}

TEST_F(ServerCommandsTest, CommandIntrospection) {
  std::string count = Run("COMMAND COUNT");
  int n = std::stoi(count.substr(1));
  EXPECT_GT(n, 60);
  EXPECT_EQ(Run("COMMAND").substr(0, count.size() - 1),
            "*" + count.substr(1, count.size() - 3) + "\r");
  std::string info = Run("COMMAND INFO get nosuch");
  EXPECT_EQ(info.substr(0, 22), "*2\r\n*10\r\n$3\r\nget\r\n:2\r\n");
  EXPECT_NE(info.find("*-1\r\n"), std::string::npos);
  EXPECT_EQ(Run("COMMAND DOCS get").substr(0, 4), "*2\r\n");
  EXPECT_EQ(Run("COMMAND GETKEYS MSET a 1 b 2"),
            "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
}

}  // namespace
}  // namespace daxkv::kv
