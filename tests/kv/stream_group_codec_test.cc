// The consumer-group element layout (kv/stream_group_codec.h): where its
// subkeys sort among a stream's elements, and its values' round trips.
#include "kv/stream_group_codec.h"

#include <gtest/gtest.h>

#include <string>

namespace daxkv::kv {
namespace {

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

TEST(StreamGroupCodecTest, GroupSubkeysSortBetweenMetadataAndEntries) {
  const std::string first_entry = StreamIdKey({0, 1});
  for (const std::string& sk :
       {GroupSubkey(""), GroupSubkey("g"),
        GroupSubkey(std::string(300, '\xff')), ConsumerSubkey("g", ""),
        ConsumerSubkey(std::string(5, '\xff'), "\xff"),
        PendingSubkey("g", {0, 0}), PendingSubkey("g", kMaxStreamId)}) {
    EXPECT_GT(sk, std::string()) << sk;
    EXPECT_LT(sk, first_entry) << sk;
    EXPECT_GT(sk.size(), 16u);
    EXPECT_TRUE(StartsWith(sk, std::string(GroupStatePrefix())));
    EXPECT_LT(sk, GroupStateEnd());
  }
}

TEST(StreamGroupCodecTest, OneGroupsElementsAreOneRange) {
  // "a"'s consumers and pending entries never interleave with "ab"'s: the
  // group name is length-prefixed.
  EXPECT_FALSE(StartsWith(ConsumerSubkey("ab", "x"), ConsumerPrefix("a")));
  EXPECT_FALSE(StartsWith(PendingSubkey("ab", {1, 1}), PendingPrefix("a")));
  EXPECT_TRUE(StartsWith(PendingSubkey("a", {1, 1}), PendingPrefix("a")));
  // Pending entries in ID order, consumers in name (byte) order.
  EXPECT_LT(PendingSubkey("g", {1, 9}), PendingSubkey("g", {2, 0}));
  EXPECT_LT(PendingSubkey("g", {0, 255}), PendingSubkey("g", {0, 256}));
  EXPECT_LT(ConsumerSubkey("g", "a"), ConsumerSubkey("g", "ab"));
  EXPECT_LT(ConsumerSubkey("g", "z"), ConsumerSubkey("g", "\x80"));
  EXPECT_TRUE(StartsWith(GroupSubkey("name"), GroupsPrefix()));
}

TEST(StreamGroupCodecTest, ValuesRoundTripAndWrongSizesAreRejected) {
  GroupState g{{1700000000000, 7}, kUnknownEntriesRead}, g2;
  ASSERT_TRUE(DecodeGroupState(EncodeGroupState(g), &g2));
  EXPECT_EQ(g2.last_id, g.last_id);
  EXPECT_EQ(g2.entries_read, -1);
  EXPECT_FALSE(DecodeGroupState(EncodeGroupState(g) + "x", &g2));

  ConsumerState c{1234}, c2;
  ASSERT_TRUE(DecodeConsumerState(EncodeConsumerState(c), &c2));
  EXPECT_EQ(c2.seen_time_ms, 1234);
  EXPECT_FALSE(DecodeConsumerState("short", &c2));

  PendingState p{99, 3, std::string("con\0sumer", 9)}, p2;
  ASSERT_TRUE(DecodePendingState(EncodePendingState(p), &p2));
  EXPECT_EQ(p2.delivery_time_ms, 99);
  EXPECT_EQ(p2.delivery_count, 3u);
  EXPECT_EQ(p2.consumer, p.consumer);
  PendingState empty{1, 1, ""};
  ASSERT_TRUE(DecodePendingState(EncodePendingState(empty), &p2));
  EXPECT_EQ(p2.consumer, "");
  EXPECT_FALSE(DecodePendingState(std::string(15, 'x'), &p2));
}

}  // namespace
}  // namespace daxkv::kv
