#include "dax/errors.h"

#include <gtest/gtest.h>
#include <libpmem2.h>

#include <cerrno>
#include <string>

#include "tests/support/status_matchers.h"

namespace daxkv::dax {
namespace {

using ::testing::HasSubstr;

TEST(DaxErrors, ErrnoStatusNamesObjectCauseAndErrno) {
  Status s = ErrnoStatus(ENOENT, "open /pool/db");
  EXPECT_THAT(s, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(s.message(), "open /pool/db: No such file or directory (ENOENT)");
}

TEST(DaxErrors, ErrnoCodeTable) {
  EXPECT_EQ(ErrnoCode(ENOSPC), StatusCode::kNoSpace);
  EXPECT_EQ(ErrnoCode(EDQUOT), StatusCode::kNoSpace);
  EXPECT_EQ(ErrnoCode(EWOULDBLOCK), StatusCode::kBusy);
  EXPECT_EQ(ErrnoCode(EBUSY), StatusCode::kBusy);
  EXPECT_EQ(ErrnoCode(EISDIR), StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrnoCode(EACCES), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrnoCode(EROFS), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrnoCode(EEXIST), StatusCode::kAlreadyExists);
  EXPECT_EQ(ErrnoCode(EOPNOTSUPP), StatusCode::kNotSupported);
  EXPECT_EQ(ErrnoCode(EIO), StatusCode::kIOError);
}

TEST(DaxErrors, UnknownErrnoStillGivesAMessage) {
  Status s = ErrnoStatus(123456, "frob /x");
  EXPECT_THAT(s, StatusIs(StatusCode::kIOError));
  EXPECT_NE(s.message().find("frob /x"), std::string::npos);
  EXPECT_NE(s.message().find("errno 123456"), std::string::npos);
}

TEST(DaxErrors, LastErrnoStatusReadsErrno) {
  errno = EACCES;
  Status s = LastErrnoStatus("open /secret");
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_NE(s.message().find("EACCES"), std::string::npos);
}

TEST(DaxErrors, Pmem2StatusCarriesLibpmem2Message) {
  pmem2_source* src = nullptr;
  const int ret = pmem2_source_from_fd(&src, -1);
  ASSERT_LT(ret, 0);
  Status s = Pmem2Status(ret, "pmem2_source_from_fd /pool");
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument,
                          HasSubstr("pmem2_source_from_fd /pool: libpmem2: ")));
  // libpmem2's own text follows, not just the number.
  EXPECT_GT(s.message().size(),
            std::string("pmem2_source_from_fd /pool: libpmem2: ").size() + 4);
}

TEST(DaxErrors, Pmem2NegatedErrnoUsesErrnoTable) {
  Status s = Pmem2Status(-ENOSPC, "map /pool");
  EXPECT_THAT(s, StatusIs(StatusCode::kNoSpace));
  EXPECT_NE(s.message().find("ENOSPC"), std::string::npos);
}

TEST(DaxErrors, Pmem2CodesMapToStatusCodes) {
  EXPECT_THAT(Pmem2Status(PMEM2_E_GRANULARITY_NOT_SUPPORTED, "x"),
              StatusIs(StatusCode::kNotSupported));
  EXPECT_THAT(Pmem2Status(PMEM2_E_OFFSET_UNALIGNED, "x"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Pmem2Status(PMEM2_E_NO_ACCESS, "x"),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(Pmem2Status(PMEM2_E_IO_FAIL, "x"),
              StatusIs(StatusCode::kIOError));
}

}  // namespace
}  // namespace daxkv::dax
