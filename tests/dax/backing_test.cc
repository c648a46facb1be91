#include "dax/backing.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "tests/dax/region_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::dax {
namespace {

using testing::TempPaths;

std::string MakeFile(TempPaths& paths, const std::string& dir) {
  const std::string path = paths.Make(dir);
  const int fd = open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  EXPECT_GE(fd, 0) << path;
  close(fd);
  return path;
}

TEST(Backing, DevShmFileIsTmpfs) {
  TempPaths paths;
  const std::string path = MakeFile(paths, "/dev/shm");
  auto backing = ClassifyPath(path);
  ASSERT_OK(backing);
  EXPECT_EQ(backing->kind, BackingKind::kTmpfs);
  EXPECT_EQ(backing->fs_type, "tmpfs");
  EXPECT_EQ(backing->mount_point, "/dev/shm");
  EXPECT_FALSE(backing->dax);
  EXPECT_EQ(backing->FilesystemDescription().rfind("tmpfs on ", 0), 0u);
}

TEST(Backing, FdAndPathAgree) {
  TempPaths paths;
  const std::string path = MakeFile(paths, "/tmp");
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto by_fd = ClassifyFd(fd, path);
  auto by_path = ClassifyPath(path);
  close(fd);
  ASSERT_OK(by_fd);
  ASSERT_OK(by_path);
  EXPECT_EQ(by_fd->kind, by_path->kind);
  EXPECT_EQ(by_fd->fs_type, by_path->fs_type);
  EXPECT_EQ(by_fd->fs_source, by_path->fs_source);
  EXPECT_FALSE(by_fd->fs_type.empty());
}

TEST(Backing, RejectsWhatCannotBeAPool) {
  EXPECT_THAT(ClassifyPath("/dev/null"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ClassifyPath("/"), StatusIs(StatusCode::kInvalidArgument));
  auto missing = ClassifyPath("/dev/shm/daxkv-no-such-file");
  EXPECT_THAT(missing, StatusIs(StatusCode::kNotFound));
  EXPECT_NE(missing.status().message().find("/dev/shm/daxkv-no-such-file"),
            std::string::npos);
  EXPECT_FALSE(IsDevDax(makedev(1, 3)));  // /dev/null
}

TEST(Backing, FindFlockHolderFindsThisProcess) {
  TempPaths paths;
  const std::string path = MakeFile(paths, "/dev/shm");
  const int reader = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  const int writer = open(path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_TRUE(reader >= 0 && writer >= 0);
  EXPECT_EQ(FindFlockHolder(writer).pid, -1);
  ASSERT_EQ(flock(reader, LOCK_SH | LOCK_NB), 0);
  FlockHolder holder = FindFlockHolder(writer);
  EXPECT_EQ(holder.pid, getpid());
  EXPECT_FALSE(holder.exclusive);
  ASSERT_EQ(flock(reader, LOCK_UN), 0);
  ASSERT_EQ(flock(writer, LOCK_EX | LOCK_NB), 0);
  holder = FindFlockHolder(reader);
  EXPECT_EQ(holder.pid, getpid());
  EXPECT_TRUE(holder.exclusive);
  close(reader);
  close(writer);
}

TEST(Backing, MapSyncInEffectReadsVmFlags) {
  TempPaths paths;
  const std::string path = MakeFile(paths, "/dev/shm");
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 4096), 0);
  void* plain = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
  ASSERT_NE(plain, MAP_FAILED);
  EXPECT_EQ(MapSyncInEffect(plain), 0);
  // tmpfs refuses MAP_SYNC, so no mapping here can carry "sf".
  EXPECT_EQ(
      mmap(nullptr, 4096, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0),
      MAP_FAILED);
  munmap(plain, 4096);
  close(fd);
  EXPECT_EQ(MapSyncInEffect(reinterpret_cast<void*>(uintptr_t{4096})), -1);
}

}  // namespace
}  // namespace daxkv::dax
