// process_holds_any(): finds a memfd held by fd or by mapping only, and nothing once both are gone.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/process_refs.hpp"

using kvmemu::daemon::FileId;
using kvmemu::daemon::process_holds_any;

namespace {

TEST(ProcessRefs, FdThenMappingThenNothing) {
    int fd = ::memfd_create("probe", MFD_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 4096), 0);
    struct stat st {};
    ASSERT_EQ(::fstat(fd, &st), 0);
    const FileId id{st.st_dev, st.st_ino};
    EXPECT_TRUE(process_holds_any(::getpid(), std::span(&id, 1)));
    void* p = ::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
    ASSERT_NE(p, MAP_FAILED);
    ::close(fd);
    EXPECT_TRUE(process_holds_any(::getpid(), std::span(&id, 1)));  // the mapping alone
    ::munmap(p, 4096);
    EXPECT_FALSE(process_holds_any(::getpid(), std::span(&id, 1)));
    EXPECT_FALSE(process_holds_any(0, std::span(&id, 1)));
}

}  // namespace
