// Exclusive use across processes: a "server" child holds the region
// read-write; this process then sees Busy for read-write and a working,
// flagged read-only view (what the inspection tool relies on).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "dax/region.h"
#include "tests/dax/region_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::dax {
namespace {

using ::testing::HasSubstr;

using testing::TempPaths;

// Forks a child that opens `path` read-write, writes `marker` at offset 0,
// persists it, reports readiness, and holds the region until release().
class HolderProcess {
 public:
  HolderProcess(const std::string& path, const std::string& marker) {
    int ready[2], release[2];
    if (pipe(ready) != 0 || pipe(release) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(ready[0]);
      close(release[1]);
      auto region = OpenRegion(path, OpenOptions());
      char ok = region.ok() ? 'y' : 'n';
      if (region.ok()) {
        // Durability: the marker is persisted before the parent looks.
        (*region)->Copy((*region)->data(), marker.data(), marker.size());
      }
      if (write(ready[1], &ok, 1) != 1) _exit(2);
      char c;
      while (read(release[0], &c, 1) > 0) {
      }
      _exit(0);
    }
    close(ready[1]);
    close(release[0]);
    release_fd_ = release[1];
    char ok = 'n';
    started_ = read(ready[0], &ok, 1) == 1 && ok == 'y';
    close(ready[0]);
  }
  ~HolderProcess() { Release(); }

  bool started() const { return started_; }
  pid_t pid() const { return pid_; }

  void Release() {
    if (release_fd_ >= 0) close(release_fd_);
    release_fd_ = -1;
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int release_fd_ = -1;
  bool started_ = false;
};

TEST(RegionLock, OtherProcessHoldingRegionMeansBusyNamingItsPid) {
  TempPaths paths;
  const std::string path = paths.Make("/dev/shm");
  { ASSERT_OK(OpenRegion(path, testing::CreateOptions(1 << 20))); }
  HolderProcess holder(path, "held");
  ASSERT_TRUE(holder.started());
  auto rw = OpenRegion(path, OpenOptions());
  ASSERT_THAT(rw, StatusIs(StatusCode::kBusy, HasSubstr(path)));
  EXPECT_NE(rw.status().message().find("pid " + std::to_string(holder.pid())),
            std::string::npos)
      << rw.status().ToString();

  const OpenOptions ro_options = testing::ReadOnlyOptions();
  auto ro = OpenRegion(path, ro_options);
  ASSERT_OK(ro);
  EXPECT_TRUE((*ro)->info().in_use_elsewhere);
  EXPECT_TRUE((*ro)->info().read_only);
  EXPECT_EQ(std::string((*ro)->data(), 4), "held");

  holder.Release();
  ro->reset();
  auto after = OpenRegion(path, OpenOptions());
  EXPECT_OK(after);
}

}  // namespace
}  // namespace daxkv::dax
