// The two framings of a full-sync payload, split at every byte, with the
// master's command stream following in the same reads.
#include "rdb/sync_payload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rdb/writer.h"
#include "tests/rdb/rdb_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::rdb {
namespace {

using ::testing::HasSubstr;
using testing::RecordingVisitor;

const std::string kMark = "0123456789abcdef0123456789abcdef01234567";
const std::string kCommands = "*1\r\n$4\r\nPING\r\n";

std::string SmallRdb() {
  std::string out;
  RdbWriter w([&](std::string_view p) {
    out.append(p);
    return OkStatus();
  });
  EXPECT_OK(w.Begin({}));
  EXPECT_OK(w.SelectDb(0, 2, 1));
  EXPECT_OK(w.WriteKey("a", std::string("1"), std::nullopt));
  EXPECT_OK(w.WriteKey("b", List{{"x", "y"}}, 1700000000000));
  EXPECT_OK(w.Finish());
  return out;
}

// Feeds `wire` split at `split`; returns the bytes left for the caller.
StatusOr<std::string> FeedWire(const std::string& wire, size_t split,
                               RecordingVisitor* v, bool* diskless) {
  RdbStreamReader rdb(v);
  SyncPayloadReader sync(&rdb);
  std::string rest;
  for (std::string_view part : {std::string_view(wire).substr(0, split),
                                std::string_view(wire).substr(split)}) {
    size_t used = 0;
    DAXKV_RETURN_IF_ERROR(sync.Feed(part, &used));
    rest.append(part.substr(used));
  }
  DAXKV_RETURN_IF_ERROR(sync.Finish());
  *diskless = sync.diskless();
  return rest;
}

TEST(SyncPayloadTest, BothFramingsAtEverySplit) {
  const std::string rdb = SmallRdb();
  const std::string disk =
      "\n\n$" + std::to_string(rdb.size()) + "\r\n" + rdb + kCommands;
  const std::string diskless =
      "\n$EOF:" + kMark + "\r\n" + rdb + kMark + kCommands;
  for (const std::string* wire : {&disk, &diskless}) {
    for (size_t split = 0; split <= wire->size(); ++split) {
      RecordingVisitor v;
      bool is_diskless = false;
      ASSERT_OK_AND_ASSIGN(std::string rest,
                           FeedWire(*wire, split, &v, &is_diskless));
      EXPECT_EQ(rest, kCommands) << split;
      EXPECT_EQ(is_diskless, wire == &diskless);
      EXPECT_EQ(v.keys.size(), 2u);
    }
  }
}

TEST(SyncPayloadTest, FramingErrors) {
  const std::string rdb = SmallRdb();
  RecordingVisitor v;
  bool d;
  EXPECT_THAT(
      FeedWire("-ERR no sync for you\r\n", 3, &v, &d),
      StatusIs(StatusCode::kFailedPrecondition, HasSubstr("no sync for you")));
  EXPECT_THAT(FeedWire("+OK\r\n", 1, &v, &d),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("'$'")));
  EXPECT_THAT(FeedWire("$12x\r\n", 1, &v, &d),
              StatusIs(StatusCode::kFailedPrecondition));
  // The announced length ends inside the RDB, or after it.
  EXPECT_THAT(
      FeedWire("$" + std::to_string(rdb.size() - 1) + "\r\n" + rdb, 3, &v, &d),
      StatusIs(StatusCode::kCorruption, HasSubstr("inside the RDB")));
  EXPECT_THAT(
      FeedWire("$" + std::to_string(rdb.size() + 2) + "\r\n" + rdb + "xx", 3,
               &v, &d),
      StatusIs(StatusCode::kCorruption, HasSubstr("before the announced")));
  // A wrong end mark.
  std::string wrong = kMark;
  wrong[39] = 'x';
  EXPECT_THAT(FeedWire("$EOF:" + kMark + "\r\n" + rdb + wrong, 3, &v, &d),
              StatusIs(StatusCode::kCorruption, HasSubstr("end mark")));
  // The link closes early.
  EXPECT_THAT(FeedWire("$EOF:" + kMark + "\r\n" + rdb.substr(0, 20), 3, &v, &d),
              StatusIs(StatusCode::kIOError));
  EXPECT_THAT(FeedWire("\n\n", 1, &v, &d), StatusIs(StatusCode::kIOError));
}

}  // namespace
}  // namespace daxkv::rdb
